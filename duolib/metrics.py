"""Accuracy, proper scores, calibration and selective-classification metrics.

All metrics are fractions (accuracy 0.81, not 81%); ``to_paper_scale`` converts them to the
units of the paper's tables. ``METRICS`` is the one registry of metrics: each row knows its
direction, its labels, its paper unit and its perfect value, and tables, plots, the bootstrap and
the claims all read it. Adding a metric is one function and one row.

Conventions, chosen deliberately (see the book's method page):

* **Uncertainty** is ``1 - p[predicted class]`` (softmax response) unless an ``uncertainty``
  vector is passed (entropy, or a Duo's uncertainty for another model's prediction).
* **Ties in uncertainty** never make a metric depend on sample order. A block of tied
  uncertainties is one point of the risk–coverage curve (it is accepted or rejected as a whole).
* **AURC** = ``mean_k r_k``, with ``r_k`` the error rate of the k most certain samples
  (Geifman et al. 2019; exactly the paper's released code). With ties, ``r_k`` is its
  expectation over random orders of the tied samples (errors spread evenly through the block),
  so AURC is the paper's value averaged over all tie-breaks.
* **E-AURC** = AURC minus the AURC of the oracle ordering (all correct predictions first),
  computed with the same discrete sum, so it is >= 0 (the paper's code; not Geifman's
  closed form, which can make E-AURC negative at small N).
* **AUGRC** (Traub et al. 2024) = area under the generalised risk (errors accepted / N) against
  coverage, by the trapezoid rule from (0, 0), the convention of fd-shifts. Within a tie block the
  generalised risk grows linearly in expectation, which is what the trapezoid integrates.
* **SAC@a** = the largest coverage (at a step end) whose selective accuracy is >= a, else 0.
  Compared in exact arithmetic on counts, so a risk of exactly 1 - a qualifies.
* **ECE**: 15 equal-width confidence bins (lower, upper], confidence = ``p[prediction]``.
* **Brier**: mean over samples of ``sum_c (p_c - onehot_c)^2`` (0 to 2). The paper's tables use
  the one-hot-flattened mean, which is this value divided by the number of classes.
* **Correctness AUROC**: probability that a random correct prediction is less uncertain than a
  random wrong one (ties count one half); NaN when all predictions are correct or all wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from scipy.stats import rankdata

from . import uncertainty as _uncertainty
from ._checks import (
    check_labels,
    check_scores,
    check_vector,
    looks_like_probabilities,
    row_chunks,
)

SAC_LEVELS = (0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99)
ECE_BINS = 15
_PROB_TOL = 1e-3


# ---------------------------------------------------------------------------------------------
# Metrics on per-sample vectors: correctness and uncertainty
# ---------------------------------------------------------------------------------------------


def check_selective(correct, uncertainty) -> tuple[np.ndarray, np.ndarray]:
    """Correctness (bool) and uncertainty (float64): non-empty 1-D arrays of one length."""
    correct_arr = _check_correct(correct)
    unc = check_vector(uncertainty, correct_arr.size, "uncertainty")
    return correct_arr, unc


@dataclass(frozen=True)
class RiskCoverage:
    """The selective risk–coverage curve, one point per distinct uncertainty value.

    ``coverage[b]`` is the fraction of samples accepted when every sample with uncertainty up to
    the b-th distinct value is accepted; ``risk[b]`` the error rate among them;
    ``generalized_risk[b]`` the errors among them divided by all samples (Traub et al. 2024).
    """

    coverage: np.ndarray
    risk: np.ndarray
    generalized_risk: np.ndarray
    threshold: np.ndarray
    accepted: np.ndarray
    errors: np.ndarray


def risk_coverage(correct, uncertainty) -> RiskCoverage:
    """The risk–coverage curve of a selective classifier that abstains on high uncertainty."""
    correct_arr, unc = check_selective(correct, uncertainty)
    order = np.argsort(unc, kind="stable")
    sorted_unc = unc[order]
    cumulative_errors = np.cumsum(~correct_arr[order])
    # Last index of each block of equal uncertainty: a tie block is one coverage step.
    ends = np.flatnonzero(np.append(sorted_unc[1:] != sorted_unc[:-1], True))
    accepted = ends + 1
    errors = cumulative_errors[ends]
    n = correct_arr.size
    return RiskCoverage(
        coverage=accepted / n,
        risk=errors / accepted,
        generalized_risk=errors / n,
        threshold=sorted_unc[ends],
        accepted=accepted,
        errors=errors,
    )


def _steps(curve: RiskCoverage) -> np.ndarray:
    return np.diff(curve.coverage, prepend=0.0)


def _aurc(curve: RiskCoverage) -> float:
    # Inside a tie block of m samples holding e errors, a random order puts e * j / m errors
    # (in expectation) among its first j samples; the selective risk at position k is then the
    # expected errors so far divided by k. Summing over positions gives the expectation of the
    # per-sample AURC over every order of the tied samples.
    sizes = np.diff(curve.accepted, prepend=0)
    errors_before = curve.errors - np.diff(curve.errors, prepend=0)
    block_errors = curve.errors - errors_before
    position = np.arange(1, curve.accepted[-1] + 1)
    block = np.repeat(np.arange(sizes.size), sizes)
    start = curve.accepted[block] - sizes[block]
    expected_errors = errors_before[block] + block_errors[block] * (position - start) / sizes[block]
    return float(np.mean(expected_errors / position))


def aurc(correct, uncertainty) -> float:
    """Area under the selective risk–coverage curve (lower is better; 0 to 1)."""
    return _aurc(risk_coverage(correct, uncertainty))


def _check_correct(correct, name: str = "correct") -> np.ndarray:
    """A non-empty 1-D array of booleans (or 0/1) as bool."""
    arr = np.asarray(correct.cpu().numpy() if isinstance(correct, torch.Tensor) else correct)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold booleans (or 0/1)")
    return arr.astype(bool)


def oracle_aurc(correct) -> float:
    """AURC of the ideal ordering of the same predictions: every correct one first."""
    correct_arr = _check_correct(correct)
    n = correct_arr.size
    num_correct = int(correct_arr.sum())
    k = np.arange(num_correct + 1, n + 1)
    return float(np.sum((k - num_correct) / k) / n)


def eaurc(correct, uncertainty) -> float:
    """Excess AURC over the oracle ordering of the same predictions (>= 0)."""
    correct_arr, unc = check_selective(correct, uncertainty)
    return aurc(correct_arr, unc) - oracle_aurc(correct_arr)


def _augrc(curve: RiskCoverage) -> float:
    previous = np.concatenate([[0.0], curve.generalized_risk[:-1]])
    return float(np.sum(_steps(curve) * (curve.generalized_risk + previous) / 2))


def augrc(correct, uncertainty) -> float:
    """Area under the generalised risk–coverage curve (Traub et al. 2024; lower is better)."""
    return _augrc(risk_coverage(correct, uncertainty))


def _sac(curve: RiskCoverage, accuracy: float) -> float:
    if not 0.0 < accuracy <= 1.0:
        raise ValueError(f"accuracy must be in (0, 1], got {accuracy}")
    correct_accepted = curve.accepted - curve.errors
    # Counts compared with a relative tolerance of 1e-12, so that e.g. 49/50 meets 0.98 even
    # though 0.98 * 50 is 49.00000000000001 in floating point.
    meets = correct_accepted >= accuracy * curve.accepted * (1 - 1e-12)
    return float(curve.coverage[meets].max()) if meets.any() else 0.0


def sac(correct, uncertainty, accuracy: float = 0.98) -> float:
    """Selective accuracy constraint: largest coverage with selective accuracy >= ``accuracy``."""
    return _sac(risk_coverage(correct, uncertainty), accuracy)


def correctness_auroc(correct, uncertainty) -> float:
    """AUROC of ``-uncertainty`` as a score separating correct from wrong predictions."""
    correct_arr, unc = check_selective(correct, uncertainty)
    num_pos = int(correct_arr.sum())
    num_neg = correct_arr.size - num_pos
    if num_pos == 0 or num_neg == 0:
        return float("nan")
    ranks = rankdata(-unc)  # average ranks for ties: the Mann-Whitney statistic
    u_statistic = ranks[correct_arr].sum() - num_pos * (num_pos + 1) / 2
    return float(u_statistic / (num_pos * num_neg))


def ece(correct, confidence, num_bins: int = ECE_BINS) -> float:
    """Expected calibration error with equal-width bins (lower, upper] over [0, 1]."""
    if isinstance(num_bins, bool) or not isinstance(num_bins, int | np.integer) or num_bins < 1:
        raise ValueError(f"num_bins must be a positive integer, got {num_bins!r}")
    correct_arr = _check_correct(correct).astype(np.float64)
    conf = np.asarray(confidence, dtype=np.float64)
    if conf.shape != correct_arr.shape:
        raise ValueError(
            f"correct and confidence must have one length, got {correct_arr.shape} and {conf.shape}"
        )
    if np.any((conf < 0) | (conf > 1)) or not np.all(np.isfinite(conf)):
        raise ValueError("confidence must lie in [0, 1]")
    # Bin b holds (b/B, (b+1)/B]; a confidence of exactly 0 joins the first bin.
    bins = np.clip(np.ceil(conf * num_bins).astype(np.int64) - 1, 0, num_bins - 1)
    gap = np.bincount(bins, weights=correct_arr - conf, minlength=num_bins)
    return float(np.sum(np.abs(gap)) / conf.size)


def _class_indices(values, name: str) -> np.ndarray:
    """A non-empty 1-D array of non-negative integer class indices, as int64."""
    arr = np.asarray(values.cpu().numpy() if isinstance(values, torch.Tensor) else values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise ValueError(f"{name} must hold integer class indices")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"{name} contains negative class indices (min {arr.min()})")
    return arr


def macro_f1(labels, prediction, over: str = "union") -> float:
    """Unweighted mean of per-class F1.

    ``over="union"``: over the classes present in labels or predictions (scikit-learn's
    ``f1_score(average="macro")`` without ``labels=``, which the paper's released code calls);
    ``over="labels"``: over the classes present in the labels only (WILDS' official iWildCam
    metric, ``F1(average="macro")`` with ``labels=unique(y_true)``). They differ when a model
    predicts a class that the split does not contain: the union counts it with F1 = 0.
    """
    if over not in ("union", "labels"):
        raise ValueError(f"over must be 'union' or 'labels', got {over!r}")
    y = _class_indices(labels, "labels")
    p = _class_indices(prediction, "prediction")
    if y.shape != p.shape:
        raise ValueError(f"labels and prediction differ in length: {y.size} vs {p.size}")
    size = int(max(y.max(), p.max())) + 1
    true_pos = np.bincount(y[y == p], minlength=size)
    support = np.bincount(y, minlength=size)
    predicted = np.bincount(p, minlength=size)
    present = (support + predicted) > 0 if over == "union" else support > 0
    f1 = 2 * true_pos[present] / (support[present] + predicted[present])
    return float(f1.mean())


# ---------------------------------------------------------------------------------------------
# evaluate: every metric from a score matrix
# ---------------------------------------------------------------------------------------------


def _scores_kind(scores: torch.Tensor, kind: str) -> str:
    if kind not in ("auto", "logits", "probs"):
        raise ValueError(f"kind must be 'auto', 'logits' or 'probs', got {kind!r}")
    looks_like_probs = looks_like_probabilities(scores, _PROB_TOL)
    if kind == "probs" and not looks_like_probs:
        raise ValueError(
            "kind='probs' but rows are not probability vectors (entries in [0, 1] summing to 1)"
        )
    if kind == "auto":
        return "probs" if looks_like_probs else "logits"
    return kind


def _row_statistics(scores: torch.Tensor, labels: torch.Tensor, prediction, kind: str):
    """Per-row statistics of the predictive distribution, in one chunked pass.

    Returns float64 vectors ``log_p_true``, ``p_pred``, ``unc_pred`` (``1 - p[prediction]``),
    ``sum_sq`` (``sum_c p_c^2``), ``entropy``, and the argmax. From logits, everything is
    computed relative to the row maximum, and ``1 - p[prediction]`` as the mass of the other
    classes, ``sum_{c != pred} e_c / sum_c e_c``: accurate even where ``p`` rounds to 1.
    """
    n = scores.shape[0]
    names = ("log_p_true", "p_pred", "unc_pred", "sum_sq", "entropy")
    stats = {name: torch.empty(n, dtype=torch.float64) for name in names}
    argmax = torch.empty(n, dtype=torch.int64)
    prediction_t = None if prediction is None else torch.as_tensor(prediction)
    dtype = torch.promote_types(scores.dtype, torch.float32)
    tiny = float(torch.finfo(dtype).eps)  # scikit-learn's log_loss clips probabilities alike
    for rows in row_chunks(n):
        chunk = scores[rows].to(dtype)
        idx = labels[rows].to(chunk.device)[:, None]
        if kind == "logits":
            row_max, row_argmax = chunk.max(dim=1, keepdim=True)
            shifted = chunk - row_max
            mass = shifted.exp()
            norm = mass.sum(dim=1, keepdim=True)
            log_norm = norm.log()
            log_p_true = shifted.gather(1, idx) - log_norm
            entropy = log_norm[:, 0] - torch.linalg.vecdot(mass, shifted, dim=1) / norm[:, 0]
            sum_sq = torch.linalg.vecdot(mass, mass, dim=1) / norm[:, 0] ** 2
        else:
            mass = chunk / chunk.sum(dim=1, keepdim=True)
            norm = torch.ones_like(mass[:, :1])
            row_argmax = mass.argmax(dim=1, keepdim=True)
            log_p = mass.clamp_min(tiny).log()
            log_p_true = log_p.gather(1, idx)
            entropy = -torch.linalg.vecdot(mass, log_p, dim=1)
            sum_sq = torch.linalg.vecdot(mass, mass, dim=1)
        at = row_argmax if prediction_t is None else prediction_t[rows].to(chunk.device)[:, None]
        p_pred = mass.gather(1, at) / norm
        other_mass = mass.scatter(1, at, 0.0).sum(dim=1, keepdim=True) / norm
        argmax[rows] = row_argmax[:, 0].cpu()
        for name, value in zip(
            names, (log_p_true, p_pred, other_mass, sum_sq, entropy), strict=True
        ):
            stats[name][rows] = value.reshape(-1).to(torch.float64).cpu()
    return {name: value.numpy() for name, value in stats.items()}, argmax.numpy()


def sample_statistics(
    scores,
    labels,
    prediction=None,
    uncertainty=None,
    *,
    kind: str = "auto",
    uncertainty_kind: str = "softmax",
) -> dict[str, np.ndarray]:
    """The per-sample quantities every metric is computed from (arguments as ``evaluate``).

    Keys: ``labels``, ``prediction``, ``uncertainty``, ``confidence`` (``p[prediction]``),
    ``log_p_true`` and ``brier`` (per-sample Brier score). ``summarise`` turns them (or any
    subset of rows, e.g. a bootstrap resample) into the metrics.
    """
    scores_t = check_scores(scores, "scores")
    n, num_classes = scores_t.shape
    labels_t = check_labels(labels, n, num_classes)
    _uncertainty.check_kind(uncertainty_kind)
    if prediction is not None:
        prediction = check_vector(prediction, n, "prediction", integer=True)
        if prediction.min() < 0 or prediction.max() >= num_classes:
            raise ValueError(f"prediction holds class indices outside [0, {num_classes})")
    kind = _scores_kind(scores_t, kind)
    stats, argmax = _row_statistics(scores_t, labels_t, prediction, kind)
    if uncertainty is not None:
        unc = check_vector(uncertainty, n, "uncertainty")
    elif uncertainty_kind == "entropy":
        unc = stats["entropy"]
    else:
        unc = stats["unc_pred"]
    return {
        "labels": labels_t.numpy(),
        "prediction": argmax if prediction is None else prediction,
        "uncertainty": unc,
        "confidence": np.clip(stats["p_pred"], 0.0, 1.0),
        "log_p_true": stats["log_p_true"],
        "brier": stats["sum_sq"] - 2 * np.exp(stats["log_p_true"]) + 1,
    }


class _Scored:
    """One set of per-sample statistics, with what several metrics share computed once."""

    def __init__(self, stats: dict[str, np.ndarray]):
        self.stats = stats
        self.correct = stats["prediction"] == stats["labels"]

    @cached_property
    def curve(self) -> RiskCoverage:
        return risk_coverage(self.correct, self.stats["uncertainty"])


def summarise(stats: dict[str, np.ndarray], sac_levels=SAC_LEVELS) -> dict[str, float]:
    """Every metric of ``METRICS`` from ``sample_statistics`` (of all samples or any rows).

    SAC is computed at each of ``sac_levels`` (``sac_90`` ... ``sac_99`` by default).
    """
    scored = _Scored(stats)
    result = {m.name: m.compute(scored) for m in METRICS.values() if m.sac_level is None}
    for level in sac_levels:
        result[sac_key(level)] = _sac(scored.curve, level)
    return result


def evaluate(
    scores,
    labels,
    prediction=None,
    uncertainty=None,
    *,
    kind: str = "auto",
    uncertainty_kind: str = "softmax",
    sac_levels=SAC_LEVELS,
) -> dict[str, float]:
    """Every metric of the book for one set of predictions, as fractions.

    ``scores``: logits or probabilities, shape (N, K) (``kind`` says which; ``auto`` takes rows
    that are probability vectors for probabilities). ``prediction`` overrides the argmax class
    and ``uncertainty`` the per-sample uncertainty (both are how the UQ-only Duo is scored);
    otherwise uncertainty is the softmax response ``1 - p[prediction]`` or, with
    ``uncertainty_kind="entropy"``, the predictive entropy. NLL, Brier and ECE always come from
    ``scores``; ECE bins the confidence ``p[prediction]``.

    Returns accuracy, macro_f1, nll, brier, ece, auroc, aurc, eaurc, augrc and ``sac_90`` ...
    ``sac_99`` (one per entry of ``sac_levels``).
    """
    stats = sample_statistics(
        scores, labels, prediction, uncertainty, kind=kind, uncertainty_kind=uncertainty_kind
    )
    return summarise(stats, sac_levels)


def sac_key(level: float) -> str:
    """Name of the SAC entry in ``evaluate``'s result: 0.98 -> ``"sac_98"``."""
    return f"sac_{round(level * 100):d}"


# ---------------------------------------------------------------------------------------------
# The metric registry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """What the book needs to know about a metric besides how to compute it.

    ``compute`` maps one set of per-sample statistics (``_Scored``) to the value; ``perfect`` is
    the best attainable value (``None`` where it depends on the predictions: AURC's best is the
    oracle ordering of the same predictions); ``paper_unit`` is how the paper's tables print it:
    ``"percent"``, ``"x100"`` or ``"brier_per_class_x1e4"`` (the one-hot-flattened mean x 10^4).
    """

    name: str
    label: str  # axis label, e.g. "correctness AUROC ↑"
    short: str  # table header, e.g. "AUROC ↑"
    higher_is_better: bool
    paper_unit: str
    perfect: float | None
    compute: Callable[[_Scored], float] | None = None
    sac_level: float | None = None  # SAC rows are computed at the levels summarise is given

    @property
    def sign(self) -> float:
        """+1 if higher is better, -1 if lower is: ``sign * (a - b) > 0`` means a is better."""
        return 1.0 if self.higher_is_better else -1.0

    def better(self, value: float, reference: float) -> bool:
        """Whether ``value`` is strictly better than ``reference``."""
        return self.sign * (value - reference) > 0

    def to_paper(self, value: float, num_classes: int) -> float:
        if self.paper_unit in ("percent", "x100"):
            return 100.0 * value
        if self.paper_unit == "brier_per_class_x1e4":
            return value / num_classes * 1e4
        raise ValueError(f"unknown paper unit {self.paper_unit!r}")


def _register(*metrics: Metric) -> dict[str, Metric]:
    return {m.name: m for m in metrics}


METRICS = _register(
    Metric(
        "accuracy", "accuracy ↑", "Acc ↑", True, "percent", 1.0,
        lambda s: float(s.correct.mean()),
    ),
    Metric(
        "macro_f1", "macro-F1 ↑", "F1 ↑", True, "percent", 1.0,
        lambda s: macro_f1(s.stats["labels"], s.stats["prediction"]),
    ),
    Metric(
        "nll", "NLL ↓", "NLL ↓", False, "x100", 0.0,
        lambda s: float(-s.stats["log_p_true"].mean()),
    ),
    Metric(
        "brier", "Brier ↓", "Brier ↓", False, "brier_per_class_x1e4", 0.0,
        lambda s: float(np.mean(s.stats["brier"])),
    ),
    Metric(
        "ece", "ECE ↓", "ECE ↓", False, "percent", 0.0,
        lambda s: ece(s.correct, s.stats["confidence"]),
    ),
    Metric(
        "auroc", "correctness AUROC ↑", "AUROC ↑", True, "percent", 1.0,
        lambda s: correctness_auroc(s.correct, s.stats["uncertainty"]),
    ),
    Metric("aurc", "AURC ↓", "AURC ↓", False, "percent", None, lambda s: _aurc(s.curve)),
    Metric(
        "eaurc", "E-AURC ↓", "E-AURC ↓", False, "percent", 0.0,
        lambda s: _aurc(s.curve) - oracle_aurc(s.correct),
    ),
    Metric("augrc", "AUGRC ↓", "AUGRC ↓", False, "percent", None, lambda s: _augrc(s.curve)),
    *(
        Metric(
            sac_key(level), f"SAC@{sac_key(level)[4:]} ↑", f"SAC@{sac_key(level)[4:]} ↑", True,
            "percent", 1.0, sac_level=level,
        )
        for level in SAC_LEVELS
    ),
)  # fmt: skip


def metric(name: str) -> Metric:
    """The registry row of ``name`` (a clear error for an unknown one)."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose one of {list(METRICS)}")
    return METRICS[name]


def improves(value: float, reference: float, name: str) -> bool:
    """Whether ``value`` is better than ``reference`` on metric ``name`` (lower NLL, higher
    AUROC, ...)."""
    return metric(name).better(value, reference)


def to_paper_scale(values: dict[str, float], num_classes: int) -> dict[str, float]:
    """A copy of ``values`` (from ``evaluate``) in the paper's units; unknown keys pass through.

    The paper reports accuracy, F1, ECE, AUROC, AURC and SAC in percent, NLL x 100, and Brier as
    the mean over the one-hot-flattened (N x K) matrix (scikit-learn's ``brier_score_loss`` on
    flattened arrays, i.e. our per-sample Brier divided by K) times 10^4: ResNet-50 on ImageNet
    has a per-sample Brier near 0.29, i.e. 2.9 in its Table 1.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    scaled = {}
    for name, value in values.items():
        if name in METRICS:
            scaled[name] = METRICS[name].to_paper(value, num_classes)
        elif name.startswith("sac_"):  # SAC at a level outside the registry's default levels
            scaled[name] = 100.0 * value
        else:
            scaled[name] = value
    return scaled
