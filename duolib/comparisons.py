"""Like-for-like tables of Duos and the baselines: the paper's Tables 1-4 and Figure 7.

Every row describes one predictor on one split: ``method`` (its row label), the models it uses,
``gflops`` (test-time GFLOPs per image, all forward passes included), ``train_seconds`` (wall
time to train everything it needs: pretraining, LP, every fine-tuning run, souping) and every
metric of ``duolib.metrics`` as fractions. ``paper_table`` groups rows by method into the paper's
layout: metrics in the paper's units, mean ± std over the rows of a method (over ensemble
subsets, over Duos, over IVON's repeated draws), costs beside them.

Single models are temperature-scaled and Duos are fitted on the validation split, as everywhere
in the book; only the chosen evaluation split is scored.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

from . import bank, profiles, zoo
from .calibrate import fit_temperature
from .ensembles import pool_then_calibrate
from .experiments import fitted_duo, statistics
from .metrics import evaluate, summarise
from .paper_scale import to_paper_scale

# The columns of the paper's Tables 1-4 (Table 4 adds F1 and SAC@98), in its order.
TABLE_METRICS = ("accuracy", "macro_f1", "brier", "nll", "ece", "auroc", "aurc", "sac_98")
TABLE_LABELS = {
    "accuracy": "Acc ↑",
    "macro_f1": "F1 ↑",
    "brier": "Brier ↓",
    "nll": "NLL ↓",
    "ece": "ECE ↓",
    "auroc": "AUROC ↑",
    "aurc": "AURC ↓",
    "sac_98": "SAC@98 ↑",
}


def train_seconds(dataset: str, model: str, profile: str | None = None) -> float:
    """Wall time that trained a bank model (pretraining + LP + fine-tuning trials + souping)."""
    split = next(s for s in ("test", "ood", "val") if _has_split(dataset, s))
    return float(bank.meta(dataset, model, split, profile)["train_seconds"])


def _has_split(dataset: str, split: str) -> bool:
    from . import data

    return split in data.splits(dataset)


def single_row(model, split, dataset, profile, *, method=None, temperature_scaled=True) -> dict:
    """One bank model alone, temperature-scaled on validation (or raw logits)."""
    temperature = 1.0
    if temperature_scaled:
        temperature = fit_temperature(*bank.logits(dataset, model, "val", profile))
    metrics = summarise(
        statistics(profile, dataset, split, model, None, "single", None, temperature, "softmax")
    )
    return {
        "method": method or model,
        "f_large": model,
        "f_small": "",
        "split": split,
        "flops_balance": 0.0,
        "gflops": zoo.get(model).gflops,
        "train_seconds": train_seconds(dataset, model, profile),
        **metrics,
    }


def duo_row(large, small, split, dataset, profile, *, method=None) -> dict:
    """The (weighted) Duo of two bank models, fitted on validation."""
    duo = fitted_duo(large, small, dataset, profile)
    metrics = summarise(
        statistics(profile, dataset, split, large, small, "weighted", duo, None, "softmax")
    )
    return {
        "method": method or f"Duo {large}+{small}",
        "f_large": large,
        "f_small": small,
        "split": split,
        "flops_balance": zoo.flops_balance(large, small),
        "gflops": zoo.get(large).gflops + zoo.get(small).gflops,
        "train_seconds": train_seconds(dataset, large, profile)
        + train_seconds(dataset, small, profile),
        **metrics,
    }


def prediction_row(method, scores, labels, *, split, gflops, train_seconds, **extra) -> dict:
    """Any other predictor (IVON's or Laplace's predictive probabilities, ...)."""
    return {
        "method": method,
        "split": split,
        "gflops": gflops,
        "train_seconds": train_seconds,
        **extra,
        **evaluate(scores, labels),
    }


def sidekicks(large: str, profile: str | None = None, balance=(0.0, 1.0)) -> list[str]:
    """The profile's zoo models cheaper than ``large`` with FLOPs balance in [low, high)."""
    settings = profiles.get(profile)
    low, high = balance
    return [
        small
        for small in settings.zoo
        if small != zoo.get(large).name
        and zoo.get(small).gflops < zoo.get(large).gflops
        and low <= zoo.flops_balance(large, small) < high
    ]


