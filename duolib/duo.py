"""The Asymmetric Duo: ``w_large * f_large + w_small * f_small`` with weights fitted on val NLL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import uncertainty as _uncertainty
from ._checks import check_labels, check_pair, row_chunks, warn_if_probabilities
from .logit_weights import W_MAX, fit_weights

MODES = ("weighted", "unweighted", "uq_only")


@dataclass(frozen=True)
class Duo:
    """Fitted weights of a Duo (the paper's T_large and T_small) and the validation NLL they reach.

    ``val_nll`` is computed in the logits' precision (from float32 logits, to about 1e-8).
    ``combine`` applies the weights to any logits of the same two models.
    """

    w_large: float
    w_small: float
    val_nll: float

    def __post_init__(self):
        for name in ("w_large", "w_small"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {value}")

    def combine(self, large_logits, small_logits) -> torch.Tensor:
        """Duo logits ``w_large * large_logits + w_small * small_logits`` (float32 or wider)."""
        large_t, small_t = check_pair(large_logits, small_logits)
        dtype = torch.promote_types(
            torch.promote_types(large_t.dtype, small_t.dtype), torch.float32
        )
        return self.w_large * large_t.to(dtype) + self.w_small * small_t.to(dtype)

    @property
    def weight_ratio(self) -> float:
        """``w_large / w_small`` (the paper's Figure 10); infinite when the sidekick is dropped."""
        return self.w_large / self.w_small if self.w_small > 0 else float("inf")


# The paper's unweighted ablation: both members' raw logits averaged.
UNWEIGHTED = Duo(0.5, 0.5, float("nan"))


def fit_duo(large_logits, small_logits, labels) -> Duo:
    """The two non-negative weights minimising the NLL of the combined logits on (val) data.

    Solved exactly (the NLL is convex in the weights) with a projected Newton method; a sidekick
    that does not help gets ``w_small == 0`` and the Duo is then the temperature-scaled f_large.
    """
    large_t, small_t = check_pair(large_logits, small_logits)
    warn_if_probabilities(large_t, "large logits")
    warn_if_probabilities(small_t, "small logits")
    labels_t = check_labels(labels, large_t.shape[0], large_t.shape[1])
    # Starting from f_large alone keeps w_small at exactly 0 when the sidekick is irrelevant
    # (e.g. constant logits, where every w_small gives the same NLL).
    fit = fit_weights([large_t, small_t], labels_t, lower=0.0, upper=W_MAX, init=[1.0, 0.0])
    w_large, w_small = (float(v) for v in fit.weights)
    return Duo(w_large=w_large, w_small=w_small, val_nll=fit.nll)


def _argmax(logits: torch.Tensor) -> np.ndarray:
    out = np.empty(logits.shape[0], dtype=np.int64)
    for rows in row_chunks(logits.shape[0]):
        out[rows] = logits[rows].argmax(dim=1).cpu().numpy()
    return out


def combined_logits(large_logits, small_logits, duo: Duo | None, mode: str) -> torch.Tensor:
    """The logits a Duo in ``mode`` predicts from (see ``predict``).

    ``unweighted``: the mean of the raw logits (the paper's T_large = T_small = 0.5; ``duo`` is
    not used); ``weighted`` and ``uq_only``: ``duo.combine``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "unweighted":
        return UNWEIGHTED.combine(large_logits, small_logits)
    if duo is None:
        raise ValueError(f"mode {mode!r} needs a fitted Duo (from fit_duo)")
    if not isinstance(duo, Duo):
        raise ValueError(f"duo must be a Duo (from fit_duo), got {type(duo).__name__}")
    return duo.combine(large_logits, small_logits)


def predict(
    large_logits,
    small_logits,
    duo: Duo | None = None,
    mode: str = "weighted",
    uncertainty: str = "softmax",
) -> tuple[np.ndarray, np.ndarray]:
    """Class predictions and uncertainties of a Duo in one of the paper's three modes.

    * ``weighted`` (the paper's method): argmax and uncertainty of ``duo.combine(large, small)``.
    * ``unweighted`` (ablation, T_large = T_small = 0.5): the mean of the raw logits; ``duo``
      is not used.
    * ``uq_only`` (ablation): the class predicted by f_large, with the uncertainty the weighted
      Duo assigns to that class (``1 - p_duo[class]``, or the Duo's entropy).
    """
    _uncertainty.check_kind(uncertainty)
    large_t, small_t = check_pair(large_logits, small_logits)
    combined = combined_logits(large_t, small_t, duo, mode)
    if mode == "uq_only":
        prediction = _argmax(large_t)
        return prediction, _uncertainty.from_logits(combined, uncertainty, at=prediction)
    return _argmax(combined), _uncertainty.from_logits(combined, uncertainty)
