"""Bad input gets a ValueError that names the problem, never a wrong number or an IndexError."""

from __future__ import annotations

import numpy as np
import pytest

import duolib as dl
from duolib import metrics

LABELS = np.array([0, 1, 2, 1])
GOOD = np.eye(3)[LABELS] * 2.0 + 0.1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dl.fit_temperature(GOOD[0], LABELS), "2-D"),
        (lambda: dl.fit_temperature(GOOD[:0], LABELS[:0]), "empty"),
        (lambda: dl.fit_temperature(np.where(GOOD > 1, np.nan, GOOD), LABELS), "NaN"),
        (lambda: dl.fit_temperature(np.where(GOOD > 1, np.inf, GOOD), LABELS), "infinite"),
        (lambda: dl.fit_temperature(GOOD, np.array([0, 1, 3, 1])), "only 3 classes"),
        (lambda: dl.fit_temperature(GOOD, np.array([0, -1, 2, 1])), "negative"),
        (lambda: dl.fit_temperature(GOOD, LABELS[:3]), "3 entries"),
        (lambda: dl.fit_temperature(GOOD, np.array([0.5, 1, 2, 1])), "integer"),
        (lambda: dl.fit_duo(GOOD, GOOD[:3], LABELS), "numbers of samples"),
        (lambda: dl.fit_duo(GOOD, GOOD[:, :2], LABELS), "numbers of classes"),
        (lambda: dl.fit_duo(GOOD, GOOD, LABELS[None]), "1-D"),
        (lambda: dl.predict(GOOD, GOOD, mode="weighted"), "needs a fitted Duo"),
        (lambda: dl.predict(GOOD, GOOD, mode="average"), "mode must be"),
        (lambda: dl.predict(GOOD, GOOD, mode="unweighted", uncertainty="margin"), "uncertainty"),
        (lambda: dl.evaluate(GOOD, LABELS, prediction=np.array([0, 1, 5, 1])), "outside"),
        (lambda: dl.evaluate(GOOD, LABELS, uncertainty=np.ones(3)), "shape"),
        (lambda: dl.evaluate(GOOD, LABELS, uncertainty=np.array([0, 1, np.nan, 0])), "NaN"),
        (lambda: dl.evaluate(GOOD, LABELS, kind="probs"), "probability vectors"),
        (lambda: dl.evaluate(GOOD, LABELS, kind="logprobs"), "kind must be"),
        (lambda: metrics.sac([True, False], [0.1, 0.2], accuracy=1.5), "accuracy must be"),
        (lambda: metrics.aurc([True, False], [0.1]), "shape"),
        (lambda: metrics.aurc([], []), "non-empty"),
        (lambda: metrics.aurc([2, 0], [0.1, 0.2]), "booleans"),
        (lambda: dl.to_paper_scale({"brier": 0.1}, 1), "num_classes"),
        (lambda: dl.profiles.get("huge"), "unknown profile"),
        (lambda: dl.zoo.get("resnet9000"), "unknown model"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_shuffled_labels_are_reported_not_fitted():
    """Labels unrelated to the logits make the best temperature infinite: say so."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(400, 5))
    labels = rng.integers(0, 5, 400)
    flipped = -5 * np.eye(5)[labels]  # anti-informative logits
    with pytest.raises(ValueError, match="no information"):
        dl.fit_temperature(flipped + 0.01 * logits, labels)
