"""The logit bank: every model's logits on every split, computed once and cached on disk.

``logits(dataset, model, split, profile)`` returns ``(logits, labels)`` as numpy arrays; the first
call fine-tunes the model if needed (``duolib.train``) and stores the logits of *all* splits of
the dataset, so later calls (and every analysis chapter) read them in milliseconds.

Each entry is a directory named by a hash of everything that determines it (profile, dataset
and split, model, the fine-tuned weights' own key and the code versions) holding ``logits.npy``,
``labels.npy`` and ``meta.json`` (accuracy, GFLOPs, parameters, training times, the temperature
fitted on the validation split), written atomically with a SHA-256 manifest. An entry that fails
verification (an interrupted write, a corrupted file) is rebuilt, never used.

How a model is obtained depends on its training method (``duolib.members``): the bank builds
LP-FT, IVON and from-scratch members with ``duolib.train``; other methods register a builder with
``register_builder`` (the soups of ``duolib.baselines.soups`` do), so the bank knows nothing
about them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from . import cache, data, members, profiles, train, zoo
from .calibrate import UNIFORM_TEMPERATURE, fit_temperature
from .profiles import Profile

BANK_VERSION = 2
# Datasets evaluated with the published ImageNet heads, without fine-tuning (the paper's setup;
# ImageNet-V2 is ImageNet's OOD split).
PUBLISHED_HEADS = ("imagenet",)
# How a member of each training method is obtained: builder(name, settings, dataset, rt) ->
# (model in eval mode, training metadata with the *_seconds of what it cost).
BUILDERS: dict[str, Callable] = {}
# The wall-time parts of training a member, summed into ``train_seconds``.
TRAINING_PARTS = ("pretrain_seconds", "lp_seconds", "ft_seconds", "soup_seconds")


def register_builder(method: str):
    """Decorator: ``builder`` makes the bank's members whose method is ``method``."""
    if method not in members.METHODS:
        raise ValueError(f"unknown training method {method!r}; see duolib.members.METHODS")

    def register(builder):
        BUILDERS[method] = builder
        return builder

    return register


@register_builder("lpft")
@register_builder("ivon")
@register_builder("scratch")
def _finetuned(name: str, settings: Profile, dataset: str, rt):
    return train.finetuned(name, settings, rt=rt, dataset=dataset)


def bank_splits(dataset: str) -> tuple[str, ...]:
    """The splits the bank holds for ``dataset``: val (for fitting) and the evaluation splits."""
    return tuple(s for s in ("val",) + data.evaluation_splits(dataset) if s in data.splits(dataset))


def entry_dir(dataset: str, model: str, split: str, profile: str | Profile | None = None) -> Path:
    """The directory of one bank entry (whether or not it is built yet)."""
    settings = profiles.get(profile)
    member = members.parse(model)
    # Replicas, soups and IVON also depend on the profile's baseline settings.
    extra = () if member.name == member.architecture else (settings.baselines,)
    # The zoo entry (architecture, weights tag, FLOPs, parameters) is in the key, so a changed
    # model definition gets new entries instead of stale logits.
    key = cache.key(
        "bank",
        BANK_VERSION,
        asdict(zoo.get(model)),
        settings.name,
        settings.seed,
        dataset,
        split,
        model,
        train.TRAIN_VERSION,
        data.glyphs.GENERATOR_VERSION,
        settings.glyph_split_sizes,
        settings.recipe,
        *extra,
        *data.cache_key_parts(dataset, settings, zoo.preprocessing(model)),
        # A per-dataset recipe (iWildCam's) must change the key too.
        *(() if dataset in data.GLYPH_TASKS else (settings.recipe_for(dataset),)),
    )
    return cache.root() / "bank" / settings.name / f"{dataset}-{split}-{model}-{key}"


