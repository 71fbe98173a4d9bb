"""IVON (Shen et al. 2024; the ``ivon-opt`` package): the paper's Appendix F, Table 3.

A member fine-tuned with the IVON optimizer is the bank entry ``"arch:ivon"`` (its posterior-mean
prediction; ``duolib.train`` trains it). The entry point ``ivon_predictive`` adds the sampled
posterior predictive: the mean of the softmax over S weight samples, for every S of
``profile.baselines.ivon_samples`` and ``ivon_repeats`` independent draw sequences. Cached like
the bank.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import cache, data, members, profiles, train, zoo
from ..profiles import Profile
from ._version import BASELINES_VERSION


def ivon_predictive(name: str, profile: str | Profile | None = None, dataset: str | None = None):
    """IVON's sampled predictive on every evaluation split of ``dataset``.

    ``name`` is the IVON-trained member, e.g. ``"resnet50:ivon"``. Returns
    ``(probabilities, labels, meta)``: ``probabilities[split]`` has shape
    (repeats, len(samples), N, K), entry [r, j] the mean softmax over the first ``samples[j]``
    of draw sequence r; ``labels[split]`` (N,); ``meta`` the settings and wall times.
    """
    member = members.parse(name)
    if member.method != "ivon":
        raise ValueError(f"{name!r} was not trained with IVON; expected arch:ivon")
    settings = profiles.get(profile)
    if settings.baselines is None:
        raise ValueError(f"profile {settings.name!r} defines no baselines")
    dataset = dataset or settings.baseline_dataset
    b = settings.baselines
    samples = tuple(sorted(b.ivon_samples))
    if not samples or samples[0] < 1:
        raise ValueError(f"IVON sample counts must be >= 1, got {b.ivon_samples}")
    splits = data.evaluation_splits(dataset)
    (trial,) = train.finetune_trials(name, settings, dataset)
    key = cache.key(
        "ivon-predictive",
        BASELINES_VERSION,
        Path(trial["directory"]).name,  # the trained posterior, itself keyed by its recipe
        samples,
        b.ivon_repeats,
        settings.seed,
        splits,
        settings.glyph_split_sizes,
    )

    def compute():
        rt = train.runtime()
        preprocessing = zoo.preprocessing(name)
        sets = {
            split: data.load(dataset, split, settings, preprocessing=preprocessing)
            for split in splits
        }
        train_size = len(data.load(dataset, "train", settings))
        model = train.load_trial(trial, len(sets[splits[0]].classes)).to(rt.device)
        optimizer = train.ivon_optimizer(
            model, train_size, trial["lr"], trial["weight_decay"], trial["hess_init"], rt=rt
        )
        optimizer.load_state_dict(
            torch.load(Path(trial["directory"]) / "ivon.pt", map_location=rt.device)
        )
        batch_size = settings.recipe_for(dataset).eval_batch_size
        out = {
            s: np.zeros(
                (b.ivon_repeats, len(samples), len(sets[s]), len(sets[s].classes)), dtype=np.float32
            )
            for s in splits
        }
        start = time.perf_counter()
        labels = {}
        bar = tqdm(total=b.ivon_repeats * samples[-1], desc="IVON samples", leave=False)
        for repeat in range(b.ivon_repeats):
            torch.manual_seed(settings.seed * 1_000 + repeat)  # each draw sequence repeatable
            running = dict.fromkeys(splits, 0.0)
            for draw in range(1, samples[-1] + 1):
                with optimizer.sampled_params():
                    for s in splits:
                        logits, labels[f"labels-{s}"] = train.predict_logits(
                            model, sets[s], batch_size, rt=rt
                        )
                        probs = torch.softmax(torch.from_numpy(logits).double(), dim=1)
                        running[s] = running[s] + probs.numpy()
                if draw in samples:
                    for s in splits:
                        out[s][repeat, samples.index(draw)] = running[s] / draw
                bar.update()
        bar.close()
        meta = {
            "model": name,
            "samples": list(samples),
            "repeats": b.ivon_repeats,
            "sampling_seconds": time.perf_counter() - start,
            "forward_passes": b.ivon_repeats * samples[-1] * len(splits),
        }
        return {**out, **labels}, meta

    arrays, meta = cache.cached_arrays(
        cache.root() / "bayes" / settings.name / key, compute, what=f"IVON predictive of {name}"
    )
    probabilities = {s: arrays[s] for s in splits}
    labels = {s: arrays[f"labels-{s}"] for s in splits}
    return probabilities, labels, {**meta, "trial": trial}
