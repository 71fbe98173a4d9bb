"""Bad input gets a ValueError that names the problem, never a wrong number or an IndexError."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.metrics import log_loss

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
        # macro-F1: lengths, emptiness, negative and non-integer labels
        (lambda: metrics.macro_f1([0, 1, 2], [0, 1]), "differ in length"),
        (lambda: metrics.macro_f1([], []), "non-empty"),
        (lambda: metrics.macro_f1([0, -1], [0, 1]), "negative"),
        (lambda: metrics.macro_f1([0.5, 1.5], [0.5, 1.5]), "integer class indices"),
        (lambda: metrics.macro_f1([True, False], [1, 0]), "integer class indices"),
        # ECE: correctness must be 0/1; at least one bin
        (lambda: metrics.ece([5, 0], [0.5, 0.5]), "booleans"),
        (lambda: metrics.ece([1, 0], [0.5, 0.5], num_bins=0), "num_bins"),
        (lambda: metrics.ece([1, 0], [0.5, 0.5], num_bins=2.5), "num_bins"),
        # oracle AURC: booleans only, not empty
        (lambda: metrics.oracle_aurc([2, 3, 0]), "booleans"),
        (lambda: metrics.oracle_aurc([]), "non-empty"),
        # a Duo with weights that cannot be weights
        (lambda: dl.Duo(float("nan"), 1.0, 0.0), "w_large must be finite"),
        (lambda: dl.Duo(1.0, float("inf"), 0.0), "w_small must be finite"),
        (lambda: dl.Duo(1.0, -0.5, 0.0), "w_small must be finite and >= 0"),
        (lambda: dl.Duo("1", 0.5, 0.0), "w_large must be a number"),
        (lambda: dl.predict(GOOD, GOOD, duo=(1.0, 0.5)), "duo must be a Duo"),
        # string labels name the argument
        (lambda: dl.fit_temperature(GOOD, np.array(["a", "b", "c", "b"])), "labels must be"),
        (lambda: dl.evaluate(GOOD, np.array(["a", "b", "c", "b"])), "labels must be numeric"),
        # model names: None, and bank requests on splits the dataset lacks
        (lambda: dl.zoo.get(None), "must be a string"),
        (lambda: dl.bank.logits("glyphs", "lenet", "train", "smoke"), "holds splits"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_uninformative_logits_are_reported_and_scaled_to_uniform():
    """Logits anti-correlated with the labels make the best temperature infinite: say so, and
    return the uniform prediction that minimises the NLL (log K)."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(400, 5))
    labels = rng.integers(0, 5, 400)
    flipped = -5 * np.eye(5)[labels] + 0.01 * logits  # anti-informative logits
    with pytest.warns(UserWarning, match="no information"):
        temperature = dl.fit_temperature(flipped, labels)
    nll = log_loss(labels, softmax(flipped / temperature, axis=1), labels=range(5))
    assert nll == pytest.approx(np.log(5), abs=1e-4)


def test_fits_warn_when_given_probabilities_instead_of_logits():
    probs = np.exp(GOOD) / np.exp(GOOD).sum(1, keepdims=True)
    with pytest.warns(UserWarning, match="look like probabilities"):
        dl.fit_temperature(probs, LABELS)
    with pytest.warns(UserWarning, match="large logits look like probabilities"):
        dl.fit_duo(probs, GOOD, LABELS)


def test_unknown_names_list_every_accepted_name():
    with pytest.raises(ValueError) as error:
        dl.zoo.get("resnet9000")
    for name in ("convnext_base", "mnasnet0_75", "resnet50.a2_in1k", "lenet", "resnet18_32px"):
        assert name in str(error.value)
    for call in (
        lambda: dl.data.load("mnist", "test", "smoke"),
        lambda: dl.bank.logits("mnist", "lenet", "test", "smoke"),
    ):
        with pytest.raises(ValueError) as error:
            call()
        for name in dl.data.names():
            assert name in str(error.value)
    assert "glyphs" in dl.data.names() and "iwildcam" in dl.data.names()
