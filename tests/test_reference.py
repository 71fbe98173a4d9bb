"""The released code's variants, each against a hand-worked example of the released formula.

Sources: github.com/timgzhou/asymmetric-duos at commit d0f2efa; each test names the file and
lines it transcribes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import duolib as dl
from duolib import metrics, reference
from duolib.baselines import ensembles, soups


def test_aurc_with_ties_depends_on_the_sort_order_there():
    # utils/uncertainty_metrics.py:58 ``np.argsort(uncertainty)``, 62 risks = cumsum(errors)/k,
    # 63 AURC = mean(risks); 66-69 E-AURC subtracts the same mean in correct-first order.
    correct, uncertainty = [1, 0, 1, 0], [0.1] * 4  # one block of ties
    # In input order: risks 0/1, 1/2, 1/3, 2/4 -> mean 1/3. Tie-averaged (duolib): every
    # position holds half an error in expectation -> risks all 1/2 -> 0.5.
    assert reference.aurc(correct, uncertainty) == pytest.approx((0 + 1 / 2 + 1 / 3 + 2 / 4) / 4)
    assert metrics.aurc(correct, uncertainty) == pytest.approx(0.5)
    # Without ties the two agree: risks 0, 0, 1/3, 2/4 -> 5/24.
    distinct = [0.1, 0.2, 0.3, 0.4]
    assert reference.aurc([1, 1, 0, 0], distinct) == pytest.approx((0 + 0 + 1 / 3 + 2 / 4) / 4)
    assert metrics.aurc([1, 1, 0, 0], distinct) == pytest.approx(
        reference.aurc([1, 1, 0, 0], distinct)
    )
    # E-AURC: the oracle of 2 right, 2 wrong is the same order -> 0.
    assert reference.eaurc([1, 1, 0, 0], distinct) == pytest.approx(0.0)


def test_sac_target_98_is_not_098_in_the_released_code():
    # utils/uncertainty_metrics.py:52 ``np.arange(0.90, 0.991, 0.01)``; 74-80 the last index
    # whose risk is <= 1 - t, divided by N.
    # 49 right then 1 wrong: the risk of all 50 is exactly 1/50 = 0.02.
    correct, uncertainty = [1] * 49 + [0], np.linspace(0, 1, 50)
    assert reference.SAC_LEVELS[8] == 0.9800000000000001
    assert 1 - reference.SAC_LEVELS[8] < 0.02  # so risk 0.02 fails the released test
    assert reference.sac(correct, uncertainty, 0.98) == pytest.approx(49 / 50)
    assert metrics.sac(correct, uncertainty, 0.98) == 1.0
    assert reference.sac([0, 0], [0.1, 0.2], 0.9) == 0.0


def test_brier_is_ours_divided_by_the_classes():
    # utils/uncertainty_metrics.py:14-17: brier_score_loss on the flattened one-hot matrix.
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1])
    per_sample = [(0.3**2 + 0.2**2 + 0.1**2), (0.1**2 + 0.9**2 + 0.8**2)]  # 0.14, 1.46
    assert reference.brier(probs, labels) == pytest.approx(sum(per_sample) / (2 * 3))
    ours = dl.evaluate(probs, labels, kind="probs")["brier"]
    assert ours == pytest.approx(np.mean(per_sample))
    assert reference.brier(probs, labels) == pytest.approx(ours / 3)


def test_nll_of_probabilities_is_clipped_away_from_zero():
    # utils/uncertainty_metrics.py:18: log_loss(labels, probs, labels=range(num_classes)).
    probs, labels = np.array([[0.5, 0.5], [1.0, 0.0]]), np.array([0, 1])
    clipped = -np.log(np.finfo(np.float64).eps)  # scikit-learn clips at the dtype's epsilon
    assert reference.nll(probs, labels) == pytest.approx((math.log(2) + clipped) / 2, rel=1e-6)


def test_ece_bins_the_maximum_probability_whatever_the_prediction():
    # utils/uncertainty_metrics.py:37-50: 15 bins of max(p), (lower, upper] (45).
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 1, 1])
    # Bins of width 1/15: 0.9, 0.6 and 0.7 fall in separate bins; correct = 1, 0, 1.
    expected = (abs(0.9 - 1) + abs(0.6 - 0) + abs(0.7 - 1)) / 3
    assert reference.ece(probs, labels) == pytest.approx(expected)
    # duolib on f_large's predictions [1, 1, 1] (a UQ-only Duo) bins p[1] instead:
    correct = np.array([0, 1, 1])
    assert metrics.ece(correct, probs[:, 1]) == pytest.approx((0.1 + 0.6 + 0.3) / 3)


def test_logit_average_uses_temperature_scaled_logits():
    # evaluate/5_evaluate_duo_predictions.py:70-71, 81: (logits_large / temp_l +
    # logits_small / temp_s) / 2.
    large, small = np.array([[2.0, 0.0]]), np.array([[0.0, 3.0]])
    averaged = reference.unweighted_logits(large, small, 2.0, 0.5).numpy()
    np.testing.assert_allclose(averaged, [[(1.0 + 0.0) / 2, (0.0 + 6.0) / 2]])  # [0.5, 3.0]
    ours = dl.duo.combined_logits(large, small, None, "unweighted").numpy()
    np.testing.assert_allclose(ours, [[1.0, 1.5]])
    with pytest.raises(ValueError, match="temperature"):
        reference.unweighted_logits(large, small, 0.0, 1.0)


def test_duo_uncertainty_at_the_large_models_class():
    # evaluate/5_evaluate_duo_predictions.py:103-111 (uncertainty at f_large's argmax),
    # 129-131 (prediction = the Duo's argmax).
    large = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    small = np.array([[0.0, 5.0, 0.0], [0.0, 2.0, 0.0]])
    duo = dl.Duo(1.0, 1.0, float("nan"))
    combined = large + small  # [2, 5, 0] and [0, 3, 0]
    p = np.exp(combined) / np.exp(combined).sum(1, keepdims=True)
    released = reference.duo_uncertainty(large, small, duo)
    np.testing.assert_allclose(released, [1 - p[0, 0], 1 - p[1, 1]])  # large's argmax: 0, 1
    _, ours = dl.predict(large, small, duo, "weighted")
    np.testing.assert_allclose(ours, [1 - p[0, 1], 1 - p[1, 1]])  # the Duo's own class
    assert released[0] > ours[0] and released[1] == pytest.approx(ours[1])


def test_greedy_soup_strict_rule_rejects_a_tie():
    # train/make_soup.py:120 sorts by validation accuracy, 70 ``if new_val > best_val``.
    first, tie = {"w": torch.tensor([1.0])}, {"w": torch.tensor([3.0])}

    def score(state):  # the average (2.0) scores the same as the best ingredient
        return 1.0 if float(state["w"]) in (1.0, 2.0) else 0.5

    assert soups.greedy_soup([first, tie], score).ingredients == (0, 1)
    assert soups.greedy_soup([first, tie], score, strict=True).ingredients == (0,)


def test_released_fit_keeps_a_useless_sidekick_and_never_beats_the_exact_fit(pair):
    # evaluate/3_duo_temp_scale.py:15-17 grid torch.arange(0.05, 5.05, 0.2) for both
    # temperatures, 27 LBFGS(lr=0.01, max_iter=50), 36 one step from the grid's best.
    labels, large, small = pair
    exact, released = dl.fit_duo(large, small, labels), reference.fit_duo(large, small, labels)
    assert released.val_nll >= exact.val_nll - 1e-6  # the exact optimum of the same problem
    # L-BFGS with lr 0.01 and 50 iterations stops short here (0.6405 vs 0.6367), but near.
    assert released.val_nll - exact.val_nll < 0.01
    # A constant sidekick: every T_small gives the same NLL, so the grid's first value stays:
    # T_small = 0.05 -> w_small = 1 / (2 * 0.05) = 10, where the exact fit gives exactly 0.
    constant = np.zeros_like(small)
    useless = reference.fit_duo(large, constant, labels)
    assert useless.w_small == pytest.approx(10.0, rel=1e-6)
    assert dl.fit_duo(large, constant, labels).w_small == 0.0
    # ... which changes no prediction: constant logits shift every class alike.
    np.testing.assert_allclose(
        torch.softmax(useless.combine(large, constant), 1).numpy(),
        torch.softmax(useless.w_large * torch.from_numpy(large), 1).numpy(),
        atol=1e-6,
    )


def test_sac_without_the_float_bug_accepts_a_risk_of_exactly_two_percent():
    correct, uncertainty = [1] * 49 + [0], np.linspace(0, 1, 50)  # risk of all 50: 1/50
    assert reference.sac(correct, uncertainty, 0.98, threshold_bug=False) == 1.0
    assert reference.sac(correct, uncertainty, 0.98, threshold_bug=True) == pytest.approx(0.98)


def test_deep_ensemble_averages_logits_without_a_temperature():
    # evaluate/8_evaluate_deep_ensemble.py:75-78: softmax of the mean of the members' logits.
    # That is duolib's pooled_logits before pool_then_calibrate's temperature.
    members = [np.array([[2.0, 0.0]]), np.array([[0.0, 4.0]])]
    np.testing.assert_allclose(ensembles.pooled_logits(members).numpy(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="different shapes"):
        ensembles.pooled_logits([np.zeros((1, 2)), np.zeros((1, 3))])


def test_macro_f1_released_against_wilds_by_hand():
    # utils/uncertainty_metrics.py:13: f1_score(labels, preds, average="macro"), no labels=;
    # WILDS (wilds/common/metrics/all_metrics.py, F1): labels=unique(y_true).
    labels = np.array([0, 0, 1, 1])
    prediction = np.array([0, 2, 1, 1])  # class 2 is predicted but absent from the labels
    # F1 per class: 0 -> 2*1/(2+1) = 2/3; 1 -> 2*2/(2+2) = 1; 2 -> 0 (never right).
    assert reference.macro_f1(labels, prediction) == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert metrics.macro_f1(labels, prediction) == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert metrics.macro_f1(labels, prediction, over="labels") == pytest.approx((2 / 3 + 1) / 2)
    with pytest.raises(ValueError, match="over"):
        metrics.macro_f1(labels, prediction, over="all")
