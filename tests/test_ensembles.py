"""Pool-then-calibrate ensembles and the greedy soup rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

from duolib import ensembles


def members(num=3, n=800, k=6, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = [
        (2.5 * np.eye(k)[labels] + 1.5 * rng.normal(size=(n, k))) * (1 + i) for i in range(num)
    ]
    return labels, [x.astype(np.float32) for x in logits]


def test_pool_then_calibrate_fits_one_temperature_on_pooled_logits():
    labels, logits = members()
    ensemble = ensembles.pool_then_calibrate(logits, labels)
    pooled = np.mean(logits, axis=0).astype(np.float64)

    def nll(t):
        z = pooled / t
        return np.mean(logsumexp(z, axis=1) - z[np.arange(len(labels)), labels])

    reference = minimize_scalar(nll, bounds=(0.05, 50), method="bounded", options={"xatol": 1e-9})
    assert ensemble.temperature == pytest.approx(reference.x, rel=1e-4)
    combined = ensemble.combine(logits).numpy()
    np.testing.assert_allclose(combined, pooled / ensemble.temperature, rtol=1e-5)
    with pytest.raises(ValueError, match="3 members"):
        ensemble.combine(logits[:2])
    with pytest.raises(ValueError, match="different shapes"):
        ensembles.pooled_logits([logits[0], logits[1][:10]])


def _linear_states(num, seed=0):
    rng = np.random.default_rng(seed)
    return [
        {
            "weight": torch.tensor(rng.normal(size=(3, 4)), dtype=torch.float32),
            "count": torch.tensor(7),
        }
        for _ in range(num)
    ]


def test_greedy_soup_never_worse_than_its_best_ingredient():
    states = _linear_states(6)
    target = torch.ones(3, 4)

    def val_accuracy(state):  # any score works: closeness of the weights to a target
        return float(-((state["weight"] - target) ** 2).sum())

    soup = ensembles.greedy_soup(states, val_accuracy)
    best_single = max(val_accuracy(s) for s in states)
    assert soup.val_accuracy >= best_single
    assert soup.val_accuracy == pytest.approx(val_accuracy(soup.state))
    assert soup.ingredients[0] == int(np.argmax([val_accuracy(s) for s in states]))
    expected = torch.stack([states[i]["weight"] for i in soup.ingredients]).mean(0)
    assert torch.allclose(soup.state["weight"], expected)
    assert int(soup.state["count"]) == 7  # integer buffers are not averaged


def test_greedy_soup_rejects_an_ingredient_that_hurts():
    good = {"w": torch.tensor([1.0])}
    also_good = {"w": torch.tensor([1.2])}
    bad = {"w": torch.tensor([-5.0])}

    def score(state):
        return float(-abs(state["w"] - 1.1))

    soup = ensembles.greedy_soup([bad, good, also_good], score)
    assert set(soup.ingredients) == {1, 2}
    assert float(soup.state["w"]) == pytest.approx(1.1)
    with pytest.raises(ValueError, match="different architectures"):
        ensembles.average_state_dicts([good, {"v": torch.tensor([1.0])}])
