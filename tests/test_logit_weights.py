"""The shared Newton solver: subsample first, then polish on every row."""

from __future__ import annotations

from conftest import make_pair, reference_nll, scipy_duo

import duolib as dl


def test_duo_on_large_input_uses_subsample_then_polishes():
    """Above the subsample size the two-stage solver must still reach the full-data optimum."""
    labels, large, small = make_pair(num_samples=12000, num_classes=20, seed=3)
    duo = dl.fit_duo(large, small, labels)
    _, scipy_value = scipy_duo(large, small, labels)
    assert reference_nll([duo.w_large, duo.w_small], [large, small], labels) <= scipy_value + 1e-9
