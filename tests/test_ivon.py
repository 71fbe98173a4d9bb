"""IVON: the sampled posterior predictive of a member fine-tuned with IVON."""

from __future__ import annotations

import numpy as np
import torch

import duolib as dl
from duolib import bank
from duolib.baselines import ivon


def _assert_probability_vectors(probs):
    assert np.isfinite(probs).all()
    assert probs.min() >= 0
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)


def test_ivon_predictive_is_a_proper_probability_vector(smoke_cache):
    settings_ = dl.profiles.get("smoke").baselines
    probs, labels, meta = ivon.ivon_predictive("lenet:ivon", "smoke")
    assert set(probs) == {"test", "ood"}
    test = probs["test"]
    assert test.shape == (settings_.ivon_repeats, len(settings_.ivon_samples), 256, 48)
    assert labels["test"].shape == (256,)
    _assert_probability_vectors(test)
    # Sampling is real: independent draw sequences give different predictives ...
    assert not np.allclose(test[0, 0], test[1, 0])
    # ... around the posterior mean, which the bank holds as "lenet:ivon".
    mean_logits, mean_labels = bank.logits("glyphs", "lenet:ivon", "test", "smoke")
    assert np.array_equal(mean_labels, labels["test"])
    mean_probs = torch.softmax(torch.from_numpy(mean_logits).double(), 1).numpy()
    assert np.abs(test[:, -1] - mean_probs).mean() < np.abs(test[:, -1] - 1 / 48).mean()
    assert meta["forward_passes"] == settings_.ivon_repeats * max(settings_.ivon_samples) * 2
    again, _, _ = ivon.ivon_predictive("lenet:ivon", "smoke")
    assert np.array_equal(again["test"], test)  # cached
