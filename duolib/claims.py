"""Testing the paper's claims: paired-bootstrap Duo gains and one claim table for every chapter.

* ``paired_bootstrap``: intervals for "metric(a) - metric(b)" by resampling test examples, the
  same resample for both systems.
* ``duo_gains``: that interval for every Duo of a profile against its temperature-scaled
  f_large, in every mode and on every evaluation split (cached, since several chapters use it).
* ``summary``: the one claim table. Per split, mode and metric (and pooled over splits,
  ``split="all"``): how many Duos improve on f_large, how many significantly, how many are
  significantly worse, the median difference and a verdict in plain words. ``numbers`` reads
  the values a chapter quotes about one metric from it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import bank, cache, data, profiles, zoo
from .duo import MODES
from .experiments import duo_pairs, duo_statistics, fitted_temperature, sample_statistics
from .metrics import METRICS, summarise
from .profiles import Profile

CLAIMS_VERSION = 1
SUMMARY_COLUMNS = ("duos", "improved", "significant", "worse", "median_difference")


def paired_bootstrap(
    stats_a: dict, stats_b: dict, samples: int = 500, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Bootstrap intervals for metric(a) - metric(b), both on the same resampled test examples.

    ``stats_a`` and ``stats_b`` come from ``duolib.metrics.sample_statistics`` on the same labels.
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
        # A metric undefined on every resample (AUROC when all predictions are right) has none.
        low, high = (
            np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
            if values.size
            else (np.nan,) * 2
        )
        out.append(
            {
                "metric": name,
                "difference": observed_a[name] - observed_b[name],
                "ci_low": float(low),
                "ci_high": float(high),
                "p_better": float(np.mean(_sign(name) * values > 0)) if values.size else np.nan,
            }
        )
    return pd.DataFrame(out)


def _sign(name: str) -> float:
    # SAC at a level outside the registry is higher-is-better like every SAC.
    return METRICS[name].sign if name in METRICS else 1.0


def duo_gains(
    profile: str | Profile | None = None,
    dataset: str | None = None,
    uncertainty: str = "softmax",
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired-bootstrap intervals of "Duo minus temperature-scaled f_large" for every Duo.

    One row per (dataset, split, panel, f_large, f_small, flops_balance, mode, metric) with the
    observed difference, its 95% interval and ``p_better``, over every dataset of the profile
    unless ``dataset`` names one. Cached per dataset (keyed by the bank entries it reads).
    """
    settings = profiles.get(profile)
    names = (dataset,) if dataset else settings.datasets
    frames = [
        _dataset_gains(settings, name, uncertainty, samples, seed).assign(
            dataset=name, panel=lambda g, name=name: [data.panel_name(name, s) for s in g["split"]]
        )
        for name in names
    ]
    gains = pd.concat(frames, ignore_index=True)
    first = ["dataset", "split", "panel"]
    return gains[first + [c for c in gains if c not in first]]


def _dataset_gains(
    settings: Profile, dataset: str, uncertainty: str, samples: int, seed: int
) -> pd.DataFrame:
    pairs = duo_pairs(settings)
    models = sorted({m for pair in pairs for m in pair})
    entries = [
        bank.entry_dir(dataset, m, s, settings).name
        for m in models
        for s in bank.bank_splits(dataset)
    ]
    key = cache.key("duo_gains", CLAIMS_VERSION, sorted(entries), uncertainty, samples, seed)

    def compute() -> pd.DataFrame:
        singles = {}  # f_large alone, per (model, split): shared by all its Duos

        def single(large, split):
            if (large, split) not in singles:
                temperature = fitted_temperature(large, dataset, settings)
                singles[large, split] = sample_statistics(
                    settings,
                    dataset,
                    split,
                    large,
                    temperature=temperature,
                    uncertainty=uncertainty,
                )
            return singles[large, split]

        tables = []
        total = len(pairs) * len(data.evaluation_splits(dataset)) * len(MODES)
        systems = duo_statistics(settings, dataset, uncertainty)
        for large, small, _, split, mode, stats in tqdm(
            systems, total=total, desc=f"bootstrap {dataset}", leave=False
        ):
            table = paired_bootstrap(stats, single(large, split), samples=samples, seed=seed)
            tables.append(
                table.assign(
                    split=split,
                    f_large=large,
                    f_small=small,
                    flops_balance=zoo.flops_balance(large, small),
                    mode=mode,
                )
            )
        gains = pd.concat(tables, ignore_index=True)
        first = ["split", "f_large", "f_small", "flops_balance", "mode"]
        return gains[first + [c for c in gains if c not in first]]

    directory = cache.root() / "claims" / settings.name / key
    return cache.cached_frame(directory, compute, what=f"Duo gains on {dataset}")


