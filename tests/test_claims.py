"""Claims: paired-bootstrap intervals, the cached Duo gains, and the one claim table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from test_experiments import fake_bank

import duolib as dl
from duolib import claims, metrics


def test_paired_bootstrap():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 2000)
    good = 3 * np.eye(5)[labels] + rng.normal(size=(2000, 5))
    bad = 1 * np.eye(5)[labels] + rng.normal(size=(2000, 5))
    stats_good = metrics.sample_statistics(good, labels)
    stats_bad = metrics.sample_statistics(bad, labels)
    table = claims.paired_bootstrap(stats_good, stats_bad, samples=200).set_index("metric")
    for name in ("accuracy", "auroc", "nll", "aurc"):
        row = table.loc[name]
        assert row["ci_low"] <= row["difference"] <= row["ci_high"]
        assert row["p_better"] > 0.99, name  # clearly better model: every resample agrees
    same = claims.paired_bootstrap(stats_good, stats_good, samples=50).set_index("metric")
    assert (same["difference"] == 0).all() and (same["ci_low"] == 0).all()
    assert (same["ci_high"] == 0).all()
    with pytest.raises(ValueError, match="same labels"):
        claims.paired_bootstrap(stats_good, metrics.sample_statistics(good, labels[::-1]))


def test_a_resample_is_scored_like_the_same_rows_scored_directly():
    """What the bootstrap resamples (rows of the statistics) against scikit-learn on those rows."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 600)
    logits = 2 * np.eye(4)[labels] + rng.normal(size=(600, 4))
    rows = rng.integers(0, 600, 600)
    stats = metrics.sample_statistics(logits, labels)
    resampled = metrics.summarise({k: v[rows] for k, v in stats.items()})
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    y, p = labels[rows], probs[rows]
    assert resampled["accuracy"] == pytest.approx(accuracy_score(y, p.argmax(1)))
    assert resampled["nll"] == pytest.approx(log_loss(y, p, labels=range(4)), rel=1e-9)
    correct = p.argmax(1) == y
    assert resampled["auroc"] == pytest.approx(roc_auc_score(correct, p.max(1)))


def hand_gains():
    """Four Duos on two splits; differences and intervals chosen so every count is by hand."""
    rows = []
    for split, acc, nll in (
        ("test", [(0.02, 0.01, 0.03), (0.01, -0.01, 0.02), (-0.01, -0.02, -0.005), (0.0, 0, 0)],
         [(-0.1, -0.2, -0.05), (0.05, 0.01, 0.08), (-0.02, -0.05, 0.01), (0.0, 0, 0)]),
        ("ood", [(0.03, 0.02, 0.04), (0.02, 0.01, 0.03), (0.01, -0.01, 0.02), (0.01, 0.0, 0.02)],
         [(-0.1, -0.2, -0.05), (-0.1, -0.2, -0.05), (-0.1, -0.2, -0.05), (0.1, 0.05, 0.2)]),
    ):  # fmt: skip
        for i, balance in enumerate((0.01, 0.05, 0.2, 0.5)):
            for metric, values in (("accuracy", acc), ("nll", nll)):
                difference, low, high = values[i]
                rows.append(
                    {
                        "split": split,
                        "f_large": "L",
                        "f_small": f"s{i}",
                        "mode": "weighted",
                        "flops_balance": balance,
                        "metric": metric,
                        "difference": difference,
                        "ci_low": low,
                        "ci_high": high,
                        "p_better": 0.5,
                        # Significant exactly where the interval excludes 0, before correction.
                        "p_value": 0.001 if low > 0 or high < 0 else 0.5,
                    }  # fmt: skip
                )
    return pd.DataFrame(rows)


def test_claim_table_counts_by_hand_in_each_metrics_direction():
    table = claims.summary(hand_gains(), correction=None).set_index(["split", "mode", "metric"])
    acc_test = table.loc[("test", "weighted", "accuracy")]
    assert acc_test["duos"] == 4
    assert acc_test["improved"] == 0.5  # +0.02, +0.01 (0 is not an improvement)
    assert acc_test["significant"] == 0.25  # only (0.01, 0.03) excludes 0 above
    assert acc_test["worse"] == 0.25  # (-0.02, -0.005)
    assert acc_test["median_difference"] == pytest.approx(0.005)
    nll_test = table.loc[("test", "weighted", "nll")]  # lower NLL is better
    assert nll_test["improved"] == 0.5 and nll_test["significant"] == 0.25
    assert nll_test["worse"] == 0.25
    pooled = table.loc[("all", "weighted", "accuracy")]
    assert pooled["duos"] == 8 and pooled["improved"] == 6 / 8
    assert pooled["worse"] == 1 / 8 and pooled["verdict"] == "holds only in part"
    assert table.loc[("all", "weighted", "nll")]["verdict"] == "holds only in part"  # 5/8
    ood = table.loc[("ood", "weighted", "accuracy")]
    assert ood["improved"] == 1.0 and ood["worse"] == 0 and ood["verdict"] == "holds"


