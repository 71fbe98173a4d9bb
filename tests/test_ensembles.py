"""Deep ensembles: pool-then-calibrate, distinct random subsets, the profile's ensembles."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

from duolib.baselines import ensembles


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


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 9).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(1, n), st.integers(1, 40), st.integers(0, 9))
    )
)
def test_ensemble_subsets_are_distinct_and_complete(args):
    members_count, size, count, seed = args
    subsets = ensembles.ensemble_subsets(members_count, size, count, seed)
    assert len(subsets) == min(count, math.comb(members_count, size))
    assert len(set(subsets)) == len(subsets)
    every = set(combinations(range(members_count), size))
    assert set(subsets) <= every
    if math.comb(members_count, size) <= count:
        assert set(subsets) == every
