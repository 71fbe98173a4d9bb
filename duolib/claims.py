"""Testing the paper's claims: paired-bootstrap Duo gains and one claim table for every chapter.

* ``paired_bootstrap``: intervals for "metric(a) - metric(b)" by resampling test examples, the
  same resample for both systems.
* ``duo_gains``: that interval for every Duo of a profile against its temperature-scaled
  f_large, in every mode and on every evaluation split (cached, since several chapters use it).
* ``summary``: the one claim table. Per split, mode and metric (and pooled over splits,
  ``split="all"``): how many Duos improve on f_large, how many significantly, how many are
  significantly worse, the median difference and a verdict in plain words. Significance is
  corrected for multiplicity over the Duos of each row (Holm's step-down procedure on bootstrap
  p-values), so one chance result among many Duos does not flip a verdict. ``numbers`` reads
  the values a chapter quotes about one metric from it.
* ``trend``: does a gain grow with the FLOPs balance? Spearman's rank correlation over Duos with
  a bootstrap interval over Duos.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from . import bank, cache, data, profiles, zoo
from .duo import MODES
from .experiments import duo_pairs, duo_statistics, fitted_temperature, sample_statistics
from .metrics import METRICS, summarise
from .profiles import Profile

CLAIMS_VERSION = 2  # 2: a p_value column
SUMMARY_COLUMNS = ("duos", "improved", "significant", "worse", "median_difference")


def resampled(stats: dict, samples: int = 500, seed: int = 0) -> dict[str, np.ndarray]:
    """Every metric of ``summarise`` on each of ``samples`` bootstrap resamples of the examples.

    The resampled rows depend only on the number of examples and ``seed``, so systems scored on
    the same examples are resampled alike: ``paired_bootstrap`` pairs them draw by draw, and a
    reference shared by many comparisons (f_large beside each of its Duos) is resampled once.
    """
    n = len(stats["labels"])
    rng = np.random.default_rng(seed)
    draws: dict[str, np.ndarray] = {}
    for i in range(samples):
        rows = rng.integers(0, n, n)
        for name, value in summarise({k: v[rows] for k, v in stats.items()}).items():
            draws.setdefault(name, np.empty(samples))[i] = value
    return draws


def paired_bootstrap(
    stats_a: dict,
    stats_b: dict,
    samples: int = 500,
    seed: int = 0,
    level: float = 0.95,
    resampled_b: dict | None = None,
) -> pd.DataFrame:
    """Bootstrap intervals for metric(a) - metric(b), both on the same resampled test examples.

    ``stats_a`` and ``stats_b`` come from ``duolib.metrics.sample_statistics`` on the same labels.
    Returns one row per metric: the observed difference, its percentile interval,
    ``p_better``, the fraction of resamples in which a beats b (in the metric's better
    direction), and ``p_value``, the two-sided p-value of "no difference" from the bootstrap
    standard error (normal approximation: ``2 * Phi(-|difference| / sd(resampled
    differences))``). The normal approximation is deliberate: a p-value counted from a few
    hundred resamples cannot go below ~1/samples, too coarse to survive a multiplicity
    correction over many Duos.

    ``resampled_b``: ``resampled(stats_b, samples, seed)``, when b is compared with several
    systems (the same numbers, computed once).
    """
    if not np.array_equal(stats_a["labels"], stats_b["labels"]):
        raise ValueError("paired bootstrap needs both systems scored on the same labels")
    observed_a, observed_b = summarise(stats_a), summarise(stats_b)
    draws_b = resampled(stats_b, samples, seed) if resampled_b is None else resampled_b
    if any(len(values) != samples for values in draws_b.values()):
        raise ValueError(f"resampled_b holds other than {samples} resamples")
    draws_a = resampled(stats_a, samples, seed)
    draws = {name: draws_a[name] - draws_b[name] for name in observed_a}
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
                "p_value": _normal_p_value(observed_a[name] - observed_b[name], values),
            }
        )
    return pd.DataFrame(out)


def _normal_p_value(difference: float, resampled: np.ndarray) -> float:
    if not resampled.size or not np.isfinite(difference):
        return float("nan")
    spread = float(np.std(resampled, ddof=1)) if resampled.size > 1 else 0.0
    if spread == 0:  # every resample gives the same difference
        return 1.0 if difference == 0 else 0.0
    return float(2 * stats.norm.sf(abs(difference) / spread))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control, any dependence).

    The i-th smallest of m p-values is multiplied by m - i + 1 (i = 1..m), capped at 1, and the
    running maximum keeps the adjusted values in the order of the raw ones. NaN stays NaN and
    does not count in m. Written here because neither SciPy nor scikit-learn offers it.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


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
        singles = {}  # f_large alone and resampled, per (model, split): shared by its Duos

        def single(large, split):
            if (large, split) not in singles:
                temperature = fitted_temperature(large, dataset, settings)
                stats = sample_statistics(
                    settings,
                    dataset,
                    split,
                    large,
                    temperature=temperature,
                    uncertainty=uncertainty,
                )
                singles[large, split] = stats, resampled(stats, samples, seed)
            return singles[large, split]

        tables = []
        total = len(pairs) * len(data.evaluation_splits(dataset)) * len(MODES)
        systems = duo_statistics(settings, dataset, uncertainty)
        for large, small, _, split, mode, duo_stats in tqdm(
            systems, total=total, desc=f"bootstrap {dataset}", leave=False
        ):
            reference, reference_draws = single(large, split)
            table = paired_bootstrap(
                duo_stats, reference, samples=samples, seed=seed, resampled_b=reference_draws
            )
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


def _summary_row(group: pd.DataFrame, metric: str, correction: str | None, alpha: float) -> dict:
    sign = _sign(metric)
    improved = float((sign * group["difference"] > 0).mean())
    if correction is None:  # each Duo's 95% interval read on its own
        low = np.minimum(sign * group["ci_low"], sign * group["ci_high"])
        high = np.maximum(sign * group["ci_low"], sign * group["ci_high"])
        better, worse_mask = low > 0, high < 0
    else:
        rejected = holm(group["p_value"]) < alpha
        better = rejected & (sign * group["difference"] > 0)
        worse_mask = rejected & (sign * group["difference"] < 0)
    worse = float(np.mean(worse_mask))
    return {
        "duos": len(group),
        "improved": improved,
        "significant": float(np.mean(better)),
        "worse": worse,
        "median_difference": float(group["difference"].median()),
        "verdict": verdict(improved, worse),
    }


def summary(
    gains: pd.DataFrame,
    metrics=None,
    modes=MODES,
    balance=(0.0, math.inf),
    by: str = "split",
    correction: str | None = "holm",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The claim table: per split, mode and metric, how the Duos compare with their f_large.

    Only Duos with a FLOPs balance in ``[low, high)`` count. ``improved``: fraction whose
    observed difference is in the better direction; ``significant``: fraction that differ
    significantly on the better side; ``worse``: on the worse side. Rows with ``split="all"``
    pool everything; their verdict is the claim's verdict on this profile.

    Significance: with ``correction="holm"`` (the default), the Duos of one row are one family
    of tests, and a Duo differs significantly when its Holm-adjusted ``p_value`` is below
    ``alpha`` (the chance that any Duo of the row is called significant by mistake is at most
    ``alpha``). ``correction=None`` reads each Duo's 95% interval on its own (no correction).

    ``by="split"`` pools the datasets of a profile per kind of split (every in-distribution
    test set, every OOD set); ``by="panel"`` gives one row block per (dataset, split) panel.
    The grouping column is always called ``split``.
    """
    if by not in ("split", "panel"):
        raise ValueError(f"by must be 'split' or 'panel', got {by!r}")
    if correction not in ("holm", None):
        raise ValueError(f"correction must be 'holm' or None, got {correction!r}")
    if correction and "p_value" not in gains:
        raise ValueError("gains has no p_value column: recompute it with duo_gains")
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
                            **_summary_row(group, metric, correction, alpha),
                        }
                    )
    return pd.DataFrame(rows, columns=["split", "mode", "metric", *SUMMARY_COLUMNS, "verdict"])


