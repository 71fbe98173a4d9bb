"""Every metric against an independent reference or a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    roc_auc_score,
)
from torchmetrics.functional.classification import multiclass_calibration_error

import duolib as dl
from duolib import metrics


def random_probs(num_samples=800, num_classes=7, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_samples)
    logits = 2.5 * np.eye(num_classes)[labels] + 1.3 * rng.normal(size=(num_samples, num_classes))
    return labels, logits, softmax(logits, axis=1)


# --- against scikit-learn and torchmetrics --------------------------------------------------


def test_against_sklearn_and_torchmetrics():
    labels, logits, probs = random_probs()
    num_classes = probs.shape[1]
    result = dl.evaluate(logits, labels)
    pred = probs.argmax(1)
    assert result["accuracy"] == pytest.approx(accuracy_score(labels, pred))
    assert result["macro_f1"] == pytest.approx(f1_score(labels, pred, average="macro"))
    assert result["nll"] == pytest.approx(log_loss(labels, probs, labels=range(num_classes)))
    flat_brier = brier_score_loss(np.eye(num_classes)[labels].ravel(), probs.ravel())
    assert result["brier"] == pytest.approx(flat_brier * num_classes)
    correct = pred == labels
    assert result["auroc"] == pytest.approx(roc_auc_score(correct, probs.max(1)))
    reference_ece = multiclass_calibration_error(
        torch.from_numpy(probs),
        torch.from_numpy(labels),
        num_classes=num_classes,
        n_bins=15,
        norm="l1",
    )
    assert result["ece"] == pytest.approx(float(reference_ece), abs=1e-6)
    # Probabilities in give the same numbers as logits in.
    from_probs = dl.evaluate(probs, labels)
    for name, value in result.items():
        assert from_probs[name] == pytest.approx(value, abs=1e-9), name


def test_macro_f1_with_classes_never_predicted():
    labels = np.array([0, 0, 1, 1, 2, 2, 3])
    pred = np.array([0, 0, 0, 1, 1, 1, 1])
    assert metrics.macro_f1(labels, pred) == pytest.approx(
        f1_score(labels, pred, average="macro", zero_division=0)
    )


def test_auroc_with_ties_matches_sklearn():
    rng = np.random.default_rng(2)
    correct = rng.random(500) < 0.7
    uncertainty = rng.integers(0, 5, 500) / 4.0  # heavy ties
    assert metrics.correctness_auroc(correct, uncertainty) == pytest.approx(
        roc_auc_score(correct, -uncertainty)
    )
    assert np.isnan(metrics.correctness_auroc(np.ones(5, bool), np.arange(5.0)))


def test_ece_torchmetrics_docstring_example():
    """torchmetrics' documented example: 3 bins, expected ECE 0.2000."""
    probs = np.array(
        [[0.25, 0.20, 0.55], [0.55, 0.05, 0.40], [0.10, 0.30, 0.60], [0.90, 0.05, 0.05]]
    )
    labels = np.array([0, 1, 2, 0])
    correct = probs.argmax(1) == labels
    # Bin (1/3, 2/3]: confidences .55 .55 .60, accuracy 1/3 -> |1/3 - .5667| * 3/4 = 0.175.
    # Bin (2/3, 1]: confidence .90, accuracy 1 -> 0.1 * 1/4 = 0.025. Total 0.2.
    assert metrics.ece(correct, probs.max(1), num_bins=3) == pytest.approx(0.2)


# --- hand-worked selective-classification examples --------------------------------------------

# Five predictions sorted by uncertainty; correct, wrong, correct, correct, wrong.
UNC = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
CORRECT = np.array([1, 0, 1, 1, 0], dtype=bool)


def test_aurc_hand_worked():
    # Errors among the k most certain: 0, 1, 1, 1, 2 -> risks 0, 1/2, 1/3, 1/4, 2/5.
    # AURC = (0 + .5 + .3333 + .25 + .4) / 5 = 0.296667.
    assert metrics.aurc(CORRECT, UNC) == pytest.approx((0 + 1 / 2 + 1 / 3 + 1 / 4 + 2 / 5) / 5)
    # Oracle: 3 correct first, then risks 1/4 and 2/5 -> (0.25 + 0.4) / 5 = 0.13.
    assert metrics.oracle_aurc(CORRECT) == pytest.approx(0.13)
    assert metrics.eaurc(CORRECT, UNC) == pytest.approx(0.296667 - 0.13, abs=1e-6)


