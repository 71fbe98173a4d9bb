"""A last-layer Laplace approximation (``laplace-torch``): the paper's Appendix F, Table 4.

The entry point ``laplace_predictive`` fits laplace-torch's
``Laplace(..., subset_of_weights="last_layer", hessian_structure="kron")`` around a fine-tuned
model, tunes the prior precision by grid search on the validation split (the recipe of
laplace-torch's README) and returns its sampled predictive on every evaluation split. Cached like
the bank.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from .. import cache, data, members, profiles, train, zoo
from ..profiles import Profile
from ._version import BASELINES_VERSION

with warnings.catch_warnings():  # laplace-torch's import triggers torch's jit deprecation warning
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    from laplace import Laplace

LAPLACE_SAMPLES = 100  # weight samples of the Laplace predictive (laplace-torch's default)
# The prior-precision grid: laplace-torch's default, 100 values of log10 precision in [-4, 4].
LAPLACE_LOG10_GRID = (-4.0, 4.0, 100)


def laplace_predictive(name: str, profile: str | Profile | None = None, dataset: str | None = None):
    """Last-layer KFAC Laplace around the fine-tuned ``name``: its predictive on every split.

    laplace-torch's ``Laplace(..., subset_of_weights="last_layer", hessian_structure="kron")``
    fitted on the training split. It runs on the classifier fed with backbone features computed
    once (the backbone is frozen for a last-layer Laplace, so this is the same posterior without
    a backbone pass per batch and per prediction). The prior precision is tuned as laplace-torch's
    README does: grid search (its default grid, 100 values of log10 precision in [-4, 4]) for the
    best validation NLL of the predictive.

    The predictive is the Monte Carlo one (``pred_type="nn"``, 100 weight samples): for a
    last-layer posterior the network is linear in the sampled weights, so this *is* the GLM
    predictive, sampled. laplace-torch's closed-form probit instead materialises an (N, K, P)
    Jacobian (P = head parameters), which is two orders of magnitude slower for the same
    predictive up to Monte Carlo error (``benchmarks/bench_laplace.py``). Returns
    ``(probabilities, labels, meta)`` like ``ivon_predictive`` (one (N, K) array per split).
    """
    settings = profiles.get(profile)
    if settings.baselines is None:
        raise ValueError(f"profile {settings.name!r} defines no baselines")
    dataset = dataset or settings.baseline_dataset
    member = members.parse(name)
    if member.method != "lpft":
        raise ValueError(f"Laplace is fitted around a plain LP-FT model, not {name!r}")
    splits = data.evaluation_splits(dataset)
    trials = train.finetune_trials(name, settings, dataset)
    key = cache.key(
        "laplace",
        BASELINES_VERSION,
        LAPLACE_SAMPLES,
        LAPLACE_LOG10_GRID,
        [Path(t["directory"]).name for t in trials],
        splits,
        settings.glyph_split_sizes,
    )

    def compute():
        rt = train.runtime()
        model, _ = train.finetuned(name, settings, rt=rt, dataset=dataset)
        model = model.to(rt.device)
        start = time.perf_counter()
        features = {
            split: train.head_features(
                model,
                data.load(dataset, split, settings, preprocessing=zoo.preprocessing(name)),
                rt,
            )
            for split in ("train", "val") + splits
        }
        head = zoo.classifier(model).float().cpu()
        if not isinstance(head, torch.nn.Linear):
            raise ValueError(f"{name}'s classifier is {type(head).__name__}, not a Linear layer")
        torch.manual_seed(settings.seed)  # the Monte Carlo predictive's weight samples
        # laplace-torch warns about its own torch.jit use and reminds that its default link is
        # probit; we pass link_approx explicitly everywhere.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*torch.jit.script.*", category=FutureWarning
            )
            warnings.filterwarnings(
                "ignore", message="By default `link_approx`", category=UserWarning
            )
            la = Laplace(
                torch.nn.Sequential(torch.nn.Flatten(), head),  # laplace-torch needs > 1 module
                "classification",
                subset_of_weights="last_layer",
                hessian_structure="kron",
            )
            la.fit(DataLoader(TensorDataset(*features["train"]), batch_size=256))
            la.optimize_prior_precision(
                method="gridsearch",
                pred_type="nn",
                link_approx="mc",
                n_samples=LAPLACE_SAMPLES,
                log_prior_prec_min=LAPLACE_LOG10_GRID[0],
                log_prior_prec_max=LAPLACE_LOG10_GRID[1],
                grid_size=LAPLACE_LOG10_GRID[2],
                val_loader=DataLoader(TensorDataset(*features["val"]), batch_size=1024),
            )
        fit_seconds = time.perf_counter() - start
        arrays = {}
        for split in splits:
            x, y = features[split]
            with torch.no_grad():
                probs = torch.cat(
                    [
                        la(chunk, pred_type="nn", link_approx="mc", n_samples=LAPLACE_SAMPLES)
                        for chunk in x.split(1024)
                    ]
                )
            # float32 rounding: renormalise so every row is a probability vector
            probs = probs.double().clamp_min(0)
            arrays[split] = (probs / probs.sum(1, keepdim=True)).numpy()
            arrays[f"labels-{split}"] = y.numpy().astype(np.int64)
        meta = {
            "model": name,
            "prior_precision": float(la.prior_precision.mean()),
            "hessian_structure": "kron",
            "subset_of_weights": "last_layer",
            "predictive": f"Monte Carlo, {LAPLACE_SAMPLES} samples",
            # test-time cost beyond one forward pass: the sampled heads, in multiply-adds
            "extra_gflops": LAPLACE_SAMPLES * head.in_features * head.out_features / 1e9,
            "fit_seconds": fit_seconds,
            "predict_seconds": time.perf_counter() - start - fit_seconds,
        }
        return arrays, meta

    arrays, meta = cache.cached_arrays(
        cache.root() / "bayes" / settings.name / key, compute, what=f"Laplace predictive of {name}"
    )
    return {s: arrays[s] for s in splits}, {s: arrays[f"labels-{s}"] for s in splits}, meta


def prior_on_grid_edge(prior_precision: float, tolerance: float = 0.05) -> bool:
    """Whether a tuned prior precision sits on an edge of ``LAPLACE_LOG10_GRID`` (within
    ``tolerance`` in log10): the validation NLL then asked for more (or less) posterior spread
    than the grid allows."""
    log_precision = np.log10(prior_precision)
    return min(abs(log_precision - edge) for edge in LAPLACE_LOG10_GRID[:2]) < tolerance
