"""The fidelity appendix's measurements, on a fake bank (the full table runs in the smoke
notebook test): each row against a property it must have by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_experiments import fake_bank

import duolib as dl
from duolib import fidelity


@pytest.fixture
def fake(monkeypatch):
    store = fake_bank(num_val=600, num_test=500, num_classes=7)
    monkeypatch.setattr(
        dl.bank, "logits", lambda dataset, model, split, profile=None: store[(model, split)]
    )
    return store


def test_bootstrap_effect_of_a_mean_matches_the_normal_interval():
    rng = np.random.default_rng(0)
    x = rng.normal(0.3, 1.0, 2000)
    observed, low, high = fidelity.bootstrap_effect(lambda r: np.mean(x if r is None else x[r]),
                                                    len(x), samples=1000)  # fmt: skip
    assert observed == pytest.approx(x.mean())
    half = 1.96 * x.std() / np.sqrt(len(x))  # the textbook interval of a mean
    assert low == pytest.approx(x.mean() - half, abs=0.01)
    assert high == pytest.approx(x.mean() + half, abs=0.01)


def test_duo_rows_hold_their_properties(fake):
    settings = dl.profiles.get("smoke")
    rows = fidelity._duo_rows(fidelity._duos(settings, "glyphs"), samples=40, seed=0)
    table = {(r["difference"], r["metric"]): r for r in rows}
    # Brier: the released number is duolib's divided by the number of classes, exactly.
    brier = table["brier_scale", "brier"]
    assert brier["duolib"] / brier["released"] == pytest.approx(7)
    # Nothing saturates in float64 here, so clipping and tie handling change nothing.
    assert abs(table["nll_clipping", "nll"]["effect"]) < 1e-9
    assert table["aurc_ties", "aurc"]["effect"] == pytest.approx(0, abs=1e-12)
    # Every class occurs in the labels, so WILDS' macro-F1 is the released one.
    assert table["macro_f1", "macro_f1"]["effect"] == pytest.approx(0, abs=1e-12)
    for row in rows:
        assert row["ci_low"] <= row["ci_high"]
    assert {d for d, _ in table} == set(fidelity.DIFFERENCES) - {
        "duo_fit", "ensemble_calibration", "soup_rule", "augmentation"
    }  # fmt: skip


def test_released_fit_never_beats_the_exact_one(fake):
    fits = fidelity.fit_comparison("smoke")
    assert len(fits) == len(dl.experiments.duo_pairs("smoke"))
    assert (fits["released_val_nll"] >= fits["exact_val_nll"] - 1e-6).all()
    assert (fits[["exact_w_large", "exact_w_small"]] >= 0).all().all()
    useless = fidelity.useless_sidekick("smoke").set_index("fit")
    assert useless.loc["exact (duolib)", "val_nll"] <= (
        useless.loc["released grid + L-BFGS", "val_nll"] + 1e-6
    )


def test_the_table_describes_every_measured_row():
    measured = pd.DataFrame(
        [{"difference": "sac_threshold", "metric": "sac_98", "effect": 0.0},
         {"difference": "unweighted", "metric": "nll", "effect": 0.1}]
    )  # fmt: skip
    table = fidelity.table(measured)
    assert list(table["what"]) == ["Unweighted Duo", "SAC@98 target"]  # DIFFERENCES' order
    for column in ("the paper", "released code", "duolib"):
        assert table[column].str.len().min() > 10
    for difference in fidelity.DIFFERENCES.values():
        assert ".py" in difference.released or "plot" in difference.released  # file cited