def test_augrc_hand_worked():
    # Generalised risk (errors / 5): 0, .2, .2, .2, .4 at coverage .2 ... 1, from (0, 0):
    # trapezoids .2 * [(0+0) + (0+.2) + (.2+.2) + (.2+.2) + (.2+.4)] / 2 = .2 * 1.6 / 2 = 0.16.
    assert metrics.augrc(CORRECT, UNC) == pytest.approx(0.16)


def test_sac_hand_worked():
    # Selective accuracy at k = 1..5: 1, 1/2, 2/3, 3/4, 3/5.
    assert metrics.sac(CORRECT, UNC, 0.6) == pytest.approx(1.0)  # exactly 0.6 qualifies
    assert metrics.sac(CORRECT, UNC, 0.7) == pytest.approx(0.8)
    assert metrics.sac(CORRECT, UNC, 0.98) == pytest.approx(0.2)
    assert metrics.sac(~CORRECT, UNC, 0.98) == 0.0  # the most certain one is wrong


def test_sac_exact_threshold_despite_float_grid():
    """49 of 50 right is 98% accuracy, also for 0.98 taken from np.arange (0.9800000000000001)."""
    correct = np.ones(50, dtype=bool)
    correct[-1] = False
    uncertainty = np.linspace(0, 1, 50)
    level = np.arange(0.90, 0.991, 0.01)[8]
    assert level > 0.98
    assert metrics.sac(correct, uncertainty, level) == 1.0


def paper_aurc(correct, uncertainty):
    """The paper's code: r_k = cumsum(errors)/k in uncertainty order, AURC = mean(r_k)."""
    errors = ~np.asarray(correct)[np.argsort(uncertainty, kind="stable")]
    return np.mean(np.cumsum(errors) / np.arange(1, len(errors) + 1))


def test_ties_are_one_coverage_step():
    unc = np.array([0.1, 0.3, 0.3, 0.3, 0.5])
    curve = metrics.risk_coverage(CORRECT, unc)
    # Blocks: {0}: risk 0 at coverage .2; {1,2,3}: 1 error in 4 at coverage .8; {4}: 2/5 at 1.
    np.testing.assert_allclose(curve.coverage, [0.2, 0.8, 1.0])
    np.testing.assert_allclose(curve.risk, [0.0, 0.25, 0.4])
    # AURC averages the paper's value over the 3 places the tied error can take:
    # risks (0, 1/2, 1/3, 1/4, 2/5), (0, 0, 1/3, 1/4, 2/5), (0, 0, 0, 1/4, 2/5);
    # sums 1.48333, 0.98333, 0.65 -> mean 1.03889 -> AURC 0.207778.
    assert metrics.aurc(CORRECT, unc) == pytest.approx(1.038889 / 5, abs=1e-6)
    # AUGRC: .2*(0+0)/2 + .6*(0+.2)/2 + .2*(.2+.4)/2 = 0.12.
    assert metrics.augrc(CORRECT, unc) == pytest.approx(0.12)
    # Any order of the tied samples gives the same numbers.
    for order in ([0, 3, 2, 1, 4], [4, 2, 1, 3, 0]):
        assert metrics.aurc(CORRECT[order], unc[order]) == pytest.approx(1.038889 / 5, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=7))
def test_aurc_is_paper_aurc_averaged_over_tie_orders(data):
    """Brute force: the paper's AURC under every ordering of tied samples, averaged."""
    import itertools

    correct = np.array([c for c, _ in data])
    unc = np.array([u for _, u in data], dtype=float)
    values = []
    for perm in itertools.permutations(range(len(data))):
        perm = np.array(perm)
        values.append(paper_aurc(correct[perm], unc[perm]))  # stable sort: perm breaks ties
    assert metrics.aurc(correct, unc) == pytest.approx(np.mean(values))
    if len(np.unique(unc)) == len(unc):
        assert metrics.aurc(correct, unc) == pytest.approx(paper_aurc(correct, unc))


def test_fd_shifts_reference_vectors():
    """fd-shifts' test vector: 100 equal confidences, half correct: AURC 0.5, AUGRC 0.25."""
    correct = np.arange(100) % 2 == 0
    uncertainty = np.full(100, 0.3)
    assert metrics.aurc(correct, uncertainty) == pytest.approx(0.5)
    assert metrics.augrc(correct, uncertainty) == pytest.approx(0.25)


