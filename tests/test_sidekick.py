"""Which sidekick: pair statistics against hand-worked examples and SciPy, the recommender's
budget and its choice between a useful and a useless candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import minimize, minimize_scalar
from sklearn.metrics import log_loss

import duolib as dl
from duolib import sidekick
from duolib.duo import Duo
from tests.conftest import make_pair, reference_nll

# Hand-made predictions on 5 examples of 3 classes (one-hot logits):
# labels       0 1 2 0 1
# f_large      0 1 0 0 2   right, right, wrong, right, wrong
# sidekick     0 2 2 1 0   right, wrong, right, wrong, wrong
# exactly one right on examples 1, 2, 3 (3/5); predictions differ on 1, 2, 3, 4 (4/5).
LABELS = np.array([0, 1, 2, 0, 1])
LARGE = 3.0 * np.eye(3)[[0, 1, 0, 0, 2]]
SMALL = 3.0 * np.eye(3)[[0, 2, 2, 1, 0]]


def test_error_inconsistency_disagreement_and_accuracy_by_hand():
    out = sidekick.pair_statistics(LARGE, SMALL, LABELS)
    assert out["error_inconsistency"] == pytest.approx(3 / 5)
    assert out["disagreement"] == pytest.approx(4 / 5)
    assert out["sidekick_accuracy"] == pytest.approx(2 / 5)
    assert out["large_accuracy"] == pytest.approx(3 / 5)


def test_conversion_rate_by_hand():
    # A Duo that is f_large alone gets the inconsistent examples 1 and 3 right (2 of 3); one
    # that is the sidekick alone only example 2 (1 of 3).
    as_large = sidekick.pair_statistics(LARGE, SMALL, LABELS, duo=Duo(1.0, 0.0, np.nan))
    as_small = sidekick.pair_statistics(LARGE, SMALL, LABELS, duo=Duo(0.0, 1.0, np.nan))
    assert as_large["conversion_rate"] == pytest.approx(2 / 3)
    assert as_small["conversion_rate"] == pytest.approx(1 / 3)


def test_conversion_rate_is_undefined_without_inconsistent_examples():
    out = sidekick.pair_statistics(LARGE, LARGE * 0.5, LABELS)
    assert out["error_inconsistency"] == 0
    assert np.isnan(out["conversion_rate"])


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_nll_gain_matches_scipy_fits_and_sklearn_log_loss():
    labels, large, small = make_pair(num_samples=800, num_classes=6, seed=3)
    classes = np.arange(6)
    temperature = minimize_scalar(
        lambda t: log_loss(labels, _softmax(large / t), labels=classes),
        bounds=(0.05, 20),
        method="bounded",
    ).x
    fit = minimize(
        lambda w: reference_nll(w, [large, small], labels),
        x0=[1.0, 0.0],
        bounds=[(0, None), (0, None)],
        method="L-BFGS-B",
    )
    expected = log_loss(labels, _softmax(large / temperature), labels=classes) - fit.fun
    out = sidekick.pair_statistics(large, small, labels)
    assert out["nll_gain"] == pytest.approx(expected, abs=1e-5)
    assert out["nll_gain"] > 0.01  # this sidekick is informative


def test_bad_input_is_refused_with_its_name():
    with pytest.raises(ValueError, match="different numbers of samples"):
        sidekick.pair_statistics(LARGE, SMALL[:4], LABELS)
    with pytest.raises(ValueError, match="unknown score"):
        sidekick.rank(LARGE, {"s": SMALL}, LABELS, {"s": 1.0}, 1.0, score="accuracy_gain")
    with pytest.raises(ValueError, match="budget_gflops"):
        sidekick.rank(LARGE, {"s": SMALL}, LABELS, {"s": 1.0}, -1.0)
    with pytest.raises(ValueError, match="no GFLOPs"):
        sidekick.rank(LARGE, {"s": SMALL}, LABELS, {}, 1.0)
    with pytest.raises(ValueError, match="large_gflops"):
        sidekick.rank(LARGE, {"s": SMALL}, LABELS, {"s": 1.0}, 1.0, score="flops_balance")


@settings(max_examples=40, deadline=None)
@given(
    costs=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=5),
    budget=st.floats(0.0, 12.0),
    score=st.sampled_from(sorted(sidekick.SCORES)),
    seed=st.integers(0, 1000),
)
def test_recommender_never_picks_a_candidate_over_budget(costs, budget, score, seed):
    labels, large, _ = make_pair(num_samples=200, num_classes=4, seed=seed)
    rng = np.random.default_rng(seed)
    logits = {
        f"c{i}": rng.normal(size=large.shape) + large * rng.uniform() for i in range(len(costs))
    }
    gflops = {f"c{i}": c for i, c in enumerate(costs)}
    out = sidekick.rank(large, logits, labels, gflops, budget, score, large_gflops=20.0)
    fits = {name for name, cost in gflops.items() if cost <= budget}
    if fits:
        assert out.choice in fits
        assert gflops[out.choice] <= budget
    else:
        assert out.choice is None and out.why == "no candidate fits the budget"
    assert set(out.over_budget) == set(gflops) - fits
    assert set(out.table["sidekick"]) == fits
    assert list(out.table[score].fillna(-np.inf)) == sorted(
        out.table[score].fillna(-np.inf), reverse=True
    )


def test_recommender_picks_the_useful_sidekick_over_pure_noise():
    labels, large, useful = make_pair(num_samples=2000, num_classes=10, seed=7)
    noise = np.random.default_rng(1).normal(size=large.shape).astype(np.float32) * 3
    candidates = {"noise": noise, "useful": useful}
    gflops = {"noise": 1.0, "useful": 1.0}  # equal cost
    out = sidekick.rank(large, candidates, labels, gflops, budget_gflops=1.0)
    assert out.choice == "useful"
    assert "useful" in out.why
    by_name = out.table.set_index("sidekick")
    assert by_name.loc["noise", "w_small"] < 0.05 * by_name.loc["useful", "w_small"]
    for score in ("nll_gain", "sidekick_accuracy"):
        assert sidekick.rank(large, candidates, labels, gflops, 1.0, score).choice == "useful"
    # Error inconsistency, disagreement and the conversion rate all reward a sidekick that is
    # wrong where f_large is right (the Duo then ignores it and keeps f_large's right answers):
    # pure noise scores higher on each, which is why none can be the recommender's score alone.
    for score in ("error_inconsistency", "disagreement", "conversion_rate"):
        assert by_name.loc["noise", score] > by_name.loc["useful", score]


def test_ties_go_to_the_cheaper_candidate():
    labels, large, small = make_pair(num_samples=300, num_classes=5, seed=2)
    candidates = {"dear": small, "cheap": small.copy()}
    out = sidekick.rank(large, candidates, labels, {"dear": 2.0, "cheap": 1.0}, 5.0)
    assert out.choice == "cheap"


def test_correlations_match_scipy_spearman():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {name: rng.normal(size=12) for name in ("nll_gain", "gain_aurc", "gain_accuracy")}
    )
    out = sidekick.correlations(
        table, scores=("nll_gain",), targets=("aurc", "accuracy"), samples=200
    )
    for target in ("aurc", "accuracy"):
        row = out[out["target"] == target].iloc[0]
        assert row["rho"] == pytest.approx(
            stats.spearmanr(table["nll_gain"], table[f"gain_{target}"])[0]
        )
        assert row["ci_low"] <= row["rho"] <= row["ci_high"]
        assert row["duos"] == 12


def test_held_out_choice_finds_the_score_that_is_the_target():
    rng = np.random.default_rng(0)
    gain = rng.normal(size=20)
    table = pd.DataFrame(
        {
            "f_small": [f"s{i}" for i in range(20)],
            "gain_aurc": gain,
            "nll_gain": gain * 2 + 1,  # a monotone function of the target: rho = 1
            "disagreement": rng.normal(size=20),
        }
    )
    out = sidekick.held_out_choice(table, scores=("disagreement", "nll_gain"), splits=50)
    assert out.iloc[0]["score"] == "nll_gain"
    assert out.iloc[0]["chosen"] == 1.0
    assert out.iloc[0]["held_out_rho"] == pytest.approx(1.0)


def test_variants_are_named_from_the_bank_name():
    assert sidekick.variant("resnet_mini") == "pretrained, fine-tuned"
    assert sidekick.variant("resnet_mini@1") == "another seed"
    assert sidekick.variant("resnet_mini:scratch") == "from scratch"


def test_every_profile_names_candidates_the_zoo_knows():
    for name in dl.profiles.PROFILES:
        settings = dl.profiles.get(name)
        for candidate in sidekick.profile_candidates(settings):
            dl.zoo.get(candidate)  # raises on an unknown architecture
        assert any(zoo_sidekicks for zoo_sidekicks in (
            dl.zoo.sidekicks(large, sidekick.profile_candidates(settings))
            for large in settings.large_models
        )), name  # fmt: skip
        assert sidekick.dataset_for(settings) in settings.datasets


def test_demo_candidates_differ_in_training_at_equal_flops():
    settings = dl.profiles.get("demo")
    pool = sidekick.profile_candidates(settings)
    by_cost: dict[float, set] = {}
    for name in pool:
        by_cost.setdefault(dl.zoo.get(name).gflops, set()).add(sidekick.variant(name))
    # Each architecture with variants has all three trainings at exactly its FLOPs.
    assert sum(v == {"pretrained, fine-tuned", "another seed", "from scratch"}
               for v in by_cost.values()) >= 3  # fmt: skip
    families = {dl.zoo.get(n).family for n in pool}
    assert {"LeNet", "ResNet"} <= families


def test_scratch_members_are_trained_without_pretraining(smoke_cache):
    meta = dl.bank.meta("glyphs", "lenet:scratch", "val", "smoke")
    assert meta["pretrain_seconds"] == 0.0
    assert "scratch" in meta["pretraining"]
    pretrained = dl.bank.meta("glyphs", "lenet", "val", "smoke")
    assert pretrained["pretrain_seconds"] > 0
    scratch_logits, labels = dl.bank.logits("glyphs", "lenet:scratch", "val", "smoke")
    logits, _ = dl.bank.logits("glyphs", "lenet", "val", "smoke")
    assert not np.allclose(scratch_logits, logits)
