"""Measured throughput of models and Duos (random weights, tiny batches)."""

from __future__ import annotations

import numpy as np

import duolib as dl
from duolib import throughput


def test_throughput_of_a_model_and_a_duo():

    single = throughput.images_per_second("lenet", batch_size=16, repeats=2, warmup=1)
    duo = throughput.images_per_second(("resnet_mini", "lenet"), batch_size=16, repeats=2)
    assert single > 0 and duo > 0 and np.isfinite(single) and np.isfinite(duo)
    table = throughput.measure_profile("smoke", batch_size=8, repeats=1)
    assert set(table["kind"]) == {"single", "Duo"}
    assert len(table) == len(dl.profiles.get("smoke").zoo) + len(dl.experiments.duo_pairs("smoke"))
