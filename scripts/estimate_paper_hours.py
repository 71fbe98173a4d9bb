"""An estimate (not a measurement) of the GPU-hours the paper profile needs, from FLOPs.

Cost of one fit = forward passes for the linear probe's features (train + val once) +
fine-tuning (3x a forward pass per training image per epoch: forward and backward) for every
trial + evaluation of val/test/OOD. ImageNet models are only evaluated (published heads).
GPU time assumes an effective ``--tflops`` (default 40: bf16 on an A100 at roughly 13% of its
312 TFLOP/s peak, the utilisation data loading and small batches typically leave; divide by
about 2 for an H100), and that no model goes faster than ``--max-images`` per second however few
FLOPs it has (default 3000: small models are bound by data loading and memory, not FLOPs).
Printed as a Markdown table for the README.
"""

from __future__ import annotations

import argparse

from duolib import profiles, zoo

# Images per split of the paper's datasets (Caltech 256: 30,607 split 70/15/15; iWildCam
# 2020-WILDS: train, id_val, id_test, OOD test; ImageNet: the official val cut 5/95 + V2).
SIZES = {
    "imagenet": {"train": 0, "eval": 50_000 + 10_000},
    "caltech256": {"train": 21_424, "eval": 30_607 - 21_424},
    "iwildcam": {"train": 129_809, "eval": 7_314 + 8_154 + 42_791},
}


def fit_hours(dataset: str, model: str, settings, tflops: float, max_images: float) -> float:
    """GPU-hours of one model's fit on one dataset."""
    seconds_per_image = max(zoo.get(model).gflops * 2 / (tflops * 1e3), 1 / max_images)
    sizes = SIZES[dataset]
    passes = sizes["eval"]
    if sizes["train"]:
        recipe = settings.recipe_for(dataset)
        # LP features (one forward) + trials x epochs x (forward + backward = 3 forwards).
        passes += sizes["train"] * (1 + 3 * recipe.ft_epochs * recipe.trials)
    return passes * seconds_per_image / 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tflops", type=float, default=40.0, help="effective TFLOP/s per GPU")
    parser.add_argument("--max-images", type=float, default=3000.0, help="images/s ceiling")
    args = parser.parse_args()
    settings = profiles.get("paper")
    print("| dataset | fits | GPU-hours (estimate) |\n|---|---|---|")
    total = 0.0
    for dataset in settings.datasets:
        hours = sum(
            fit_hours(dataset, m, settings, args.tflops, args.max_images) for m in settings.zoo
        )
        total += hours
        print(f"| {dataset} | {len(settings.zoo)} | {hours:.1f} |")
    print(f"| all (the zoo; soups, IVON, Laplace come on top) | | {total:.1f} |")


if __name__ == "__main__":
    main()
