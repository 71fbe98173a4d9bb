"""An estimate (not a measurement) of the GPU time a profile's pretrained zoo needs, from FLOPs.

One fit of one model on one dataset costs, in forward passes per image:

* the linear probe's features: one pass over train and validation (``duolib.train.lpft``);
* each fine-tuning trial: ``ft_epochs`` x (a training step per train image, plus one pass over
  validation);
* the bank's logits: one pass over validation, test and OOD.

An image takes ``max(FLOPs / throughput, 1 / max_images)`` to pass forward and
``max(3 FLOPs / throughput, 1 / max_images)`` to train on (a forward and a backward pass, one
decode): compute-bound for big models, bound by decoding and augmenting images (``max_images``
per second) for small ones.
``GPUS`` holds the assumptions for the hardware the book names; they are rough (effective rates
under mixed precision, with the CPUs a host of that kind usually has), so every result is an
estimate, and the chapters and README say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import profiles, zoo
from .members import parse

# Images per split of the paper's datasets: Caltech 256 (30,607 images, split 70/15/15 by the
# released procedure); iWildCam 2020-WILDS (train; id_val + id_test; OOD val + test); ImageNet
# (evaluation only: its official val split 5/95, plus ImageNet-V2's 10,000).
SIZES = {
    "imagenet": {"train": 0, "val": 2_500, "eval": 50_000 + 10_000},
    "caltech256": {"train": 21_424, "val": 4_591, "eval": 30_607 - 21_424},
    "iwildcam": {"train": 129_809, "val": 7_314, "eval": 7_314 + 8_154 + 14_961 + 42_791},
}


@dataclass(frozen=True)
class Hardware:
    """Effective rates a GPU box sustains: TFLOP/s of forward passes, and images per second
    its CPUs decode and augment."""

    name: str
    tflops: float
    max_images: float


GPUS = {
    # Colab's T4 (65 TFLOP/s fp16 peak; about 7 effective in mixed-precision training) with
    # Colab's 2 vCPUs decoding JPEGs and running RandAugment (about 300 images/s).
    "t4": Hardware("one Colab T4", tflops=7.0, max_images=300.0),
    # An A100 (312 bf16 peak; about 40 effective) with 8+ data-loading workers.
    "a100": Hardware("one A100", tflops=40.0, max_images=3000.0),
}


def _seconds_per_image(model: str, hardware: Hardware, compute: float) -> float:
    """``compute``: forward passes' worth of FLOPs per image (1: inference, 3: a training step)."""
    flops = 2 * zoo.get(model).gflops * 1e9  # multiply-adds -> FLOPs; zoo.get reads member names
    return max(compute * flops / (hardware.tflops * 1e12), 1 / hardware.max_images)


def fit_seconds(
    model: str,
    dataset: str,
    profile=None,
    hardware: Hardware = GPUS["t4"],
    epochs: int | None = None,
) -> float:
    """Estimated seconds to fine-tune ``model`` on ``dataset`` and compute its bank logits.

    ``epochs``: fine-tuning epochs in all (default: the recipe's trials x ft_epochs)."""
    settings = profiles.get(profile)
    if dataset not in SIZES:
        raise ValueError(f"no sizes for dataset {dataset!r}; known: {sorted(SIZES)}")
    sizes = SIZES[dataset]
    forward, steps = sizes["eval"], 0
    if sizes["train"]:
        recipe = settings.recipe_for(dataset)
        epochs = recipe.trials * recipe.ft_epochs if epochs is None else epochs
        forward += sizes["train"] + sizes["val"] + epochs * sizes["val"]
        steps = epochs * sizes["train"]
    return forward * _seconds_per_image(model, hardware, 1) + steps * _seconds_per_image(
        model, hardware, 3
    )


def zoo_hours(profile=None, hardware: Hardware = GPUS["t4"]) -> pd.DataFrame:
    """Estimated hours per zoo model and dataset (one row each), with each model's FLOPs
    balance against the profile's first f_large."""
    settings = profiles.get(profile)
    rows = []
    for dataset in settings.datasets:
        for model in settings.zoo:
            large = settings.large_models[0] if settings.large_models else model
            rows.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "gflops": zoo.get(model).gflops,
                    "flops_balance": zoo.flops_balance(large, model),
                    "hours (estimate)": fit_seconds(model, dataset, settings, hardware) / 3600,
                }
            )
    return pd.DataFrame(rows)


def baseline_hours(profile=None, hardware: Hardware = GPUS["t4"]) -> pd.DataFrame:
    """Estimated hours of the baselines' extra fine-tunes: soup ingredients beyond the zoo's
    trials, deep-ensemble replicas beyond the zoo model, and the IVON run."""
    settings = profiles.get(profile)
    b = settings.baselines
    if b is None:
        return pd.DataFrame(columns=["baseline", "fits", "hours (estimate)"])
    dataset = settings.baseline_dataset
    recipe = settings.recipe_for(dataset)
    rows = []
    extra_trials = max(b.soup_ingredients - recipe.trials, 0)
    if extra_trials:
        one = fit_seconds(b.soup_model, dataset, settings, hardware) / recipe.trials
        rows.append(("soup ingredients", extra_trials, extra_trials * one / 3600))
    replicas = [m for m in b.ensemble_members if parse(m).replica > 0]
    if replicas and SIZES[settings.ensemble_dataset]["train"]:
        one = fit_seconds(replicas[0], settings.ensemble_dataset, settings, hardware)
        rows.append(("deep-ensemble replicas", len(replicas), len(replicas) * one / 3600))
    if b.ivon_model:  # one run, of its own length
        epochs = b.ivon_epochs or settings.recipe_for(dataset).ft_epochs
        seconds = fit_seconds(b.ivon_model, dataset, settings, hardware, epochs=epochs)
        rows.append(("IVON", 1, seconds / 3600))
    return pd.DataFrame(rows, columns=["baseline", "fits", "hours (estimate)"])


def note(profile=None) -> str:
    """Markdown for the zoo chapter, shown before it trains: this profile's estimated GPU time,
    per model and in total, on the hardware ``Profile.gpu`` names, labelled an estimate. A
    profile that trains on CPU or on generated data gets a line saying there is none."""
    settings = profiles.get(profile)
    known = all(dataset in SIZES for dataset in settings.datasets)
    if settings.gpu is None or settings.generated_data is not None or not known:
        return (
            "No GPU-time estimate for this profile: it runs on the CPU or on generated data "
            "(the measured runtime above says how long it takes)."
        )
    hardware = GPUS[settings.gpu]
    hours = zoo_hours(settings, hardware)
    extra = baseline_hours(settings, hardware)["hours (estimate)"].sum()
    lines = [
        f"**Estimate, not a measurement** (`duolib.estimate`: FLOPs and epochs on "
        f"{hardware.name}, {hardware.tflops:g} effective TFLOP/s, at most "
        f"{hardware.max_images:g} images/s decoded): fine-tuning the zoo should take about "
        f"**{_hours(hours['hours (estimate)'].sum())}**, the baselines' extra fine-tunes "
        f"about {_hours(extra)} more.",
        "",
        "| dataset | model | GFLOPs | FLOPs balance | estimate |",
        "|---|---|---|---|---|",
    ]
    for values in hours.to_dict("records"):
        lines.append(
            f"| {values['dataset']} | {values['model']} | {values['gflops']:.2f} | "
            f"{values['flops_balance']:.3f} | {_hours(values['hours (estimate)'])} |"
        )
    return "\n".join(lines)


def _hours(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes} min" if minutes < 90 else f"{hours:.1f} h"
