"""Per-sample uncertainty scores from logits: softmax response and predictive entropy.

Both are computed in float64 from the logits, not from float32 probabilities: a float32 softmax
saturates at 1.0 for confident predictions, which turns distinct confidences into ties and makes
ranking metrics (AUROC, AURC, SAC) depend on how ties are broken.
"""

from __future__ import annotations

import numpy as np
import torch

from ._checks import row_chunks

UNCERTAINTY_KINDS = ("softmax", "entropy")


def check_kind(kind: str) -> str:
    if kind not in UNCERTAINTY_KINDS:
        raise ValueError(f"uncertainty must be one of {UNCERTAINTY_KINDS}, got {kind!r}")
    return kind


def from_logits(logits: torch.Tensor, kind: str = "softmax", at=None) -> np.ndarray:
    """Uncertainty of each row of (checked) ``logits``.

    ``softmax``: ``1 - p[at]``, where ``at`` defaults to the argmax class (the softmax response,
    Eq. 1 of the paper); pass ``at`` to score another prediction (the UQ-only Duo).
    ``entropy``: ``-sum_c p_c log p_c`` in nats; ``at`` plays no role.
    """
    check_kind(kind)
    out = np.empty(logits.shape[0], dtype=np.float64)
    at_t = None if at is None else torch.as_tensor(np.asarray(at), dtype=torch.int64)
    for rows in row_chunks(logits.shape[0]):
        log_p = torch.log_softmax(logits[rows].to(torch.float64), dim=1)
        if kind == "softmax":
            if at_t is None:
                chosen = log_p.max(dim=1).values
            else:
                chosen = log_p.gather(1, at_t[rows].to(log_p.device)[:, None])[:, 0]
            # -expm1(log p) = 1 - p without cancellation when p is close to 1.
            out[rows] = (-torch.expm1(chosen)).cpu().numpy()
        else:
            out[rows] = (-(log_p.exp() * log_p).sum(dim=1)).cpu().numpy()
    return out
