"""Images per second of every zoo model and every Duo of a profile, on this machine.

    .venv/bin/python benchmarks/bench_throughput.py [--profile demo]

On a GPU it uses mixed precision and channels_last (as training does). Writes
benchmarks/results/throughput-<profile>.json and prints the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from duolib import throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", choices=("smoke", "demo", "paper"))
    args = parser.parse_args()
    table = throughput.measure_profile(args.profile)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    out = Path(__file__).parent / "results" / f"throughput-{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": device, "rows": table.to_dict("records")}, indent=1))
    print(f"device: {device}, torch threads {torch.get_num_threads()}")
    print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
