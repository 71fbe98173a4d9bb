"""Temperature scaling against SciPy on the same objective."""

from __future__ import annotations

import pytest
from conftest import reference_nll
from scipy.optimize import minimize_scalar

import duolib as dl


def test_temperature_matches_scipy(pair):
    labels, large, _ = pair
    temperature = dl.fit_temperature(large, labels)
    result = minimize_scalar(
        lambda t: reference_nll([1.0 / t], [large], labels),
        bounds=(0.05, 20),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert temperature == pytest.approx(result.x, rel=1e-4)
    assert reference_nll([1 / temperature], [large], labels) <= result.fun + 1e-9


def test_temperature_undoes_overconfidence(pair):
    """Logits scaled up 4x get a temperature 4x larger and the same calibrated NLL and ECE."""
    labels, large, _ = pair
    base = dl.fit_temperature(large, labels)
    sharpened = dl.fit_temperature(4 * large, labels)
    assert sharpened == pytest.approx(4 * base, rel=1e-6)
    raw = dl.evaluate(4 * large, labels)
    calibrated = dl.evaluate(4 * large / sharpened, labels)
    assert calibrated["nll"] < raw["nll"] - 0.1
    assert calibrated["ece"] < raw["ece"]
