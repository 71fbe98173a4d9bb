"""The paper's released code's definitions, where they differ from duolib's, as options.

The released code (github.com/timgzhou/asymmetric-duos, commit d0f2efa) computes several
quantities differently from the paper's text or from duolib's deliberate choices (see the book's
method page). Each function here re-implements one released formula from its description, so the
fidelity appendix can measure the effect of every difference on the same logits. None of them is
duolib's default; duolib's own definitions live in ``duolib.metrics`` and ``duolib.duo``.

* ``risks``/``aurc``/``eaurc``: risk of the k most certain samples after numpy's default
  (unstable) argsort, so tied uncertainties are ordered arbitrarily (duolib averages over ties).
* ``sac``: the largest k whose risk is <= 1 - t, with t taken from ``np.arange(0.90, 0.991,
  0.01)``: t = 0.98 is 0.9800000000000001 there, so a risk of exactly 0.02 fails (float bug;
  ``threshold_bug=False`` uses t exactly).
* deep ensembles average the members' logits with no temperature step: that is
  ``duolib.baselines.ensembles.pooled_logits`` alone, without ``pool_then_calibrate``.
* ``macro_f1``: scikit-learn's macro-F1 over classes in labels or predictions (WILDS: labels).
* ``brier``: scikit-learn's ``brier_score_loss`` on the flattened one-hot matrix, i.e. duolib's
  per-sample Brier divided by the number of classes.
* ``nll``: scikit-learn's ``log_loss`` on probabilities (clipped away from 0).
* ``ece``: 15 bins on the *maximum* probability, whatever the reported prediction (for the
  UQ-only Duo duolib bins ``p_duo[f_large's class]``).
* ``unweighted_logits``: the "logit average" ablation averages *temperature-scaled* logits
  (the paper's text: raw logits, T = 0.5).
* ``duo_uncertainty``: the Duo rows read the softmax response at f_large's argmax, not at the
  Duo's own prediction.
* ``fit_duo``: temperatures (T_large, T_small) of ``(z_large / T_large + z_small / T_small) / 2``
  chosen on a grid (0.05 to 5 in steps of 0.2), then refined by L-BFGS (lr 0.01, 50
  iterations); duolib solves the same convex problem exactly, with weights allowed to reach 0.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import brier_score_loss, f1_score, log_loss

from . import metrics
from ._checks import as_tensor, check_labels, check_pair, check_scores
from .duo import Duo
from .metrics import check_selective

# The SAC targets of the released code, in floating point as np.arange makes them.
SAC_LEVELS = np.arange(0.90, 0.991, 0.01)


def risks(correct, uncertainty) -> np.ndarray:
    """Error rate of the k most certain samples, k = 1..N, in numpy's default sort order."""
    correct_arr, unc = check_selective(correct, uncertainty)
    order = np.argsort(unc)  # numpy's default quicksort: ties in no guaranteed order
    return np.cumsum(~correct_arr[order]) / np.arange(1, correct_arr.size + 1)


def aurc(correct, uncertainty) -> float:
    """The mean of ``risks``: AURC as the released code computes it."""
    return float(risks(correct, uncertainty).mean())


def eaurc(correct, uncertainty) -> float:
    """``aurc`` minus the same mean over the correct-first order of the same predictions."""
    correct_arr, _ = check_selective(correct, uncertainty)
    ideal = np.sort(correct_arr)[::-1]  # every correct prediction first
    optimal = np.cumsum(~ideal) / np.arange(1, ideal.size + 1)
    return aurc(correct, uncertainty) - float(optimal.mean())


def sac(correct, uncertainty, accuracy: float = 0.98, threshold_bug: bool = True) -> float:
    """SAC as released: (last k with risk_k <= 1 - t) / N on the curve of ``risks``.

    ``threshold_bug=True``: t is the released target nearest to ``accuracy`` in ``SAC_LEVELS``
    (0.98 -> 0.9800000000000001, so a risk of exactly 0.02 fails); ``False``: t = ``accuracy``
    exactly, the released formula without the float bug.
    """
    level = accuracy
    if threshold_bug:
        level = float(SAC_LEVELS[np.argmin(np.abs(SAC_LEVELS - accuracy))])
    curve = risks(correct, uncertainty)
    valid = np.flatnonzero(curve <= 1 - level)
    return float((valid.max() + 1) / curve.size) if valid.size else 0.0