def test_entropy_uncertainty_option():
    labels, logits, probs = random_probs(seed=4)
    entropy = -(probs * np.log(probs)).sum(1)
    result = dl.evaluate(logits, labels, uncertainty_kind="entropy")
    correct = probs.argmax(1) == labels
    assert result["auroc"] == pytest.approx(roc_auc_score(correct, -entropy))
    assert result["aurc"] == pytest.approx(metrics.aurc(correct, entropy))


def test_prediction_override_scores_uq_only():
    labels, logits, probs = random_probs(seed=5)
    other = np.roll(probs.argmax(1), 1)  # someone else's predictions
    result = dl.evaluate(logits, labels, prediction=other)
    assert result["accuracy"] == pytest.approx(np.mean(other == labels))
    unc = 1 - probs[np.arange(len(other)), other]
    assert result["auroc"] == pytest.approx(roc_auc_score(other == labels, -unc))


def test_paper_scale_brier_matches_sklearn_flattened():
    labels, logits, probs = random_probs(seed=6)
    scaled = dl.to_paper_scale(dl.evaluate(logits, labels), num_classes=probs.shape[1])
    flat = brier_score_loss(np.eye(probs.shape[1])[labels].ravel(), probs.ravel())
    assert scaled["brier"] == pytest.approx(flat * 1e4)
    assert scaled["accuracy"] == pytest.approx(100 * np.mean(probs.argmax(1) == labels))
    assert scaled["nll"] == pytest.approx(100 * log_loss(labels, probs))


# --- properties --------------------------------------------------------------------------------

selective_data = st.integers(2, 200).flatmap(
    lambda n: st.tuples(
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),  # coarse values force ties
    )
)


@settings(max_examples=60, deadline=None)
@given(selective_data, st.randoms(use_true_random=False))
def test_selective_metrics_properties(data, random):
    correct = np.array(data[0])
    uncertainty = np.array(data[1]) / 6.0
    order = list(range(len(correct)))
    random.shuffle(order)
    for fn in (metrics.aurc, metrics.augrc, metrics.eaurc, metrics.correctness_auroc):
        a, b = fn(correct, uncertainty), fn(correct[order], uncertainty[order])
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b), fn.__name__
    assert metrics.eaurc(correct, uncertainty) >= -1e-12
    # A perfect ranking (every correct prediction more certain) reaches the oracle.
    perfect = np.where(correct, 0.0, 1.0)
    assert metrics.aurc(correct, perfect) == pytest.approx(metrics.oracle_aurc(correct))
    assert metrics.eaurc(correct, perfect) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1000), st.integers(2, 9), st.integers(5, 120))
def test_evaluate_is_permutation_invariant(seed, num_classes, num_samples):
    labels, logits, _ = random_probs(num_samples, num_classes, seed)
    permutation = np.random.default_rng(seed).permutation(num_samples)
    a = dl.evaluate(logits, labels)
    b = dl.evaluate(logits[permutation], labels[permutation])
    for name in a:
        assert (np.isnan(a[name]) and np.isnan(b[name])) or a[name] == pytest.approx(b[name]), name


def test_a_new_metric_is_one_function_and_one_registry_row(monkeypatch):
    """Registering a metric is all it takes: summarise, paper units, tables, plots and the
    bootstrap direction all read the registry."""
    from duolib import claims, plots, tables

    def error_rate(scored):
        return float(1 - scored.correct.mean())

    row = metrics.Metric("error", "error rate ↓", "Err ↓", False, "percent", 0.0, error_rate)
    monkeypatch.setitem(metrics.METRICS, "error", row)
    labels = np.array([0, 1, 2, 2])
    logits = np.eye(3)[[0, 1, 2, 0]] * 3.0  # 3 of 4 right
    result = dl.evaluate(logits, labels)
    assert result["error"] == pytest.approx(0.25)
    assert dl.to_paper_scale(result, 3)["error"] == pytest.approx(25.0)
    assert plots.metric_label("error") == "error rate ↓"
    assert metrics.improves(0.1, 0.2, "error")  # lower is better
    table = tables.paper_table(
        [{"method": "m", "gflops": 1, "train_seconds": 0, **result}],
        3,
        metrics=("accuracy", "error"),
    )
    assert table.loc["m", "Err ↓"] == "25.00"
    stats = metrics.sample_statistics(logits, labels)
    better = metrics.sample_statistics(np.eye(3)[labels] * 3.0, labels)
    boot = claims.paired_bootstrap(better, stats, samples=20).set_index("metric")
    assert boot.loc["error", "difference"] == pytest.approx(-0.25)
    assert boot.loc["error", "p_better"] >= boot.loc["accuracy", "p_better"] - 1e-12
