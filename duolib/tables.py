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

import pandas as pd

from . import bank, profiles, zoo
from .baselines.ensembles import deep_ensembles
from .baselines.ivon import ivon_predictive
from .baselines.laplace import laplace_predictive
from .experiments import fitted_duo, fitted_temperature, sample_statistics
from .metrics import METRICS, evaluate, summarise, to_paper_scale
from .profiles import Profile

# The columns of the paper's Tables 1-4 (Table 4 adds F1 and SAC@98), in its order.
TABLE_METRICS = ("accuracy", "macro_f1", "brier", "nll", "ece", "auroc", "aurc", "sac_98")


def single_row(
    model: str,
    split: str,
    dataset: str,
    profile: str | Profile | None = None,
    *,
    method: str | None = None,
    temperature_scaled: bool = True,
) -> dict:
    """One bank model alone, temperature-scaled on validation (or raw logits)."""
    settings = profiles.get(profile)
    temperature = fitted_temperature(model, dataset, settings) if temperature_scaled else 1.0
    stats = sample_statistics(settings, dataset, split, model, temperature=temperature)
    return {
        "method": method or model,
        "f_large": model,
        "f_small": "",
        "split": split,
        "flops_balance": 0.0,
        "gflops": zoo.get(model).gflops,
        "train_seconds": bank.train_seconds(dataset, model, settings),
        **summarise(stats),
    }


