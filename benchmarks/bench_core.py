"""Speed of the core on ImageNet-sized validation logits (50,000 x 1,000, float32).

Measures, side by side in one run:

* ``dl.fit_duo`` (projected Newton, subsample then polish);
* the procedure of the paper's released code, ``dl.reference.fit_duo``: the Duo logits are
  ``(z_L / T_L + z_S / T_S) / 2``, a 25 x 25 grid over both temperatures (0.05 to 4.85, step
  0.2; evaluate/3_duo_temp_scale.py), then L-BFGS from the best grid point (lr 0.01, 50
  iterations);
* ``dl.evaluate`` with every metric.

Run:  .venv/bin/python benchmarks/bench_core.py [--samples 50000 --classes 1000]
Writes benchmarks/results/core.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

import duolib as dl


def synthetic_logits(num_samples: int, num_classes: int, seed: int = 0):
    """A large (~80% accurate) and a small (~60%) model whose errors partly coincide."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(num_classes, (num_samples,), generator=generator)
    shared = torch.randn(num_samples, num_classes, generator=generator)
    large = 1.6 * shared + torch.randn(num_samples, num_classes, generator=generator)
    small = 1.0 * shared + 1.6 * torch.randn(num_samples, num_classes, generator=generator)
    rows = torch.arange(num_samples)
    large[rows, labels] += 7.8
    small[rows, labels] += 6.9
    return labels, large.contiguous(), small.contiguous()


def duo_nll(large, small, labels, inv_large, inv_small, chunk=4096):
    """Mean NLL of inv_large * z_L + inv_small * z_S, chunked, in float64 accumulation."""
    total = torch.zeros((), dtype=torch.float64)
    for start in range(0, large.shape[0], chunk):
        z = inv_large * large[start : start + chunk] + inv_small * small[start : start + chunk]
        total += torch.nn.functional.cross_entropy(
            z, labels[start : start + chunk], reduction="sum"
        )
    return total / large.shape[0]


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "core.json")
    args = parser.parse_args()

    labels, large, small = synthetic_logits(args.samples, args.classes)
    exact = lambda w_l, w_s: float(duo_nll(large.double(), small.double(), labels, w_l, w_s))  # noqa: E731

    duo, duo_times = timed(lambda: dl.fit_duo(large, small, labels), args.repeats)
    released, paper_times = timed(lambda: dl.reference.fit_duo(large, small, labels), 1)
    paper_wl, paper_ws = released.w_large, released.w_small
    duo_logits = duo.combine(large, small)
    metrics, eval_times = timed(lambda: dl.evaluate(duo_logits, labels), args.repeats)

    result = {
        "shape": [args.samples, args.classes],
        "machine": f"{platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}",
        "fit_duo_seconds_median": float(np.median(duo_times)),
        "fit_duo_seconds_all": duo_times,
        "fit_duo_weights": [duo.w_large, duo.w_small],
        "fit_duo_nll": exact(duo.w_large, duo.w_small),
        "paper_procedure_seconds": paper_times[0],
        "paper_procedure_weights": [paper_wl, paper_ws],
        "paper_procedure_nll": exact(paper_wl, paper_ws),
        "speedup": paper_times[0] / float(np.median(duo_times)),
        "evaluate_seconds_median": float(np.median(eval_times)),
        "evaluate_seconds_all": eval_times,
        "large_accuracy": float((large.argmax(1) == labels).float().mean()),
        "small_accuracy": float((small.argmax(1) == labels).float().mean()),
        "duo_metrics": metrics,
    }
    result["nll_gap_paper_minus_ours"] = result["paper_procedure_nll"] - result["fit_duo_nll"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    for key in (
        "fit_duo_seconds_median",
        "paper_procedure_seconds",
        "speedup",
        "fit_duo_nll",
        "paper_procedure_nll",
        "nll_gap_paper_minus_ours",
        "evaluate_seconds_median",
        "large_accuracy",
        "small_accuracy",
    ):
        print(f"{key:>28}: {result[key]}")


if __name__ == "__main__":
    main()