def verdict(improved: float, worse: float) -> str:
    """Plain words for a claim "Duos improve on f_large": from the fractions of Duos that do."""
    if improved >= 0.75 and worse == 0:
        return "holds"
    if improved >= 0.5:
        return "holds only in part"
    return "does not hold"


def _summary_row(group: pd.DataFrame, metric: str) -> dict:
    sign = _sign(metric)
    low = np.minimum(sign * group["ci_low"], sign * group["ci_high"])
    high = np.maximum(sign * group["ci_low"], sign * group["ci_high"])
    improved = float((sign * group["difference"] > 0).mean())
    worse = float((high < 0).mean())
    return {
        "duos": len(group),
        "improved": improved,
        "significant": float((low > 0).mean()),
        "worse": worse,
        "median_difference": float(group["difference"].median()),
        "verdict": verdict(improved, worse),
    }


def summary(
    gains: pd.DataFrame, metrics=None, modes=MODES, balance=(0.0, math.inf), by: str = "split"
) -> pd.DataFrame:
    """The claim table: per split, mode and metric, how the Duos compare with their f_large.

    Only Duos with a FLOPs balance in ``[low, high)`` count. ``improved``: fraction whose
    observed difference is in the better direction; ``significant``: fraction whose 95%
    bootstrap interval excludes 0 on the better side; ``worse``: on the worse side. Rows with
    ``split="all"`` pool everything; their verdict is the claim's verdict on this profile.

    ``by="split"`` pools the datasets of a profile per kind of split (every in-distribution
    test set, every OOD set); ``by="panel"`` gives one row block per (dataset, split) panel.
    The grouping column is always called ``split``.
    """
    if by not in ("split", "panel"):
        raise ValueError(f"by must be 'split' or 'panel', got {by!r}")
    low, high = balance
    metric_names = list(dict.fromkeys(gains["metric"])) if metrics is None else list(metrics)
    chosen = gains[
        gains["metric"].isin(metric_names)
        & gains["mode"].isin(modes)
        & (gains["flops_balance"] >= low)
        & (gains["flops_balance"] < high)
    ]
    splits = list(dict.fromkeys(gains[by])) + ["all"]
    rows = []
    for mode in modes:
        for metric in metric_names:
            here = chosen[(chosen["mode"] == mode) & (chosen["metric"] == metric)]
            for split in splits:
                group = here if split == "all" else here[here[by] == split]
                if len(group):
                    rows.append(
                        {
                            "split": split,
                            "mode": mode,
                            "metric": metric,
                            **_summary_row(group, metric),
                        }
                    )
    return pd.DataFrame(rows, columns=["split", "mode", "metric", *SUMMARY_COLUMNS, "verdict"])


def numbers(
    gains: pd.DataFrame, metric: str, mode: str = "weighted", balance=(0.0, math.inf)
) -> dict[str, float | str]:
    """What a chapter quotes about one metric and mode, read from ``summary``.

    Keys ``improved_<split>``, ``significant_<split>``, ``worse_<split>``, ``median_<split>`` for
    ``test`` and ``ood`` (each pooling the profile's datasets; NaN where no Duo falls in
    ``balance`` or no dataset has that split), ``duos`` (distinct Duos, over datasets) and
    ``verdict`` (over all splits).
    """
    table = summary(gains, (metric,), (mode,), balance).set_index("split")
    out: dict[str, float | str] = {}
    for split in dict.fromkeys((*data.EVALUATION_SPLITS, *gains["split"])):
        for column, name in (
            ("improved", "improved"),
            ("significant", "significant"),
            ("worse", "worse"),
            ("median_difference", "median"),
        ):
            out[f"{name}_{split}"] = (
                float(table.loc[split, column]) if split in table.index else float("nan")
            )
    low, high = balance
    window = gains[(gains["flops_balance"] >= low) & (gains["flops_balance"] < high)]
    identity = [c for c in ("dataset", "f_large", "f_small") if c in window]
    out["duos"] = len(window[identity].drop_duplicates())
    pooled = "all" in table.index
    out["verdict"] = table.loc["all", "verdict"] if pooled else "cannot be tested (no such Duos)"
    return out
