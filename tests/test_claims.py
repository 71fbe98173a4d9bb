"""Claims: paired-bootstrap intervals, the cached Duo gains, and the one claim table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
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
                    }  # fmt: skip
                )
    return pd.DataFrame(rows)


def test_claim_table_counts_by_hand_in_each_metrics_direction():
    table = claims.summary(hand_gains()).set_index(["split", "mode", "metric"])
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
    wide = claims.numbers(gains, "accuracy")
    assert wide["improved_test"] == 0.5 and wide["improved_ood"] == 1.0 and wide["duos"] == 4
    big = claims.numbers(gains, "accuracy", balance=(0.1, math.inf))  # s2 and s3 only
    assert big["duos"] == 2
    assert big["improved_test"] == 0.0 and big["worse_test"] == 0.5
    assert big["median_ood"] == pytest.approx(0.01)
    none = claims.numbers(gains, "accuracy", balance=(2.0, 3.0))
    assert math.isnan(none["improved_test"]) and none["duos"] == 0
    assert none["verdict"].startswith("cannot be tested")


def test_verdict_thresholds():
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