def duo_row(
    large: str,
    small: str,
    split: str,
    dataset: str,
    profile: str | Profile | None = None,
    *,
    method: str | None = None,
) -> dict:
    """The (weighted) Duo of two bank models, fitted on validation."""
    settings = profiles.get(profile)
    duo = fitted_duo(large, small, dataset, settings)
    stats = sample_statistics(settings, dataset, split, large, small, mode="weighted", duo=duo)
    return {
        "method": method or f"Duo {large}+{small}",
        "f_large": large,
        "f_small": small,
        "split": split,
        "flops_balance": zoo.flops_balance(large, small),
        "gflops": zoo.get(large).gflops + zoo.get(small).gflops,
        "train_seconds": bank.train_seconds(dataset, large, settings)
        + bank.train_seconds(dataset, small, settings),
        **summarise(stats),
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


def ensemble_rows(profile: str | Profile | None = None, split: str = "test") -> list[dict]:
    """One row per deep ensemble of the profile (``baselines.ensembles.deep_ensembles``)."""
    settings = profiles.get(profile)
    rows = []
    for ensemble in deep_ensembles(settings, split):
        rows.append(
            {
                "method": f"DE (m={ensemble.size})",
                "members": "+".join(ensemble.members),
                "size": ensemble.size,
                "split": split,
                "gflops": sum(zoo.get(m).gflops for m in ensemble.members),
                "train_seconds": sum(
                    bank.train_seconds(ensemble.dataset, m, settings) for m in ensemble.members
                ),
                "temperature": ensemble.temperature,
                **evaluate(ensemble.logits, ensemble.labels),
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
            entry[METRICS[metric].short if metric in METRICS else metric] = text
        entry["n"] = len(values)
        out.append(entry)
    return pd.DataFrame(out).set_index("Method")


def method_means(rows, metrics=TABLE_METRICS) -> pd.DataFrame:
    """The mean of each metric over each method's rows (methods in first-seen order)."""
    return pd.DataFrame(rows).groupby("method", sort=False)[list(metrics)].mean()


def method_mean(rows, method: str, metric: str) -> float:
    """The mean of ``metric`` over the rows of ``method``."""
    frame = pd.DataFrame(rows)
    chosen = frame.loc[frame["method"] == method, metric]
    if chosen.empty:
        raise ValueError(
            f"no rows of method {method!r}; methods: {list(dict.fromkeys(frame['method']))}"
        )
    return float(chosen.mean())


def count_wins(rows, method: str, reference: str, metrics=TABLE_METRICS) -> int:
    """On how many ``metrics`` the mean of ``method``'s rows beats the mean of ``reference``'s."""
    means = method_means(rows, metrics)
    return int(
        sum(METRICS[m].better(means.loc[method, m], means.loc[reference, m]) for m in metrics)
    )


def matched_compute(rows, sizes, metrics=("accuracy", "nll", "aurc")) -> pd.DataFrame:
    """Table 2's comparison at equal compute: Duos of total compute in [m, m+1) x the base model
    against the deep ensemble of m members, for every ensemble size m that has such Duos.

    ``rows`` hold Duo rows labelled ``AD[m,m+1)`` and ensemble rows labelled ``DE (m=m)``.
    One row per matched size: the number of Duos, each side's mean of every metric, and
    ``Duos better on``: on how many of ``metrics`` the Duos' mean is the better.
    """
    frame = pd.DataFrame(rows)
    out = []
    for size in sizes:
        duos = frame[frame["method"] == f"AD[{size},{size + 1})"]
        ensemble = frame[frame["method"] == f"DE (m={size})"]
        if duos.empty or ensemble.empty:
            continue
        entry = {"compute (x base)": f"[{size}, {size + 1})", "Duos": len(duos)}
        wins = 0
        for metric in metrics:
            duo_mean, de_mean = duos[metric].mean(), ensemble[metric].mean()
            entry[f"Duo {metric}"], entry[f"DE {metric}"] = duo_mean, de_mean
            wins += METRICS[metric].better(duo_mean, de_mean)
        entry["Duos better on"] = wins
        out.append(entry)
    return pd.DataFrame(out)


def fraction_better(rows, method: str, reference: str, metric: str) -> float:
    """The fraction of ``method``'s rows that beat the mean of ``reference``'s on ``metric``."""
    frame = pd.DataFrame(rows)
    values = frame.loc[frame["method"] == method, metric]
    if values.empty:
        raise ValueError(f"no rows of method {method!r}")
    target = method_mean(rows, reference, metric)
    return float(sum(METRICS[metric].better(v, target) for v in values) / len(values))


def soup_ingredients(meta: dict) -> pd.DataFrame:
    """One row per soup ingredient (a fine-tuning trial) from a soup's bank metadata: its
    hyperparameters, validation accuracy, fine-tuning time and whether the greedy soup kept it."""
    kept = set(meta["soup_ingredients"])
    return pd.DataFrame(
        [
            {
                "trial": index,
                "lr": trial["lr"],
                "weight decay": trial["weight_decay"],
                "val accuracy": trial["val_accuracy"],
                "fine-tuning (s)": round(trial["seconds"], 1),
                "in greedy soup": index in kept,
            }
            for index, trial in enumerate(meta["trials"])
        ]
    ).set_index("trial")


def reference_rows(
    base: str,
    split: str,
    dataset: str,
    profile: str | Profile | None = None,
    *,
    balance=(0.0, 1.0),
) -> tuple[list[dict], list[dict]]:
    """The rows a Bayesian baseline is compared with (the paper's Tables 3-4): ``base`` raw
    (``"<base> baseline"``) and temperature-scaled (``"<base> temp-scaled"``), and its Duos
    (``"Asymmetric Duos"``) with every zoo sidekick whose FLOPs balance is in ``balance``."""
    settings = profiles.get(profile)
    singles = [
        single_row(
            base, split, dataset, settings, method=f"{base} baseline", temperature_scaled=False
        ),
        single_row(base, split, dataset, settings, method=f"{base} temp-scaled"),
    ]
    duos = [
        duo_row(base, small, split, dataset, settings, method="Asymmetric Duos")
        for small in zoo.sidekicks(base, settings.zoo, balance)
    ]
    return singles, duos


def ivon_rows(name: str, split: str, dataset: str, profile: str | Profile | None = None):
    """IVON's rows of Table 3: the posterior mean (``"IVON (deterministic)"``) and, for each
    sample count S, one row per independent draw sequence (``"IVON (S samples)"``, S x the
    model's GFLOPs)."""
    settings = profiles.get(profile)
    probs, labels, meta = ivon_predictive(name, settings, dataset)
    gflops = zoo.get(name).gflops
    cost = bank.train_seconds(dataset, name, settings)
    rows = [
        single_row(
            name, split, dataset, settings, method="IVON (deterministic)", temperature_scaled=False
        )
    ]
    for j, samples in enumerate(meta["samples"]):
        rows += [
            prediction_row(
                f"IVON ({samples} samples)",
                probs[split][repeat, j],
                labels[split],
                split=split,
                gflops=samples * gflops,
                train_seconds=cost,
            )
            for repeat in range(meta["repeats"])
        ]
    return rows


def laplace_row(base: str, split: str, dataset: str, profile: str | Profile | None = None):
    """The Laplace row of Table 4 (``"<base> LA"``): its test-time GFLOPs include the sampled
    heads, its training time the fit."""
    settings = profiles.get(profile)
    probs, labels, meta = laplace_predictive(base, settings, dataset)
    return prediction_row(
        f"{base} LA",
        probs[split],
        labels[split],
        split=split,
        gflops=zoo.get(base).gflops + meta["extra_gflops"],
        train_seconds=bank.train_seconds(dataset, base, settings) + meta["fit_seconds"],
    )
