"""The results table: no leakage from test to fitting, the right Duos, sane rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import duolib as dl
from duolib import experiments

SMOKE = dl.profiles.get("smoke")


def fake_bank(num_val=3000, num_test=3000, num_classes=10, seed=0, noise_small=None):
    """Logits for the smoke zoo: the largest model informative, the others weaker (or noise)."""
    rng = np.random.default_rng(seed)
    store = {}
    for split, n in (("val", num_val), ("test", num_test), ("ood", num_test)):
        labels = rng.integers(0, num_classes, n)
        shared = rng.normal(size=(n, num_classes))
        for rank, model in enumerate(sorted(SMOKE.zoo, key=lambda m: dl.zoo.get(m).gflops)):
            signal = 1.0 + rank
            logits = signal * np.eye(num_classes)[labels] + shared + rng.normal(size=shared.shape)
            if model == noise_small:
                logits = rng.normal(size=shared.shape)
            store[(model, split)] = (logits.astype(np.float32), labels)
    return store


@pytest.fixture
def patched_bank(monkeypatch):
    def install(store):
        monkeypatch.setattr(
            dl.bank, "logits", lambda dataset, model, split, profile=None: store[(model, split)]
        )
        return store

    return install


def test_duo_pairs_are_every_cheaper_sidekick_of_each_large_model():
    # Written out by hand from the zoos' GFLOPs (smoke: shufflenet_mini 0.0001 < lenet 0.00044
    # < resnet_mini 0.0039; demo adds resnet_micro 0.0030, resnet_small 0.0071, resnet18 0.037).
    assert experiments.duo_pairs("smoke") == [
        ("resnet_mini", "shufflenet_mini"),
        ("resnet_mini", "lenet"),
    ]
    demo = experiments.duo_pairs("demo")
    assert demo[:5] == [
        ("resnet18_32px", s)
        for s in ("shufflenet_mini", "lenet", "resnet_micro", "resnet_mini", "resnet_small")
    ]
    assert demo[5:] == [
        ("resnet_small", s) for s in ("shufflenet_mini", "lenet", "resnet_micro", "resnet_mini")
    ]
    assert dl.zoo.sidekicks("resnet_small", SMOKE.zoo, balance=(0.1, 1.0)) == ["resnet_mini"]


def test_results_rows_and_columns(patched_bank):
    patched_bank(fake_bank())
    table = experiments.results("smoke")
    pairs = experiments.duo_pairs("smoke")
    assert len(table) == 2 * len(SMOKE.zoo) + 2 * 3 * len(pairs)
    assert set(table["mode"]) == {"single", "weighted", "unweighted", "uq_only"}
    for column in ("flops_balance", "w_large", "w_small", "accuracy", "auroc", "aurc", "sac_98"):
        assert table[column].notna().all(), column
    duos = table[table["mode"] != "single"]
    assert ((duos["flops_balance"] > 0) & (duos["flops_balance"] < 1)).all()
    # UQ-only keeps f_large's predictions, so its accuracy is f_large's.
    single = table[table["mode"] == "single"].set_index(["split", "f_large"])["accuracy"]
    for _, row in table[table["mode"] == "uq_only"].iterrows():
        assert row["accuracy"] == single[(row["split"], row["f_large"])]


def test_permuting_test_labels_does_not_change_fitted_weights(patched_bank):
    store = patched_bank(fake_bank())
    before = experiments.results("smoke")
    rng = np.random.default_rng(5)
    for key, (logits, labels) in list(store.items()):
        if key[1] != "val":
            store[key] = (logits, rng.permutation(labels))
    after = experiments.results("smoke")
    for column in ("w_large", "w_small", "flops_balance"):
        np.testing.assert_array_equal(before[column], after[column])
    assert not np.allclose(before["accuracy"], after["accuracy"])


def test_duo_with_a_noise_sidekick_is_the_temperature_scaled_large_model(patched_bank):
    large = SMOKE.large_models[0]
    noise = next(s for large_, s in experiments.duo_pairs("smoke") if large_ == large)
    store = patched_bank(fake_bank(num_val=20000, noise_small=noise))
    duo = experiments.fitted_duo(large, noise, "glyphs", "smoke")
    assert duo.w_small < 0.02 * duo.w_large
    val_logits, val_labels = store[(large, "val")]
    temperature = dl.fit_temperature(val_logits, val_labels)
    for split in ("test", "ood"):
        (large_logits, labels), (noise_logits, _) = store[(large, split)], store[(noise, split)]
        as_duo = dl.evaluate(duo.combine(large_logits, noise_logits), labels)
        alone = dl.evaluate(large_logits / temperature, labels)
        assert as_duo["accuracy"] == pytest.approx(alone["accuracy"], abs=2e-3)
        assert as_duo["nll"] == pytest.approx(alone["nll"], abs=2e-3)


def test_weight_ratio_is_on_temperature_scaled_logits_by_hand():
    # f_large alone: temperature 2 (w = 1/2); f_small alone: temperature 0.5 (w = 2).
    table = pd.DataFrame(
        [
            {"dataset": "d", "f_large": "L", "f_small": "", "mode": "single", "w_large": 0.5,
             "w_small": 0.0, "flops_balance": 0.0},
            {"dataset": "d", "f_large": "S", "f_small": "", "mode": "single", "w_large": 2.0,
             "w_small": 0.0, "flops_balance": 0.0},
            {"dataset": "d", "f_large": "L", "f_small": "S", "mode": "weighted", "w_large": 0.6,
             "w_small": 0.4, "flops_balance": 0.1},
            {"dataset": "d", "f_large": "L", "f_small": "S", "mode": "weighted", "w_large": 0.6,
             "w_small": 0.4, "flops_balance": 0.1},  # the same Duo on another split
        ]
    )  # fmt: skip
    (row,) = experiments.weight_ratios(table).to_dict("records")
    assert row["T_large"] == 2.0 and row["T_small"] == 0.5
    assert row["raw_ratio"] == pytest.approx(1.5)
    # 0.6 z_L + 0.4 z_S = 1.2 (z_L / 2) + 0.2 (z_S / 0.5): the calibrated weights are 6 : 1.
    assert row["ratio"] == pytest.approx(6.0)
