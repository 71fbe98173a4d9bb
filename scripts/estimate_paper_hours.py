"""An estimate (not a measurement) of the GPU-hours a profile's zoo needs, from FLOPs.

    .venv/bin/python scripts/estimate_paper_hours.py --profile paper --gpu a100

The model and its assumptions are ``duolib.estimate``'s (the zoo chapter prints the same table
for the active profile). Printed as a Markdown table for the README.
"""

from __future__ import annotations

import argparse

from duolib import estimate, profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="paper", choices=sorted(profiles.PROFILES))
    parser.add_argument("--gpu", default="a100", choices=sorted(estimate.GPUS))
    args = parser.parse_args()
    hardware = estimate.GPUS[args.gpu]
    hours = estimate.zoo_hours(args.profile, hardware)
    extra = estimate.baseline_hours(args.profile, hardware)
    print(f"GPU-hours on {hardware.name} (estimate)\n")
    print("| dataset | fits | GPU-hours (estimate) |\n|---|---|---|")
    for dataset, rows in hours.groupby("dataset", sort=False):
        print(f"| {dataset} | {len(rows)} | {rows['hours (estimate)'].sum():.1f} |")
    print(f"| the zoo | | {hours['hours (estimate)'].sum():.1f} |")
    print(f"| baselines' extra fine-tunes | | {extra['hours (estimate)'].sum():.1f} |")


if __name__ == "__main__":
    main()
