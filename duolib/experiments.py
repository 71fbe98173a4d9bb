"""The tidy results table of a profile: every single model and every Duo, every metric.

``results(profile)`` reads the logit bank and returns one row per (dataset, split, f_large,
f_small, mode): single models (temperature-scaled, ``mode="single"``, ``f_small`` empty) and
every Duo of each of the profile's f_large with every cheaper sidekick of its zoo, in the
paper's three modes (``weighted``, ``unweighted``, ``uq_only``). Temperatures and Duo weights are
fitted on the validation split only; the test and OOD splits are only evaluated.

``paired_bootstrap(...)`` gives confidence intervals for "Duo minus f_large" by resampling test
examples, the same resample for both, so that a chapter can say which gains are real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import bank, profiles, zoo
from .calibrate import fit_temperature
from .duo import fit_duo, predict
from .metrics import evaluate, summarise

EVAL_SPLITS = ("test", "ood")
LOWER_IS_BETTER = frozenset({"nll", "brier", "ece", "aurc", "eaurc", "augrc"})


def _evaluation_splits(dataset: str) -> tuple[str, ...]:
    from . import data

    return tuple(s for s in data.splits(dataset) if s in EVAL_SPLITS)


def duo_pairs(profile: str | None = None) -> list[tuple[str, str]]:
    """(f_large, f_small) for every f_large of the profile and every cheaper model of its zoo."""
    settings = profiles.get(profile)
    pairs = []
    for large in settings.large_models:
        for small in settings.zoo:
            if small != large and zoo.get(small).gflops < zoo.get(large).gflops:
                pairs.append((large, small))
    return pairs


def fitted_duo(large: str, small: str, dataset: str, profile: str):
    """The Duo of two bank models fitted on the validation split."""
    large_val, labels = bank.logits(dataset, large, "val", profile)
    small_val, small_labels = bank.logits(dataset, small, "val", profile)
    if not np.array_equal(labels, small_labels):
        raise ValueError(f"{large} and {small} were evaluated on different validation labels")
    return fit_duo(large_val, small_val, labels)


def results(
    profile: str | None = None, dataset: str | None = None, uncertainty: str = "softmax"
) -> pd.DataFrame:
    """Every single model and every Duo of the profile on every evaluation split."""
    settings = profiles.get(profile)
    dataset = dataset or settings.dataset
    splits = _evaluation_splits(dataset)
    rows = []
    temperatures = {}
    for model in settings.zoo:
        val_logits, val_labels = bank.logits(dataset, model, "val", settings.name)
        temperatures[model] = fit_temperature(val_logits, val_labels)
        for split in splits:
            logits, labels = bank.logits(dataset, model, split, settings.name)
            metrics = evaluate(logits / temperatures[model], labels, uncertainty_kind=uncertainty)
            rows.append(
                {
                    "dataset": dataset,
                    "split": split,
                    "f_large": model,
                    "f_small": "",
                    "mode": "single",
                    "flops_balance": 0.0,
                    "w_large": 1 / temperatures[model],
                    "w_small": 0.0,
                    "gflops": zoo.get(model).gflops,
                    **metrics,
                }
            )
    for large, small in duo_pairs(settings.name):
        duo = fitted_duo(large, small, dataset, settings.name)
        balance = zoo.flops_balance(large, small)
        for split in splits:
            large_logits, labels = bank.logits(dataset, large, split, settings.name)
            small_logits, _ = bank.logits(dataset, small, split, settings.name)
            for mode in ("weighted", "unweighted", "uq_only"):
                prediction, unc = predict(large_logits, small_logits, duo, mode, uncertainty)
                scores = (
                    (large_logits + small_logits) / 2
                    if mode == "unweighted"
                    else duo.combine(large_logits, small_logits)
                )
                metrics = evaluate(
                    scores,
                    labels,
                    prediction=prediction,
                    uncertainty=unc,
                    uncertainty_kind=uncertainty,
                )
                w_large, w_small = (
                    (0.5, 0.5) if mode == "unweighted" else (duo.w_large, duo.w_small)
                )
                rows.append(
                    {
                        "dataset": dataset,
                        "split": split,
                        "f_large": large,
                        "f_small": small,
                        "mode": mode,
                        "flops_balance": balance,
                        "w_large": w_large,
                        "w_small": w_small,
                        "gflops": zoo.get(large).gflops + zoo.get(small).gflops,
                        **metrics,
                    }
                )
    return pd.DataFrame(rows)


def paired_bootstrap(
    stats_a: dict, stats_b: dict, samples: int = 500, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Bootstrap intervals for metric(a) - metric(b), both on the same resampled test examples.

    ``stats_a`` and ``stats_b`` come from ``metrics.sample_statistics`` on the same labels.
    Returns one row per metric: the observed difference, its percentile interval, and
    ``p_better``, the fraction of resamples in which a beats b (in the metric's better
    direction).
    """
    if not np.array_equal(stats_a["labels"], stats_b["labels"]):
        raise ValueError("paired bootstrap needs both systems scored on the same labels")
    observed_a, observed_b = summarise(stats_a), summarise(stats_b)
    n = len(stats_a["labels"])
    rng = np.random.default_rng(seed)
    draws = {name: np.empty(samples) for name in observed_a}
    for i in range(samples):
        rows = rng.integers(0, n, n)
        a = summarise({k: v[rows] for k, v in stats_a.items()})
        b = summarise({k: v[rows] for k, v in stats_b.items()})
        for name in draws:
            draws[name][i] = a[name] - b[name]
    out = []
    for name, values in draws.items():
        values = values[np.isfinite(values)]
        sign = -1.0 if name in LOWER_IS_BETTER else 1.0
        low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
        out.append(
            {
                "metric": name,
                "difference": observed_a[name] - observed_b[name],
                "ci_low": float(low),
                "ci_high": float(high),
                "p_better": float(np.mean(sign * values > 0)),
            }
        )
    return pd.DataFrame(out)
