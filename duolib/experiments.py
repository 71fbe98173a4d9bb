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
from tqdm.auto import tqdm

from . import bank, cache, profiles, zoo
from .calibrate import fit_temperature
from .duo import fit_duo, predict
from .metrics import sample_statistics, summarise

EVAL_SPLITS = ("test", "ood")
LOWER_IS_BETTER = frozenset({"nll", "brier", "ece", "aurc", "eaurc", "augrc"})


def evaluation_splits(dataset: str) -> tuple[str, ...]:
    """The splits of ``dataset`` that are scored (test, and OOD where it has one)."""
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
    splits = evaluation_splits(dataset)
    rows = []
    temperatures = {}
    for model in settings.zoo:
        val_logits, val_labels = bank.logits(dataset, model, "val", settings.name)
        temperatures[model] = fit_temperature(val_logits, val_labels)
        for split in splits:
            metrics = summarise(
                statistics(
                    settings.name,
                    dataset,
                    split,
                    model,
                    None,
                    "single",
                    None,
                    temperatures[model],
                    uncertainty,
                )
            )
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
            for mode in ("weighted", "unweighted", "uq_only"):
                metrics = summarise(
                    statistics(
                        settings.name, dataset, split, large, small, mode, duo, None, uncertainty
                    )
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


def statistics(profile, dataset, split, large, small, mode, duo, temperature, uncertainty):
    """Per-sample statistics of f_large alone (``small=None``, temperature-scaled) or of a Duo."""
    large_logits, labels = bank.logits(dataset, large, split, profile)
    if small is None:
        return sample_statistics(large_logits / temperature, labels, uncertainty_kind=uncertainty)
    small_logits, _ = bank.logits(dataset, small, split, profile)
    prediction, unc = predict(large_logits, small_logits, duo, mode, uncertainty)
    scores = (
        (large_logits + small_logits) / 2
        if mode == "unweighted"
        else duo.combine(large_logits, small_logits)
    )
    return sample_statistics(scores, labels, prediction, unc, uncertainty_kind=uncertainty)


def duo_gains(
    profile: str | None = None,
    dataset: str | None = None,
    uncertainty: str = "softmax",
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired-bootstrap intervals of "Duo minus temperature-scaled f_large" for every Duo.

    One row per (split, f_large, f_small, mode, metric) with the observed difference, its 95%
    interval and ``p_better``. Cached on disk next to the bank (keyed by the bank entries it
    reads), since several chapters use it.
    """
    settings = profiles.get(profile)
    dataset = dataset or settings.dataset
    pairs = duo_pairs(settings.name)
    splits = evaluation_splits(dataset)
    models = sorted({m for pair in pairs for m in pair})
    entries = [
        bank.entry_dir(dataset, m, s, settings.name).name for m in models for s in splits + ("val",)
    ]
    path = (
        cache.root()
        / "experiments"
        / (cache.key("duo_gains", entries, uncertainty, samples, seed) + ".pkl")
    )
    if path.is_file():
        try:
            return pd.read_pickle(path)
        except Exception:  # noqa: BLE001 (a corrupted cache file is rebuilt, never trusted)
            path.unlink()
    rows = []
    for large, small in tqdm(pairs, desc="bootstrap", leave=False):
        duo = fitted_duo(large, small, dataset, settings.name)
        val_logits, val_labels = bank.logits(dataset, large, "val", settings.name)
        temperature = fit_temperature(val_logits, val_labels)
        for split in splits:
            base = statistics(
                settings.name, dataset, split, large, None, "single", None, temperature, uncertainty
            )
            for mode in ("weighted", "unweighted", "uq_only"):
                stats = statistics(
                    settings.name, dataset, split, large, small, mode, duo, temperature, uncertainty
                )
                table = paired_bootstrap(stats, base, samples=samples, seed=seed)
                table.insert(0, "mode", mode)
                table.insert(0, "flops_balance", zoo.flops_balance(large, small))
                table.insert(0, "f_small", small)
                table.insert(0, "f_large", large)
                table.insert(0, "split", split)
                rows.append(table)
    gains = pd.concat(rows, ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    gains.to_pickle(tmp)
    tmp.replace(path)
    return gains


def improvement_summary(gains: pd.DataFrame, metrics=("accuracy", "auroc", "aurc", "sac_98")):
    """Per split, mode and metric: how many Duos improve on f_large, and how many significantly.

    ``improved``: fraction of Duos whose observed difference is in the better direction;
    ``significant``: fraction whose 95% bootstrap interval excludes 0 on the better side;
    ``worse``: fraction whose interval excludes 0 on the worse side.
    """
    rows = []
    for (split, mode, metric), group in gains[gains["metric"].isin(metrics)].groupby(
        ["split", "mode", "metric"]
    ):
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        better = sign * group["difference"] > 0
        low, high = sign * group["ci_low"], sign * group["ci_high"]
        rows.append(
            {
                "split": split,
                "mode": mode,
                "metric": metric,
                "duos": len(group),
                "improved": float(better.mean()),
                "significant": float((np.minimum(low, high) > 0).mean()),
                "worse": float((np.maximum(low, high) < 0).mean()),
                "median_difference": float(group["difference"].median()),
            }
        )
    return pd.DataFrame(rows)


def verdict(improved: float, worse: float) -> str:
    """Plain words for a claim "Duos improve on f_large": from the fractions of Duos that do."""
    if improved >= 0.75 and worse == 0:
        return "holds"
    if improved >= 0.5:
        return "holds only in part"
    return "does not hold"


def summary_value(summary: pd.DataFrame, split: str, mode: str, metric: str, column: str):
    """One number of ``improvement_summary`` (NaN if that combination is absent)."""
    row = summary[
        (summary["split"] == split) & (summary["mode"] == mode) & (summary["metric"] == metric)
    ]
    return float(row[column].iloc[0]) if len(row) else float("nan")


def claim_numbers(gains: pd.DataFrame, metric: str, mode: str = "weighted") -> dict[str, float]:
    """The numbers a chapter quotes about one metric: per split, the fraction of Duos that
    improve on f_large, significantly improve, significantly worsen, the median difference,
    and a verdict over both splits."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    rows = gains[(gains["metric"] == metric) & (gains["mode"] == mode)]
    numbers: dict[str, float | str] = {}
    for split, group in rows.groupby("split"):
        low = np.minimum(sign * group["ci_low"], sign * group["ci_high"])
        high = np.maximum(sign * group["ci_low"], sign * group["ci_high"])
        numbers[f"improved_{split}"] = float((sign * group["difference"] > 0).mean())
        numbers[f"significant_{split}"] = float((low > 0).mean())
        numbers[f"worse_{split}"] = float((high < 0).mean())
        numbers[f"median_{split}"] = float(group["difference"].median())
    improved = float((sign * rows["difference"] > 0).mean()) if len(rows) else float("nan")
    worse = (
        float((np.maximum(sign * rows["ci_low"], sign * rows["ci_high"]) < 0).mean())
        if len(rows)
        else float("nan")
    )
    numbers["verdict"] = verdict(improved, worse)
    return numbers
