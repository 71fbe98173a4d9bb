"""duolib.estimate against a hand-worked count of forward passes and training steps."""

from __future__ import annotations

import pytest

import duolib as dl
from duolib import estimate


def test_fit_seconds_is_the_hand_counted_passes_times_the_bound_per_image():
    t4 = estimate.GPUS["t4"]
    colab = dl.profiles.get("colab")
    epochs = colab.recipe.trials * colab.recipe.ft_epochs
    # Caltech 256: 21,424 train, 4,591 val, 9,183 val+test images.
    forward = 9_183 + 21_424 + 4_591 + epochs * 4_591
    steps = epochs * 21_424
    flops = 2 * dl.zoo.get("resnet50").gflops * 1e9
    per_forward = max(flops / 7e12, 1 / 300)
    per_step = max(3 * flops / 7e12, 1 / 300)
    expected = forward * per_forward + steps * per_step
    assert estimate.fit_seconds("resnet50", "caltech256", colab, t4) == pytest.approx(expected)
    # A model far below the compute bound costs what decoding the images costs.
    tiny = (forward + steps) / 300
    assert estimate.fit_seconds("mnasnet0_5", "caltech256", colab, t4) == pytest.approx(tiny)


def test_imagenet_is_only_evaluated_and_unknown_datasets_are_named():
    a100 = estimate.GPUS["a100"]
    seconds = estimate.fit_seconds("resnet50", "imagenet", "paper", a100)
    assert seconds == pytest.approx(60_000 * max(2 * 4.089e9 / 40e12, 1 / 3000), rel=1e-3)
    with pytest.raises(ValueError, match="no sizes for dataset 'glyphs'"):
        estimate.fit_seconds("resnet50", "glyphs", "demo")


def test_the_colab_zoo_is_estimated_at_about_an_hour_on_a_t4():
    hours = estimate.zoo_hours("colab")
    assert list(hours["model"]) == list(dl.profiles.get("colab").zoo)
    assert 0.5 < hours["hours (estimate)"].sum() < 1.25
    extra = estimate.baseline_hours("colab")
    assert set(extra["baseline"]) == {"soup ingredients", "deep-ensemble replicas", "IVON"}


def test_the_zoo_chapters_note_labels_the_estimate_and_lists_every_model():
    text = estimate.note("colab")
    assert text.startswith("**Estimate, not a measurement**") and "one Colab T4" in text
    for model in dl.profiles.get("colab").zoo:
        assert f"| caltech256 | {model} |" in text
    for profile in ("smoke", "demo", "paper-rehearsal"):
        assert estimate.note(profile).startswith("No GPU-time estimate")
    assert "one A100" in estimate.note("paper")