def numbers(
    gains: pd.DataFrame,
    metric: str,
    mode: str = "weighted",
    balance=(0.0, math.inf),
    correction: str | None = "holm",
) -> dict[str, float | str]:
    """What a chapter quotes about one metric and mode, read from ``summary``.

    Keys ``improved_<split>``, ``significant_<split>``, ``worse_<split>``, ``median_<split>`` for
    ``test`` and ``ood`` (each pooling the profile's datasets; NaN where no Duo falls in
    ``balance`` or no dataset has that split), ``duos`` (distinct Duos, over datasets) and
    ``verdict`` (over all splits).
    """
    table = summary(gains, (metric,), (mode,), balance, correction=correction).set_index("split")
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


def trend(
    gains: pd.DataFrame,
    metric: str,
    mode: str = "weighted",
    split: str = "test",
    samples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float | str]:
    """Does the Duos' gain over f_large grow with the FLOPs balance?

    Spearman's rank correlation between ``flops_balance`` and the gain (the difference signed so
    that positive is better) over the Duos of one split and mode (``split="all"``: every split
    pooled), with a percentile interval from resampling the Duos (``samples`` draws). Returns
    ``rho``, ``ci_low``, ``ci_high``, ``duos`` and ``verdict``: "grow" when the interval lies
    above 0, "shrink" when below, "show no trend beyond noise" otherwise ("cannot be tested"
    with fewer than 3 Duos or a constant balance).
    """
    rows = gains[(gains["metric"] == metric) & (gains["mode"] == mode)]
    if split != "all":
        rows = rows[rows["split"] == split]
    balance = rows["flops_balance"].to_numpy(dtype=float)
    gain = _sign(metric) * rows["difference"].to_numpy(dtype=float)
    found = rank_correlation(balance, gain, samples, seed, level)
    out: dict[str, float | str] = {"duos": found.pop("n")}
    if not np.isfinite(found["rho"]):
        return out | found | {"verdict": "cannot be tested"}
    low, high = found["ci_low"], found["ci_high"]
    word = "grow" if low > 0 else "shrink" if high < 0 else "show no trend beyond noise"
    return out | found | {"verdict": word}