def test_claim_numbers_respect_the_balance_window():
    gains = hand_gains()
    wide = claims.numbers(gains, "accuracy", correction=None)
    assert wide["improved_test"] == 0.5 and wide["improved_ood"] == 1.0 and wide["duos"] == 4
    big = claims.numbers(gains, "accuracy", balance=(0.1, math.inf), correction=None)  # s2, s3
    assert big["duos"] == 2
    assert big["improved_test"] == 0.0 and big["worse_test"] == 0.5
    assert big["median_ood"] == pytest.approx(0.01)
    none = claims.numbers(gains, "accuracy", balance=(2.0, 3.0))
    assert math.isnan(none["improved_test"]) and none["duos"] == 0
    assert none["verdict"].startswith("cannot be tested")


def test_holm_matches_a_hand_worked_example():
    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (running max of 0.06), 0.5.
    adjusted = claims.holm([0.03, 0.5, 0.01, 0.02])
    np.testing.assert_allclose(adjusted, [0.06, 0.5, 0.04, 0.06])
    np.testing.assert_allclose(claims.holm([0.4, 0.9]), [0.8, 0.9])  # capped by the max
    np.testing.assert_allclose(claims.holm([np.nan, 0.01, 0.02]), [np.nan, 0.02, 0.02])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        claims.holm([0.5, 1.5])


def test_holm_against_bonferroni_bounds():
    """Holm never rejects less than Bonferroni (p * m) and never more than the raw p-values."""
    rng = np.random.default_rng(3)
    for m in (1, 2, 7, 30):
        p = rng.uniform(0, 0.2, m)
        adjusted = claims.holm(p)
        assert np.all(adjusted >= p - 1e-15)
        assert np.all(adjusted <= np.minimum(1, p * m) + 1e-15)


def test_holm_correction_changes_the_claim_table_as_by_hand():
    gains = hand_gains()
    # Every interval that excludes 0 has p = 0.001: 4 such Duos among 8 on the accuracy row
    # "all" survive Holm (at most 8 * 0.001); raise one to 0.02 and it no longer does
    # (Holm's first step multiplies the smallest by 8 -> 0.008; 0.02 at rank <= 4 is * >= 5).
    raw = claims.summary(gains, ("accuracy",), ("weighted",), correction=None)
    holm = claims.summary(gains, ("accuracy",), ("weighted",))
    assert raw.equals(holm)  # p = 0.001 survives any m <= 8
    row = (gains["metric"] == "accuracy") & (gains["split"] == "test") & (gains["difference"] < 0)
    gains.loc[row & (gains["ci_high"] < 0), "p_value"] = 0.02
    holm = claims.summary(gains, ("accuracy",), ("weighted",)).set_index("split")
    # Test row, m = 4: p = 0.001, 0.02, 0.5, 0.5 -> the 0.02 becomes max(0.004, 3 * 0.02) = 0.06.
    assert holm.loc["test", "worse"] == 0
    # Pooled row, m = 8: three p = 0.001 first, then 0.02 * 5 = 0.1: no longer significant, so
    # the pooled verdict flips from "holds only in part" (one Duo worse) to "holds".
    assert holm.loc["all", "worse"] == 0 and holm.loc["all", "verdict"] == "holds"
    raw = raw.set_index("split")
    assert raw.loc["all", "worse"] == 1 / 8 and raw.loc["all", "verdict"] == "holds only in part"
    assert holm.loc["all", "significant"] == 3 / 8
    with pytest.raises(ValueError, match="p_value"):
        claims.summary(gains.drop(columns="p_value"))
    with pytest.raises(ValueError, match="correction"):
        claims.summary(gains, correction="bonferroni")


def test_bootstrap_p_value_is_the_normal_approximation():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 3000)
    a = 2.0 * np.eye(3)[labels] + rng.normal(size=(3000, 3))
    b = 1.6 * np.eye(3)[labels] + rng.normal(size=(3000, 3))
    stats_a, stats_b = metrics.sample_statistics(a, labels), metrics.sample_statistics(b, labels)
    table = claims.paired_bootstrap(stats_a, stats_b, samples=400).set_index("metric")
    row = table.loc["accuracy"]
    # The percentile interval's half-width is ~1.96 standard errors: the p-value computed from
    # that standard error (SciPy's normal) agrees with the one reported to a few percent.
    se = (row["ci_high"] - row["ci_low"]) / (2 * 1.959964)
    expected = 2 * stats.norm.sf(abs(row["difference"]) / se)
    assert row["p_value"] == pytest.approx(expected, rel=0.25, abs=1e-12)
    assert row["p_value"] < 1e-6  # a clearly better model
    same = claims.paired_bootstrap(stats_a, stats_a, samples=20).set_index("metric")
    assert (same["p_value"] == 1.0).all()  # no difference on any resample


