"""Seconds per fine-tuning epoch with RandAugment on the fly against shared augmented epochs.

    .venv/bin/python benchmarks/bench_shared_epochs.py [--profile demo] [--models lenet ...]

For each model, one fine-tuning epoch (``run_epochs``, RandAugment as the profile's recipe,
validation included) three ways: augmenting every image as the loader reads it; drawing the
shared epoch (the first model of a seed, which also stores it, ``duolib.train.epochs``); and
reading it back (every later model of that seed). Also the augmentation alone, drawn and read.
On a GPU training uses mixed precision and channels_last, as always. Runs in a temporary cache
(the generated images are rendered there). Writes
benchmarks/results/shared-epochs-<profile>-<device>.json and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from duolib import data, profiles, zoo
from duolib.train import epochs, loop, runtime


def one_epoch(name, train_set, val_set, recipe, rt, checkpoint) -> float:
    model = zoo.build(name, num_classes=len(train_set.classes))
    _, _, history = loop.run_epochs(
        model,
        train_set,
        val_set,
        epochs=1,
        lr=recipe.lr_range[0],
        weight_decay=recipe.wd_range[0],
        batch_size=recipe.batch_size,
        checkpoint=checkpoint,
        seed=0,
        augment=loop.randaugment(recipe.randaugment, recipe.hflip),
        rt=rt,
        desc=name,
    )
    checkpoint.unlink(missing_ok=True)
    return history[0]["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", choices=("smoke", "demo"))
    parser.add_argument("--models", nargs="+", default=["lenet", "resnet_small", "resnet18_32px"])
    args = parser.parse_args()
    settings = profiles.get(args.profile)
    recipe, rt = settings.recipe, runtime()
    device = torch.cuda.get_device_name() if rt.device.type == "cuda" else "CPU"
    rows = []
    with tempfile.TemporaryDirectory() as root:
        os.environ["DUOLIB_CACHE"] = root
        train_set = data.load(settings.datasets[0], "train", settings)
        val_set = data.load(settings.datasets[0], "val", settings)
        augment = loop.randaugment(recipe.randaugment, recipe.hflip)
        for state in ("drawn", "read"):
            torch.manual_seed(0)
            start = time.perf_counter()
            epochs.augmented_epoch(train_set, augment, 7, 0, rt)
            rows.append({"model": "(augmentation alone)", "epoch": state,
                         "seconds": time.perf_counter() - start})  # fmt: skip
        shareable = epochs.shareable
        for name in args.models:
            for state in ("on the fly", "drawn", "read"):
                if state == "drawn":  # as the first model of a seed: the epoch is not stored yet
                    shutil.rmtree(Path(root) / "epochs", ignore_errors=True)
                epochs.shareable = (lambda *a: False) if state == "on the fly" else shareable
                seconds = one_epoch(name, train_set, val_set, recipe, rt, Path(root) / "ckpt.pt")
                rows.append({"model": name, "epoch": state, "seconds": seconds})
                print(rows[-1], flush=True)
        epochs.shareable = shareable
    table = pd.DataFrame(rows)
    table["images"] = len(train_set)
    out = Path(__file__).parent / "results"
    if os.environ.get("OUT"):  # the device machine: results come back from $OUT
        out = Path(os.environ["OUT"])
    tag = "cpu" if device == "CPU" else device.lower().replace(" ", "-")
    path = out / f"shared-epochs-{args.profile}-{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"device": device, "threads": torch.get_num_threads(),
                                "rows": table.to_dict("records")}, indent=1))  # fmt: skip
    print(f"device: {device}, torch threads {torch.get_num_threads()}")
    print(table.pivot(index="model", columns="epoch", values="seconds").round(2).to_string())


if __name__ == "__main__":
    main()
