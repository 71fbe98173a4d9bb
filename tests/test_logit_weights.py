"""The shared Newton solver: subsample first, then polish on every row."""

from __future__ import annotations

import numpy as np
from conftest import make_pair
from scipy.optimize import minimize
from scipy.special import logsumexp

import duolib as dl


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


def test_duo_on_large_input_uses_subsample_then_polishes():
    """Above the subsample size the two-stage solver must still reach the full-data optimum."""
    labels, large, small = make_pair(num_samples=12000, num_classes=20, seed=3)
    duo = dl.fit_duo(large, small, labels)
    _, scipy_value = scipy_duo(large, small, labels)
    assert reference_nll([duo.w_large, duo.w_small], [large, small], labels) <= scipy_value + 1e-9