def _build(dataset: str, model_name: str, settings: Profile):
    """Fine-tune (or load) the model, then write the entries of every split of the dataset."""
    rt = train.runtime()
    member = members.parse(model_name)
    if dataset in PUBLISHED_HEADS:
        if member.name != member.architecture:
            raise ValueError(
                f"{dataset} is evaluated with published ImageNet heads; {model_name!r} is not a "
                "published checkpoint (replicas, soups and IVON need fine-tuning)"
            )
        model = zoo.build(
            model_name, 1000, pretrained=True, weights_dir=profiles.weights_dir(settings)
        )
        train_meta = {"pretraining": zoo.get(model_name).weights}
    else:
        if member.method not in BUILDERS:
            raise ValueError(
                f"no builder for {member.method!r} members such as {model_name!r}; "
                "`import duolib` registers them all"
            )
        model, train_meta = BUILDERS[member.method](model_name, settings, dataset, rt)
    entry = zoo.get(model_name)
    # Each model sees its own resolution, crop and normalisation (torchvision/timm metadata).
    preprocessing = zoo.preprocessing(model_name)
    batch_size = settings.recipe_for(dataset).eval_batch_size
    val_logits, val_labels = train.predict_logits(
        model,
        data.load(dataset, "val", settings, preprocessing=preprocessing),
        batch_size,
        rt=rt,
        desc=f"{model_name} val",
    )
    temperature = fit_temperature(val_logits, val_labels)
    for split in bank_splits(dataset):
        if split == "val":
            logits, labels = val_logits, val_labels
        else:
            logits, labels = train.predict_logits(
                model,
                data.load(dataset, split, settings, preprocessing=preprocessing),
                batch_size,
                rt=rt,
                desc=f"{model_name} {split}",
            )
        meta = {
            "dataset": dataset,
            "split": split,
            "model": model_name,
            "profile": settings.name,
            "family": entry.family,
            "gflops": entry.gflops,
            "params": entry.params,
            "accuracy": train.accuracy(logits, labels),
            "temperature": temperature,
            # Validation logits at chance (random weights) or misaligned labels.
            "uninformative": temperature >= UNIFORM_TEMPERATURE,
            "num_samples": int(len(labels)),
            "num_classes": int(logits.shape[1]),
            "pretraining": train_meta.get("pretraining"),
            **{part: train_meta.get(part, 0.0) for part in TRAINING_PARTS},
            "train_seconds": sum(train_meta.get(part, 0.0) for part in TRAINING_PARTS),
            "soup_ingredients": train_meta.get("ingredients"),
            "val_accuracy_during_training": train_meta.get("val_accuracy"),
            "trials": [
                {k: t[k] for k in ("lr", "weight_decay", "val_accuracy", "seconds")}
                for t in train_meta.get("trials", [])
            ],
        }

        def write(tmp, logits=logits, labels=labels, meta=meta):
            np.save(tmp / "logits.npy", logits.astype(np.float32))
            np.save(tmp / "labels.npy", labels.astype(np.int64))
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

        if rt.is_main:
            cache.atomic_directory(entry_dir(dataset, model_name, split, settings), write)
    train.barrier(rt)  # under torchrun, the other ranks read what rank 0 just wrote


def _ensure(dataset: str, model: str, split: str, settings: Profile) -> Path:
    if split not in bank_splits(dataset):
        raise ValueError(
            f"the bank holds splits {bank_splits(dataset)} of {dataset!r}, not {split!r}"
        )
    zoo.get(model)  # unknown model names fail here, before any work
    directory = entry_dir(dataset, model, split, settings)
    # One lock per model and dataset: _build writes every split, so a second process asking
    # for another split of the same model waits instead of fine-tuning it again.
    lock = cache.lock_path(cache.root() / "bank" / settings.name / f"{dataset}-{model}")
    return cache.ensure(
        directory, lambda: _build(dataset, model, settings), f"bank entry {model}", lock=lock
    )


def logits(dataset: str, model: str, split: str, profile: str | Profile | None = None):
    """``(logits, labels)`` of ``model`` on ``split`` of ``dataset`` (float32, int64)."""
    directory = _ensure(dataset, model, split, profiles.get(profile))
    return np.load(directory / "logits.npy"), np.load(directory / "labels.npy")


def meta(dataset: str, model: str, split: str, profile: str | Profile | None = None) -> dict:
    """The metadata stored beside an entry (building it if needed)."""
    return cache.read_json(_ensure(dataset, model, split, profiles.get(profile)))


def train_seconds(dataset: str, model: str, profile: str | Profile | None = None) -> float:
    """Wall time that trained a bank model (pretraining + LP + fine-tuning trials + souping)."""
    return float(meta(dataset, model, bank_splits(dataset)[-1], profile)["train_seconds"])


def zoo_summary(profile: str | Profile | None = None, dataset: str | None = None) -> pd.DataFrame:
    """One row per (dataset, model, split) of the profile's zoo: compute, cost and accuracy.

    Every dataset of the profile unless ``dataset`` names one. Builds missing entries (so this
    is what fills the bank). Columns: dataset, panel (``data.panel_name``), model, family,
    gflops, params, split, accuracy, temperature, pretrain/lp/ft seconds and their total.
    """
    settings = profiles.get(profile)
    rows = []
    for name in (dataset,) if dataset else settings.datasets:
        for model in settings.zoo:
            for split in bank_splits(name):
                info = meta(name, model, split, settings)
                rows.append(
                    {
                        "dataset": name,
                        "panel": data.panel_name(name, split),
                        "model": model,
                        "family": info["family"],
                        "gflops": info["gflops"],
                        "params": info["params"],
                        "split": split,
                        "accuracy": info["accuracy"],
                        "temperature": info["temperature"],
                        "pretrain_seconds": info["pretrain_seconds"],
                        "lp_seconds": info["lp_seconds"],
                        "ft_seconds": info["ft_seconds"],
                        "train_seconds": info["pretrain_seconds"]
                        + info["lp_seconds"]
                        + info["ft_seconds"],
                    }
                )
    return pd.DataFrame(rows)
