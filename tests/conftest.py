"""Shared fixtures: small synthetic logits that behave like a large and a small classifier."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp


def make_pair(num_samples=1500, num_classes=10, seed=0, large_signal=3.0, small_signal=1.5):
    """Labels and logits of a stronger and a weaker model whose errors are partly shared."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_samples)
    onehot = np.eye(num_classes)[labels]
    shared = rng.normal(size=(num_samples, num_classes))  # what makes an example hard for both
    large = large_signal * onehot + shared + 0.8 * rng.normal(size=(num_samples, num_classes))
    small = small_signal * onehot + 0.5 * shared + rng.normal(size=(num_samples, num_classes))
    return labels, large.astype(np.float32), small.astype(np.float32)


@pytest.fixture
def pair():
    return make_pair()


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory):
    """An empty duolib cache for the test session: the smoke models that several test modules
    train (lenet, its replicas, soups, IVON) are trained once and shared."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUOLIB_CACHE", str(root))
        yield root


def reference_nll(weights, members, labels):
    """NLL of sum_j w_j X_j written independently in float64 with SciPy's logsumexp."""
    combined = sum(w * m.astype(np.float64) for w, m in zip(weights, members, strict=True))
    return float(np.mean(logsumexp(combined, axis=1) - combined[np.arange(len(labels)), labels]))


def scipy_duo(large, small, labels):
    result = minimize(
        reference_nll,
        x0=[1.0, 1.0],
        args=([large, small], labels),
        method="L-BFGS-B",
        bounds=[(0, None), (0, None)],
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000},
    )
    return result.x, result.fun
