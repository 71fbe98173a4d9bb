"""Why duolib's Laplace predictive samples instead of using laplace-torch's closed-form probit.

A last-layer, Kronecker-factored Laplace approximation (laplace-torch) around a linear head on
frozen features, at the demo's shapes by default: 128 features, 48 classes, 12,000 training and
3,000 evaluated rows. Times one prediction of all evaluated rows with

* ``pred_type="glm", link_approx="probit"`` (closed form; builds an (N, K, P) Jacobian), and
* ``pred_type="nn", link_approx="mc", n_samples=100`` (what ``duolib.baselines.laplace`` uses: for a
  last-layer posterior the network is linear in the sampled weights, so this samples the GLM
  predictive),

and how far apart the two predictives are (mean absolute difference of probabilities).

Run:  .venv/bin/python benchmarks/bench_laplace.py [--features 128 --classes 48 --rows 3000]
Writes benchmarks/results/laplace.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import torch
from laplace import Laplace
from torch.utils.data import DataLoader, TensorDataset

OUT = Path(__file__).resolve().parent / "results" / "laplace.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--classes", type=int, default=48)
    parser.add_argument("--train-rows", type=int, default=12_000)
    parser.add_argument("--rows", type=int, default=3_000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    head = torch.nn.Linear(args.features, args.classes)
    centres = torch.randn(args.classes, args.features)
    labels = torch.randint(0, args.classes, (args.train_rows + args.rows,))
    features = centres[labels] + 2.0 * torch.randn(len(labels), args.features)
    with torch.no_grad():  # a head that fits the data, as a fine-tuned one would
        head.weight.copy_(centres / 4)
        head.bias.zero_()
    train = TensorDataset(features[: args.train_rows], labels[: args.train_rows])
    rows = features[args.train_rows :]
    la = Laplace(
        torch.nn.Sequential(torch.nn.Flatten(), head),
        "classification",
        subset_of_weights="last_layer",
        hessian_structure="kron",
    )
    start = time.perf_counter()
    la.fit(DataLoader(train, batch_size=256))
    fit_seconds = time.perf_counter() - start
    la.prior_precision = 1.0
    start = time.perf_counter()
    sampled = torch.cat(
        [la(x, pred_type="nn", link_approx="mc", n_samples=100) for x in rows.split(1024)]
    )
    mc_seconds = time.perf_counter() - start
    start = time.perf_counter()
    probit = torch.cat([la(x, pred_type="glm", link_approx="probit") for x in rows.split(256)])
    probit_seconds = time.perf_counter() - start
    result = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "shape": vars(args),
        "fit_seconds": fit_seconds,
        "mc_100_seconds": mc_seconds,
        "probit_seconds": probit_seconds,
        "probit_over_mc": probit_seconds / mc_seconds,
        "mean_abs_difference": float((sampled - probit).abs().mean()),
        "max_abs_difference": float((sampled - probit).abs().max()),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