def ensemble_subsets(members: int, size: int, count: int, seed: int = 0) -> list[tuple[int, ...]]:
    """``count`` distinct random subsets of ``size`` of ``range(members)`` (all, if fewer exist)."""
    if not 1 <= size <= members:
        raise ValueError(f"ensemble size must be in [1, {members}], got {size}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if math.comb(members, size) <= count:
        return list(combinations(range(members), size))
    rng = np.random.default_rng(seed)
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < count:
        chosen.add(tuple(sorted(int(i) for i in rng.choice(members, size, replace=False))))
    return sorted(chosen)


def ensemble_rows(profile: str | None = None, split: str = "test") -> list[dict]:
    """Pool-then-calibrate deep ensembles of every size over random subsets of the members."""
    settings = profiles.get(profile)
    b = settings.baselines
    if b is None:
        raise ValueError(f"profile {settings.name!r} defines no baselines")
    dataset = b.ensemble_dataset or settings.dataset
    members = b.ensemble_members
    val = [bank.logits(dataset, m, "val", settings.name) for m in members]
    scored = [bank.logits(dataset, m, split, settings.name) for m in members]
    val_labels, labels = val[0][1], scored[0][1]
    for m, (_, y), (_, t) in zip(members, val, scored, strict=True):
        if not (np.array_equal(y, val_labels) and np.array_equal(t, labels)):
            raise ValueError(f"ensemble member {m} was evaluated on different labels")
    costs = [train_seconds(dataset, m, settings.name) for m in members]
    rows = []
    for size in b.ensemble_sizes:
        for subset in ensemble_subsets(len(members), size, b.ensemble_subsets, settings.seed):
            ensemble = pool_then_calibrate([val[i][0] for i in subset], val_labels)
            scores = ensemble.combine([scored[i][0] for i in subset])
            rows.append(
                {
                    "method": f"DE (m={size})",
                    "members": "+".join(members[i] for i in subset),
                    "size": size,
                    "split": split,
                    "gflops": sum(zoo.get(members[i]).gflops for i in subset),
                    "train_seconds": sum(costs[i] for i in subset),
                    "temperature": ensemble.temperature,
                    **evaluate(scores, labels),
                }
            )
    return rows


def compute_bin(gflops: float, base_gflops: float) -> int:
    """k such that ``gflops`` lies in [k, k+1) times the base model's FLOPs."""
    return int(math.floor(gflops / base_gflops + 1e-9))


def paper_table(
    rows, num_classes: int, metrics=TABLE_METRICS, costs: bool = True, decimals: int = 2
) -> pd.DataFrame:
    """Rows grouped by ``method`` (first-seen order): "mean ± std" in the paper's units.

    Std is the sample standard deviation over a method's rows, left out for a single row.
    ``costs`` adds the test-time GFLOPs per image (a range where rows differ) and training
    minutes, and ``n``, the number of rows averaged.
    """
    frame = pd.DataFrame(rows)
    missing = [m for m in ("method", *metrics) if m not in frame]
    if missing:
        raise ValueError(f"rows lack columns {missing}")
    scaled = pd.DataFrame(
        [to_paper_scale({m: row[m] for m in metrics}, num_classes) for _, row in frame.iterrows()]
    )
    scaled["method"] = frame["method"].to_numpy()
    out = []
    for method, group in scaled.groupby("method", sort=False):
        entry = {"Method": method}
        original = frame[frame["method"] == method]
        if costs:
            low, high = original["gflops"].min(), original["gflops"].max()
            entry["GFLOPs"] = f"{low:.3g}" if math.isclose(low, high) else f"{low:.3g}–{high:.3g}"
            entry["train (min)"] = f"{original['train_seconds'].mean() / 60:.1f}"
        for metric in metrics:
            values = group[metric].to_numpy(dtype=float)
            text = f"{values.mean():.{decimals}f}"
            if len(values) > 1:
                # no-break spaces keep "mean ± std" on one line in HTML tables
                text += f"\u00a0±\u00a0{values.std(ddof=1):.{decimals}f}"
            entry[TABLE_LABELS.get(metric, metric)] = text
        entry["n"] = len(values)
        out.append(entry)
    return pd.DataFrame(out).set_index("Method")


def count_wins(rows, method: str, reference: str, metrics=TABLE_METRICS) -> int:
    """On how many ``metrics`` the mean of ``method``'s rows beats the mean of ``reference``'s."""
    frame = pd.DataFrame(rows)
    means = frame.groupby("method", sort=False)[list(metrics)].mean()
    return int(sum(improves(means.loc[method, m], means.loc[reference, m], m) for m in metrics))


def improves(value: float, reference: float, metric: str) -> bool:
    """Whether ``value`` is better than ``reference`` on ``metric`` (lower NLL, higher AUROC...)."""
    from .experiments import LOWER_IS_BETTER

    return value < reference if metric in LOWER_IS_BETTER else value > reference
