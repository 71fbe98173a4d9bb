"""Last-layer KFAC Laplace (laplace-torch) around a fine-tuned member."""

from __future__ import annotations

import numpy as np

from duolib.baselines import laplace


def _assert_probability_vectors(probs):
    assert np.isfinite(probs).all()
    assert probs.min() >= 0
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)


def test_laplace_predictive_is_a_proper_probability_vector(smoke_cache):
    probs, labels, meta = laplace.laplace_predictive("lenet", "smoke")
    for split in ("test", "ood"):
        assert probs[split].shape == (256, 48)
        _assert_probability_vectors(probs[split])
    # laplace-torch's default grid: log10 prior precision in [-4, 4]
    assert 1e-4 * 0.999 <= meta["prior_precision"] <= 1e4 * 1.001
    assert meta["subset_of_weights"] == "last_layer" and meta["hessian_structure"] == "kron"
