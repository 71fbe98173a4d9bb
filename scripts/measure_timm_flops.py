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

# Published ImageNet top-1 (%) and the image size it was measured at, from timm's
# results/results-imagenet.csv (huggingface/pytorch-image-models, commit 0173a13); the timm
# wheel does not ship it. Empty where not copied.
PUBLISHED_TOP1 = {
    "resnet50.a2_in1k": (80.772, 288),
    "resnet50.b1k_in1k": (80.706, 288),
    "resnet50.b2k_in1k": (80.454, 288),
    "resnet50.c1_in1k": (80.912, 288),
    "resnet50.ram_in1k": (79.976, 288),
    "resnet50.ra_in1k": (79.836, 288),
    "resnet50.bt_in1k": (79.640, 288),
    "resnet50.fb_ssl_yfcc100m_ft_in1k": (79.234, 224),
    "resnet50.am_in1k": (78.998, 224),
}


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
                "imagenet_top1": PUBLISHED_TOP1.get(name, ("", ""))[0],
                "top1_image_size": PUBLISHED_TOP1.get(name, ("", ""))[1],
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
