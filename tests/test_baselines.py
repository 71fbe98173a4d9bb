"""Baselines: member names, fine-tuning trials, soups, IVON and Laplace predictives, tables."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import duolib as dl
from duolib import bank, baselines, comparisons, members, train


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("resnet50", members.Member("resnet50")),
        ("resnet50@3", members.Member("resnet50", 3)),
        ("resnet_small:ivon", members.Member("resnet_small", 0, "ivon")),
        ("resnet50.a1_in1k@2:greedy_soup", members.Member("resnet50.a1_in1k", 2, "greedy_soup")),
    ],
)
def test_member_names_round_trip(name, member):
    assert members.parse(name) == member
    assert member.name == name


@pytest.mark.parametrize("name", ["resnet50:adam", "resnet50@x", "resnet50@-1", "@2", ""])
def test_bad_member_names_are_refused(name):
    with pytest.raises(ValueError):
        members.parse(name)


def test_variants_share_their_architectures_zoo_entry():
    assert dl.zoo.get("lenet@4:ivon") == dl.zoo.get("lenet")
    assert dl.zoo.flops_balance("resnet_small:greedy_soup", "lenet") == pytest.approx(
        dl.zoo.flops_balance("resnet_small", "lenet")
    )
    assert members.replicas("lenet", 3) == ("lenet", "lenet@1", "lenet@2")


def test_paper_ensemble_checkpoints_are_resnet50s_at_equal_cost():
    checkpoints = dl.profiles.get("paper").baselines.ensemble_members
    assert len(checkpoints) == 10 and len(set(checkpoints)) == 10
    for name in checkpoints:
        entry = dl.zoo.get(name)
        assert entry.family == "ResNet"
        assert entry.gflops == pytest.approx(4.089, abs=1e-3)  # torchvision's ResNet-50 at 224


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 9).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(1, n), st.integers(1, 40), st.integers(0, 9))
    )
)
def test_ensemble_subsets_are_distinct_and_complete(args):
    members_count, size, count, seed = args
    subsets = comparisons.ensemble_subsets(members_count, size, count, seed)
    assert len(subsets) == min(count, math.comb(members_count, size))
    assert len(set(subsets)) == len(subsets)
    every = set(combinations(range(members_count), size))
    assert set(subsets) <= every
    if math.comb(members_count, size) <= count:
        assert set(subsets) == every


def test_compute_bins_are_half_open():
    assert comparisons.compute_bin(4.1, 4.1) == 1
    assert comparisons.compute_bin(8.19, 4.1) == 1
    assert comparisons.compute_bin(8.2, 4.1) == 2


def test_paper_table_is_mean_and_sample_std_in_paper_units():
    rows = [
        {"method": "A", "gflops": 1.0, "train_seconds": 60, "accuracy": 0.5, "brier": 0.2},
        {"method": "A", "gflops": 1.0, "train_seconds": 60, "accuracy": 0.7, "brier": 0.4},
        {"method": "B", "gflops": 2.0, "train_seconds": 120, "accuracy": 0.9, "brier": 0.1},
    ]
    table = comparisons.paper_table(rows, num_classes=10, metrics=("accuracy", "brier"))
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "Acc ↑"] == f"60.00\u00a0±\u00a0{np.std([50, 70], ddof=1):.2f}"
    assert table.loc["B", "Acc ↑"] == "90.00"
    assert table.loc["A", "Brier ↓"].startswith("300.00")  # mean 0.3 / 10 classes * 1e4
    assert table.loc["B", "train (min)"] == "2.0"
    with pytest.raises(ValueError, match="lack columns"):
        comparisons.paper_table(rows, num_classes=10, metrics=("nll",))


def test_longer_searches_extend_shorter_ones(smoke_cache):
    one = train.finetune_trials("lenet", "smoke", count=1)
    three = train.finetune_trials("lenet", "smoke", count=3)
    assert len(three) == 3
    assert three[0]["directory"] == one[0]["directory"]  # reused, not retrained
    assert len({t["directory"] for t in three}) == 3
    assert len({(t["lr"], t["weight_decay"]) for t in three}) == 3


def test_replicas_are_independently_trained(smoke_cache):
    a, _ = train.finetuned("lenet", "smoke")
    b, meta = train.finetuned("lenet@1", "smoke")
    assert meta["model"] == "lenet@1"
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    assert any(not torch.equal(x, y) for x, y in pairs)


def test_greedy_soup_is_no_worse_on_validation_than_its_best_ingredient(smoke_cache):
    model, meta = baselines.soup_model("lenet:greedy_soup", "smoke")
    best = max(t["val_accuracy"] for t in meta["trials"])
    assert meta["val_accuracy"] >= best
    assert meta["ingredients"][0] == int(np.argmax([t["val_accuracy"] for t in meta["trials"]]))
    logits, labels = train.predict_logits(model, dl.data.load("glyphs", "val", "smoke"))
    assert train.accuracy(logits, labels) == pytest.approx(meta["val_accuracy"])
    uniform = bank.meta("glyphs", "lenet:uniform_soup", "test", "smoke")
    assert uniform["soup_ingredients"] == list(range(len(meta["trials"])))


def _assert_probability_vectors(probs):
    assert np.isfinite(probs).all()
    assert probs.min() >= 0
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)


def test_ivon_predictive_is_a_proper_probability_vector(smoke_cache):
    settings_ = dl.profiles.get("smoke").baselines
    probs, labels, meta = baselines.ivon_predictive("lenet:ivon", "smoke")
    assert set(probs) == {"test", "ood"}
    test = probs["test"]
    assert test.shape == (settings_.ivon_repeats, len(settings_.ivon_samples), 256, 48)
    assert labels["test"].shape == (256,)
    _assert_probability_vectors(test)
    # Sampling is real: independent draw sequences give different predictives ...
    assert not np.allclose(test[0, 0], test[1, 0])
    # ... around the posterior mean, which the bank holds as "lenet:ivon".
    mean_logits, mean_labels = bank.logits("glyphs", "lenet:ivon", "test", "smoke")
    assert np.array_equal(mean_labels, labels["test"])
    mean_probs = torch.softmax(torch.from_numpy(mean_logits).double(), 1).numpy()
    assert np.abs(test[:, -1] - mean_probs).mean() < np.abs(test[:, -1] - 1 / 48).mean()
    assert meta["forward_passes"] == settings_.ivon_repeats * max(settings_.ivon_samples) * 2
    again, _, _ = baselines.ivon_predictive("lenet:ivon", "smoke")
    assert np.array_equal(again["test"], test)  # cached


def test_laplace_predictive_is_a_proper_probability_vector(smoke_cache):
    probs, labels, meta = baselines.laplace_predictive("lenet", "smoke")
    for split in ("test", "ood"):
        assert probs[split].shape == (256, 48)
        _assert_probability_vectors(probs[split])
    # laplace-torch's default grid: log10 prior precision in [-4, 4]
    assert 1e-4 * 0.999 <= meta["prior_precision"] <= 1e4 * 1.001
    assert meta["subset_of_weights"] == "last_layer" and meta["hessian_structure"] == "kron"


def test_baselines_refuse_the_wrong_kind_of_member(smoke_cache):
    with pytest.raises(ValueError, match="IVON"):
        baselines.ivon_predictive("lenet", "smoke")
    with pytest.raises(ValueError, match="soup"):
        baselines.soup_model("lenet:ivon", "smoke")
    with pytest.raises(ValueError, match="plain LP-FT"):
        baselines.laplace_predictive("lenet:ivon", "smoke")
    with pytest.raises(ValueError, match="published"):
        bank.logits("imagenet", "resnet50@1", "val", "paper")


def test_count_wins_compares_method_means_in_each_metrics_direction():
    rows = [
        {"method": "duo", "accuracy": 0.80, "nll": 0.50},
        {"method": "duo", "accuracy": 0.90, "nll": 0.70},  # means 0.85, 0.60
        {"method": "ivon", "accuracy": 0.84, "nll": 0.55},
    ]
    assert comparisons.count_wins(rows, "duo", "ivon", ("accuracy",)) == 1
    assert comparisons.count_wins(rows, "duo", "ivon", ("nll",)) == 0  # lower NLL is better
    assert comparisons.count_wins(rows, "ivon", "duo", ("accuracy", "nll")) == 1
    assert type(comparisons.count_wins(rows, "duo", "ivon", ("accuracy",))) is int  # glue shows it
