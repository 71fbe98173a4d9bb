"""Input checks shared by the numerical modules.

Every public function that takes logits or labels goes through here, so that bad input fails
early with a message that names the problem, instead of an IndexError or a silent wrong number
deep inside a computation.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor

# Rows processed at a time by every chunked pass (Duo fitting, evaluate, uncertainties): 512 x
# 1000 float32 is 2 MB per matrix, so a chunk's elementwise passes run in cache and temporaries
# never approach the size of a full ImageNet logit matrix (measured fastest on 2 cores among
# 128-4096 rows).
CHUNK_ROWS = 512


def as_tensor(x, name: str) -> torch.Tensor:
    """A torch view of ``x`` without copying where possible (numpy and torch both accepted)."""
    if isinstance(x, torch.Tensor):
        return x.detach()
    array = x if isinstance(x, np.ndarray) else np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    try:
        return torch.from_numpy(np.ascontiguousarray(array))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} is not a numeric array: {err}") from None


def check_scores(x, name: str = "logits") -> torch.Tensor:
    """A 2-D, non-empty, finite floating matrix of shape (samples, classes)."""
    t = as_tensor(x, name)
    if t.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, classes), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 samples)")
    if t.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 classes, got {t.shape[1]}")
    if not t.is_floating_point():
        t = t.to(torch.float64)
    # min and max propagate NaN and reach +-inf if any entry does; one fast reduction instead of
    # a full-size isfinite mask, which is only built to count the culprits.
    if not bool(torch.isfinite(torch.stack(torch.aminmax(t))).all()):
        bad = int((~torch.isfinite(t)).sum())
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite values")
    return t


def looks_like_probabilities(t: torch.Tensor, tolerance: float = 1e-3) -> bool:
    """Whether every row of a checked score matrix is a probability vector."""
    low, high = (float(v) for v in torch.aminmax(t))
    if low < 0 or high > 1:
        return False
    return bool(((t.sum(dim=1, dtype=torch.float64) - 1).abs() <= tolerance).all())


def warn_if_probabilities(t: torch.Tensor, name: str) -> None:
    """Fits of temperatures and Duo weights expect logits; probabilities give wrong weights."""
    if looks_like_probabilities(t):
        warnings.warn(
            f"{name} look like probabilities (rows in [0, 1] summing to 1); this fit expects "
            "logits (pass the model's outputs before softmax, or log-probabilities)",
            UserWarning,
            stacklevel=3,
        )


def check_labels(labels, num_samples: int, num_classes: int, name: str = "labels") -> torch.Tensor:
    """Integer class indices in [0, num_classes), one per sample, as an int64 CPU tensor."""
    t = as_tensor(labels, name)
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(t.shape)}")
    if t.shape[0] != num_samples:
        raise ValueError(f"{name} has {t.shape[0]} entries but the scores have {num_samples} rows")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            raise ValueError(f"{name} must hold integer class indices")
    elif t.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer class indices, got booleans")
    t = t.to(torch.int64).cpu()
    if t.numel() and int(t.min()) < 0:
        raise ValueError(f"{name} contains negative class indices (min {int(t.min())})")
    if t.numel() and int(t.max()) >= num_classes:
        raise ValueError(
            f"{name} contains class index {int(t.max())} but there are only {num_classes} classes"
        )
    return t


def check_pair(large, small) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of the two members of a Duo: both valid and of the same shape."""
    large_t = check_scores(large, "large logits")
    small_t = check_scores(small, "small logits")
    if large_t.shape[0] != small_t.shape[0]:
        raise ValueError(
            f"large and small logits have different numbers of samples: "
            f"{large_t.shape[0]} vs {small_t.shape[0]}"
        )
    if large_t.shape[1] != small_t.shape[1]:
        raise ValueError(
            f"large and small logits have different numbers of classes: "
            f"{large_t.shape[1]} vs {small_t.shape[1]}"
        )
    return large_t, small_t


def check_vector(x, num_samples: int, name: str, integer: bool = False) -> np.ndarray:
    """A finite 1-D per-sample vector (an uncertainty or a prediction) as numpy."""
    t = as_tensor(x, name)
    if t.ndim != 1 or t.shape[0] != num_samples:
        raise ValueError(f"{name} must have shape ({num_samples},), got {tuple(t.shape)}")
    arr = t.cpu().numpy()
    if integer:
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise ValueError(f"{name} must hold integer class indices")
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold integer class indices")
        return arr.astype(np.int64)
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def row_chunks(num_rows: int, chunk_rows: int = CHUNK_ROWS):
    """Slices that cover range(num_rows) in order."""
    for start in range(0, num_rows, chunk_rows):
        yield slice(start, min(start + chunk_rows, num_rows))
