"""Metrics on the units of the paper's tables, for side-by-side comparison.

The paper reports accuracy, F1, ECE, AUROC, AURC and SAC in percent, NLL x 100, and Brier as the
mean over the one-hot-flattened (N x K) matrix (scikit-learn's ``brier_score_loss`` on flattened
arrays, i.e. our per-sample Brier divided by K) times 10^4. Check against Table 1: ResNet-50 on
ImageNet (K = 1000) has a per-sample Brier near 0.29, which is 0.29 / 1000 * 1e4 = 2.9 there.
"""

from __future__ import annotations

PERCENT = ("accuracy", "macro_f1", "ece", "auroc", "aurc", "eaurc", "augrc")


def to_paper_scale(metrics: dict[str, float], num_classes: int) -> dict[str, float]:
    """A copy of ``metrics`` (from ``evaluate``) in the paper's units; unknown keys pass through."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    scaled = {}
    for name, value in metrics.items():
        if name in PERCENT or name.startswith("sac_"):
            scaled[name] = 100.0 * value
        elif name == "nll":
            scaled[name] = 100.0 * value
        elif name == "brier":
            scaled[name] = value / num_classes * 1e4
        else:
            scaled[name] = value
    return scaled