def _probabilities(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs_t = check_scores(probs, "probs")
    labels_t = check_labels(labels, probs_t.shape[0], probs_t.shape[1])
    return probs_t.to(torch.float64).cpu().numpy(), labels_t.numpy()


def brier(probs, labels) -> float:
    """scikit-learn's Brier score on the flattened one-hot matrix (mean over N x K entries)."""
    p, y = _probabilities(probs, labels)
    onehot = np.eye(p.shape[1])[y]
    return float(brier_score_loss(onehot.reshape(-1), p.reshape(-1)))


def nll(probs, labels) -> float:
    """scikit-learn's ``log_loss`` of probability rows (clipped away from 0 and 1)."""
    p, y = _probabilities(probs, labels)
    return float(log_loss(y, p, labels=list(range(p.shape[1]))))


def ece(probs, labels, num_bins: int = 15) -> float:
    """ECE on the maximum probability and its argmax (``metrics.ece``'s bins), whatever class
    the system reports."""
    p, y = _probabilities(probs, labels)
    return metrics.ece(p.argmax(axis=1) == y, p.max(axis=1), num_bins)


def unweighted_logits(large_logits, small_logits, large_temperature, small_temperature):
    """The released "logit average": the mean of the two temperature-scaled logit matrices."""
    for name, value in (("large", large_temperature), ("small", small_temperature)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name}_temperature must be finite and > 0, got {value}")
    large_t, small_t = check_pair(large_logits, small_logits)
    dtype = torch.promote_types(large_t.dtype, torch.float32)
    return (large_t.to(dtype) / large_temperature + small_t.to(dtype) / small_temperature) / 2


def macro_f1(labels, prediction) -> float:
    """The released macro-F1: scikit-learn's ``f1_score(average="macro")`` without ``labels=``
    (classes present in labels or predictions), duolib's default; WILDS averages over the
    classes present in the labels (``duolib.metrics.macro_f1(..., over="labels")``)."""
    return float(f1_score(np.asarray(labels), np.asarray(prediction), average="macro"))


def duo_uncertainty(large_logits, small_logits, duo: Duo) -> np.ndarray:
    """The released Duo rows' softmax response: ``1 - p_duo[argmax f_large]``."""
    if not isinstance(duo, Duo):
        raise ValueError(f"duo must be a Duo (from fit_duo), got {type(duo).__name__}")
    large_t = as_tensor(large_logits, "large logits")
    combined = duo.combine(large_logits, small_logits).to(torch.float64)
    at = large_t.argmax(dim=1)
    return (1 - torch.softmax(combined, dim=1).gather(1, at[:, None])[:, 0]).cpu().numpy()


# The released joint grid of Duo temperatures (float32, as torch.arange makes it).
DUO_GRID = torch.arange(0.05, 5.05, 0.2)


def fit_duo(large_logits, small_logits, labels) -> Duo:
    """The released joint temperature fit, as a ``Duo``: ``w = 1 / (2 T)`` for each member.

    Grid search over ``DUO_GRID`` x ``DUO_GRID`` (the first of equal NLLs wins), then L-BFGS on
    both temperatures from the grid's best (lr 0.01, at most 50 iterations), in float32.
    """
    large_t, small_t = check_pair(large_logits, small_logits)
    labels_t = check_labels(labels, large_t.shape[0], large_t.shape[1])
    large_t, small_t = large_t.to(torch.float32), small_t.to(torch.float32)

    def nll(t_large, t_small):
        return F.cross_entropy((large_t / t_large + small_t / t_small) / 2, labels_t)

    best, best_pair = float("inf"), (1.0, 1.0)
    with torch.no_grad():
        for t_large in DUO_GRID:
            for t_small in DUO_GRID:
                value = nll(t_large, t_small).item()
                if value < best:
                    best, best_pair = value, (t_large.item(), t_small.item())
    temperatures = torch.tensor(best_pair, requires_grad=True)
    optimizer = torch.optim.LBFGS([temperatures], lr=0.01, max_iter=50)

    def closure():
        optimizer.zero_grad()
        loss = nll(temperatures[0], temperatures[1])
        loss.backward()
        return loss

    optimizer.step(closure)
    t_large, t_small = (float(t) for t in temperatures.detach())
    with torch.no_grad():
        final = nll(t_large, t_small).item()
    return Duo(w_large=1 / (2 * t_large), w_small=1 / (2 * t_small), val_nll=final)