def rank_correlation(
    x, y, samples: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, float]:
    """Spearman's rank correlation of paired values, with a percentile interval from resampling
    the pairs (``samples`` draws; resamples in which either side is constant are skipped).

    Pairs with a missing value are dropped first. Returns ``rho``, ``ci_low``, ``ci_high`` and
    ``n`` (the pairs kept); ``rho`` is NaN with fewer than 3 pairs or a constant side, and the
    interval is NaN then or when ``samples`` is 0.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    out = {"n": int(x.size), "rho": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    out["rho"] = float(stats.spearmanr(x, y)[0])
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(samples):
        rows = rng.integers(0, x.size, x.size)
        if np.ptp(x[rows]) > 0 and np.ptp(y[rows]) > 0:  # a rank correlation needs variation
            draws.append(stats.spearmanr(x[rows], y[rows])[0])
    if draws:
        low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        out |= {"ci_low": float(low), "ci_high": float(high)}
    return out


# The paper's Figure 1 (right), as its released plot computes it (plot_notebooks/plot_3_%duos
# .ipynb): six metrics, weighted Duos whose FLOPs balance lies in [0.1, 0.2], each Duo's change
# as a share of the distance to a perfect score (AURC's perfect score taken as 0).
FIGURE1_METRICS = ("brier", "aurc", "auroc", "accuracy", "nll", "macro_f1")
FIGURE1_BALANCE = (0.1, 0.2)


def relative_improvement(
    gains: pd.DataFrame,
    table: pd.DataFrame,
    metrics=FIGURE1_METRICS,
    balance=FIGURE1_BALANCE,
    mode: str = "weighted",
) -> pd.DataFrame:
    """Each Duo's improvement over its temperature-scaled f_large toward a perfect score, in %.

    ``100 * (Duo - f_large) / (perfect - f_large)``: for a higher-is-better metric with perfect
    score 1 that is the share of the gap to 1 closed; for a lower-is-better one (perfect 0) the
    relative reduction. AURC counts 0 as perfect, as the paper's plot does (not the oracle AURC
    of the same predictions). Only Duos of ``mode`` with a FLOPs balance in ``[low, high]``
    (both ends included, as in the released plot). ``table`` is ``experiments.results``: its
    rows of mode "single" give each f_large's value. One row per (Duo, panel, metric).
    """
    low, high = balance
    chosen = gains[
        (gains["mode"] == mode)
        & gains["metric"].isin(metrics)
        & (gains["flops_balance"] >= low)
        & (gains["flops_balance"] <= high)
    ]
    panel = "panel" if "panel" in gains else "split"
    singles = table[table["mode"] == "single"].set_index([panel, "f_large"])
    base = np.array(
        [singles.loc[(p, m), metric] for p, m, metric in
         zip(chosen[panel], chosen["f_large"], chosen["metric"], strict=True)]
    )  # fmt: skip
    perfect = np.array([METRICS[m].perfect or 0.0 for m in chosen["metric"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100 * chosen["difference"].to_numpy() / (perfect - base)
    wanted = ("dataset", "split", panel, "f_large", "f_small", "flops_balance")
    columns = [c for c in dict.fromkeys(wanted) if c in chosen]
    out = chosen[columns + ["metric"]].assign(relative_improvement=share)
    return out[np.isfinite(out["relative_improvement"])].reset_index(drop=True)


def ablation_match(
    gains: pd.DataFrame, metric: str, ablation: str = "uq_only", full: str = "weighted"
) -> dict[str, float | str]:
    """Does an ablation's gain match the full Duo's? (the paper: UQ-only gives a "comparable"
    AUROC increase, "almost always match[es]" on SAC).

    Per Duo and split, whether the two gains' 95% bootstrap intervals overlap (they cannot be
    told apart). Returns ``k`` overlapping of ``n`` comparisons, ``ahead`` (the median of the
    ablation's gain minus the full Duo's, in the metric's units) and ``verdict`` (the book's
    thresholds on the overlapping share). Overlap is a lenient test of "comparable": wide
    intervals overlap easily.
    """
    both = gains[gains["metric"] == metric].pivot_table(
        index=[c for c in ("dataset", "split", "f_large", "f_small") if c in gains],
        columns="mode",
        values=["ci_low", "ci_high", "difference"],
    )
    if both.empty:
        return {"k": 0, "n": 0, "ahead": np.nan, "verdict": "cannot be tested"}
    low, high, gain = both["ci_low"], both["ci_high"], both["difference"]
    overlap = (low[ablation] <= high[full]) & (low[full] <= high[ablation])
    return {
        "k": int(overlap.sum()),
        "n": len(overlap),
        "ahead": float((gain[ablation] - gain[full]).median()),
        "verdict": verdict(float(overlap.mean()), 0.0),
    }
