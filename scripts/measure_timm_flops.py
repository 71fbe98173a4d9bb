"""Write duolib/data/timm_models.csv: GFLOPs and parameters of the paper's timm models.

timm ships no FLOPs metadata, so we measure them once, on weights-free instances at each model's
pretrained input resolution, with the same counter (duolib.flops) that the tests check against
torchvision's published numbers. Run from the repository root:

    .venv/bin/python scripts/measure_timm_flops.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import timm

from duolib.flops import count_gflops, count_params
from duolib.zoo import TIMM_MODELS

OUT = Path(__file__).resolve().parents[1] / "duolib" / "data" / "timm_models.csv"


def main() -> None:
    rows = []
    for name in TIMM_MODELS:
        cfg = timm.models.get_pretrained_cfg(name)
        model = timm.create_model(name, pretrained=False)
        rows.append(
            {
                "name": name,
                "gflops": f"{count_gflops(model, tuple(cfg.input_size)):.4f}",
                "params": count_params(model),
                "input_size": cfg.input_size[-1],
            }
        )
        print(rows[-1])
    tmp = OUT.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(OUT)


if __name__ == "__main__":
    main()