def test_trend_by_hand_and_against_scipy():
    gains = hand_gains()
    # Test accuracy differences 0.02, 0.01, -0.01, 0.0 at balances 0.01, 0.05, 0.2, 0.5.
    test = claims.trend(gains, "accuracy", split="test")
    assert test["duos"] == 4
    assert test["rho"] == pytest.approx(stats.spearmanr([1, 2, 3, 4], [4, 3, 1, 2])[0])
    assert test["ci_low"] <= test["rho"] <= test["ci_high"]
    # NLL: lower is better, so the gain is minus the difference.
    nll = claims.trend(gains, "nll", split="ood")
    assert nll["rho"] == pytest.approx(stats.spearmanr([1, 2, 3, 4], [0.1, 0.1, 0.1, -0.1])[0])
    rising = pd.DataFrame(
        {"metric": "accuracy", "mode": "weighted", "split": "test",
         "flops_balance": np.linspace(0.01, 0.9, 30), "difference": np.linspace(0, 0.05, 30)}
    )  # fmt: skip
    up = claims.trend(rising, "accuracy")
    assert up["rho"] == pytest.approx(1.0) and up["verdict"] == "grow"
    down = claims.trend(rising.assign(difference=-rising["difference"]), "accuracy")
    assert down["verdict"] == "shrink"
    flat = claims.trend(rising.assign(difference=np.sin(np.arange(30) * 2.4)), "accuracy")
    assert flat["verdict"] == "show no trend beyond noise"
    assert claims.trend(rising.head(2), "accuracy")["verdict"] == "cannot be tested"

    assert claims.verdict(0.75, 0.0) == "holds"
    assert claims.verdict(0.9, 0.1) == "holds only in part"
    assert claims.verdict(0.5, 0.0) == "holds only in part"
    assert claims.verdict(0.49, 0.0) == "does not hold"


def test_duo_gains_are_cached_and_rebuilt_when_corrupted(tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    store = fake_bank(num_val=400, num_test=300)
    calls = []

    def logits(dataset, model, split, profile=None):
        calls.append((model, split))
        return store[(model, split)]

    monkeypatch.setattr(dl.bank, "logits", logits)
    gains = claims.duo_gains("smoke", samples=20)
    pairs = dl.experiments.duo_pairs("smoke")
    assert len(gains) == len(pairs) * 2 * 3 * len(dl.METRICS)  # splits x modes x metrics
    assert set(gains["mode"]) == set(dl.MODES)
    calls.clear()
    again = claims.duo_gains("smoke", samples=20)
    assert calls == [] and again.equals(gains)  # read from the cache, nothing recomputed
    (frame,) = tmp_path.glob("claims/smoke/*/frame.pkl")
    frame.write_bytes(b"not a pickle")
    with pytest.warns(UserWarning, match="corrupted"):
        rebuilt = claims.duo_gains("smoke", samples=20)
    assert rebuilt.equals(gains)


def test_relative_improvement_as_the_papers_figure_1_by_hand():
    gains = hand_gains()  # test split: accuracy differences 0.02, 0.01, -0.01, 0 at 4 balances
    table = pd.DataFrame(
        [{"split": s, "f_large": "L", "mode": "single", "accuracy": 0.8, "nll": 0.5}
         for s in ("test", "ood")]
    )  # fmt: skip
    # Window [0.01, 0.05] keeps s0 and s1 (both ends included, as the released plot).
    frame = claims.relative_improvement(gains, table, ("accuracy", "nll"), (0.01, 0.05))
    test_acc = frame[(frame["split"] == "test") & (frame["metric"] == "accuracy")]
    # Accuracy 0.8 -> +0.02 closes 0.02 / (1 - 0.8) = 10% of the gap to 1.
    np.testing.assert_allclose(test_acc["relative_improvement"], [10.0, 5.0])
    test_nll = frame[(frame["split"] == "test") & (frame["metric"] == "nll")]
    # NLL 0.5 -> -0.1 is a 20% reduction toward 0; +0.05 a 10% increase (negative improvement).
    np.testing.assert_allclose(test_nll["relative_improvement"], [20.0, -10.0])
    assert set(frame["f_small"]) == {"s0", "s1"}
    assert claims.FIGURE1_BALANCE == (0.1, 0.2)
    assert set(claims.FIGURE1_METRICS) == {"accuracy", "macro_f1", "nll", "brier", "auroc", "aurc"}


def test_ablation_match_counts_overlapping_intervals_by_hand():
    rows = []
    for small, full, ablation in (
        ("a", (0.01, 0.0, 0.02), (0.015, 0.005, 0.025)),  # overlap
        ("b", (0.01, 0.0, 0.02), (0.05, 0.03, 0.07)),  # apart
        ("c", (0.0, -0.01, 0.01), (0.01, 0.01, 0.02)),  # touching at 0.01: overlap
    ):
        for mode, (difference, low, high) in (("weighted", full), ("uq_only", ablation)):
            rows.append({"split": "test", "f_large": "L", "f_small": small, "mode": mode,
                         "metric": "auroc", "difference": difference, "ci_low": low,
                         "ci_high": high})  # fmt: skip
    match = claims.ablation_match(pd.DataFrame(rows), "auroc")
    assert (match["k"], match["n"]) == (2, 3)
    assert match["ahead"] == pytest.approx(0.01)  # median of 0.005, 0.04, 0.01
    assert match["verdict"] == "holds only in part"  # 2/3 overlap: >= 0.5, < 0.75
    assert claims.ablation_match(pd.DataFrame(rows), "nll")["verdict"] == "cannot be tested"
