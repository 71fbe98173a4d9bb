"""Measured inference throughput (images per second) of models and of Duos.

A Duo runs both members on the same batch, one after the other, as a deployment would; its
throughput is that of the pair. Timings use a warm-up, then the median of several repeats
(CUDA is synchronised before every clock read), in eval mode without autograd.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from . import profiles, zoo
from .experiments import duo_pairs
from .profiles import Profile
from .train import runtime


def _time_batches(members, repeats: int, warmup: int, device) -> float:
    def run():
        with torch.no_grad():
            for model, batch in members:
                model(batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def images_per_second(
    names,
    batch_size: int = 64,
    repeats: int = 5,
    warmup: int = 2,
    device: str | None = None,
    amp: bool = False,
    num_classes: int = 10,
) -> float:
    """Throughput of one model (a name) or a Duo (a tuple of names) on random input.

    Each member gets the batch at its own input resolution.

    ``amp`` runs under the device's autocast dtype (bf16/fp16 on CUDA) with channels_last, as the
    training loop does; weights are random (throughput does not depend on them).
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    rt = runtime(device=device, amp=amp)
    members = []
    for name in names:  # each member sees the batch at its own input resolution
        size = zoo.get(name).input_size
        model = zoo.build(name, num_classes).eval().to(rt.device)
        batch = torch.randn(batch_size, 3, size, size, device=rt.device)
        members.append(
            (
                model.to(memory_format=torch.channels_last),
                batch.contiguous(memory_format=torch.channels_last),
            )
        )
    with rt.autocast():
        seconds = _time_batches(members, repeats, warmup, rt.device)
    return batch_size / seconds


def measure_profile(
    profile: str | Profile | None = None, batch_size=None, repeats=None, amp=None
) -> pd.DataFrame:
    """Throughput of every model of the profile's zoo and of every Duo (a DataFrame).

    Defaults: the profile's ``throughput`` batch size and repeats; mixed precision when a GPU is
    present.
    """
    settings = profiles.get(profile)
    batch_size = batch_size or settings.throughput[0]
    repeats = repeats or settings.throughput[1]
    amp = torch.cuda.is_available() if amp is None else amp
    systems = [(name,) for name in settings.zoo] + duo_pairs(settings)
    rows = []
    for members in systems:
        rows.append(
            {
                "system": " + ".join(members),
                "kind": "single" if len(members) == 1 else "Duo",
                "gflops": sum(zoo.get(m).gflops for m in members),
                "images/s": images_per_second(members, batch_size, repeats, amp=amp),
            }
        )
    return pd.DataFrame(rows)
