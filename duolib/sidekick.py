"""Which sidekick? Statistics of a (f_large, candidate) pair from validation logits, a
recommender that ranks the candidates within a FLOPs budget, and what the book needs to test
which statistic predicts the Duos' test gains. Goes beyond the paper, which chooses sidekicks by
FLOPs balance alone.

Pair statistics (``pair_statistics``), all on the validation split:

* ``error_inconsistency``: the fraction of examples where exactly one of the two models is right
  (Gontijo-Lopes et al. 2022, "No one representation to rule them all");
* ``disagreement``: the fraction where their predicted classes differ (both may be wrong);
* ``conversion_rate``: of the inconsistent examples, the fraction the fitted Duo gets right;
* ``sidekick_accuracy`` (and ``large_accuracy``);
* ``nll_gain``: validation NLL of the temperature-scaled f_large minus that of the fitted Duo,
  in nats (>= 0 up to the solver's tolerance: the Duo can always drop its sidekick).

Every statistic is "higher is better" when read as a score for choosing a sidekick, and
``recommend`` ranks by one of them (``SCORES``) among the candidates whose GFLOPs fit the budget.
Which score predicts the test gains best is measured by the chapter "Which sidekick?", not
assumed here: ``pool`` scores every Duo of the profile's candidate pool on validation and
measures its test gains with bootstrap intervals, ``correlations`` gives each score's rank
correlation with those gains and ``held_out_choice`` picks the score on half of the candidates
and checks it on the other half.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import bank, cache, claims, members, metrics, profiles, zoo
from ._checks import check_labels, check_pair
from .calibrate import fit_temperature
from .duo import Duo, fit_duo
from .experiments import fitted_duo, fitted_temperature, sample_statistics
from .profiles import Profile

SIDEKICK_VERSION = 1
# The validation scores a sidekick can be ranked by (all higher-is-better), and what they mean.
SCORES = {
    "flops_balance": "FLOPs balance (the paper's choice: the largest sidekick that fits)",
    "sidekick_accuracy": "validation accuracy of the sidekick",
    "error_inconsistency": "error inconsistency with f_large",
    "disagreement": "disagreement with f_large",
    "conversion_rate": "conversion rate of the fitted Duo",
    "nll_gain": "validation-NLL gain of the fitted Duo over f_large",
}
# The test gains the scores are meant to predict: Duo minus f_large, signed so that > 0 is
# better (AURC is lower-is-better).
TARGETS = ("aurc", "auroc", "accuracy")


def pair_statistics(large_logits, small_logits, labels, duo: Duo | None = None) -> dict:
    """The statistics of one (f_large, sidekick) pair on one split (see the module docstring).

    ``duo`` defaults to the Duo fitted on these logits and labels (pass the validation split).
    Also returns the Duo's weights and f_large's temperature.
    """
    large_t, small_t = check_pair(large_logits, small_logits)
    labels_t = check_labels(labels, large_t.shape[0], large_t.shape[1])
    duo = duo if duo is not None else fit_duo(large_t, small_t, labels_t)
    large_t, small_t = large_t.to(torch.float64), small_t.to(torch.float64)
    temperature = fit_temperature(large_t, labels_t)
    combined = duo.combine(large_t, small_t)
    large_right = (large_t.argmax(1) == labels_t).numpy()
    small_right = (small_t.argmax(1) == labels_t).numpy()
    duo_right = (combined.argmax(1) == labels_t).numpy()
    inconsistent = large_right != small_right
    nll_large = float(F.cross_entropy(large_t / temperature, labels_t))
    return {
        "large_accuracy": float(large_right.mean()),
        "sidekick_accuracy": float(small_right.mean()),
        "error_inconsistency": float(inconsistent.mean()),
        "disagreement": float((large_t.argmax(1) != small_t.argmax(1)).float().mean()),
        "conversion_rate": float(duo_right[inconsistent].mean()) if inconsistent.any() else np.nan,
        "nll_gain": nll_large - float(F.cross_entropy(combined, labels_t)),
        "w_large": duo.w_large,
        "w_small": duo.w_small,
        "temperature": temperature,
    }


@dataclass(frozen=True)
class Recommendation:
    """``choice``: the best candidate within the budget (None if none fits); ``table``: every
    candidate within the budget, best first, with its statistics; ``over_budget``: the names
    left out; ``why``: the choice in words."""

    choice: str | None
    score: str
    budget_gflops: float
    table: pd.DataFrame
    over_budget: tuple[str, ...]
    why: str


def rank(
    large_val,
    candidates_val: Mapping,
    labels,
    gflops: Mapping[str, float],
    budget_gflops: float,
    score: str = "nll_gain",
    large_gflops: float | None = None,
) -> Recommendation:
    """Rank candidate sidekicks from their validation logits (arrays in, no bank).

    ``candidates_val`` maps names to validation logits, ``gflops`` names to their cost. Only
    candidates with ``gflops <= budget_gflops`` are scored; they are ranked by ``score`` (one of
    ``SCORES``, higher is better), ties going to the cheaper one. ``large_gflops`` gives the
    FLOPs balance (needed for ``score="flops_balance"``).
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; choose one of {sorted(SCORES)}")
    if not np.isfinite(budget_gflops) or budget_gflops < 0:
        raise ValueError(f"budget_gflops must be a finite number >= 0, got {budget_gflops}")
    if not candidates_val:
        raise ValueError("no candidate sidekicks given")
    missing = sorted(set(candidates_val) - set(gflops))
    if missing:
        raise ValueError(f"no GFLOPs given for {missing}")
    if score == "flops_balance" and large_gflops is None:
        raise ValueError("score='flops_balance' needs large_gflops")
    fits = [name for name in candidates_val if gflops[name] <= budget_gflops]
    rows = []
    for name in fits:
        row = {"sidekick": name, "gflops": float(gflops[name])}
        if large_gflops is not None:
            row["flops_balance"] = gflops[name] / large_gflops
        rows.append(row | pair_statistics(large_val, candidates_val[name], labels))
    table = pd.DataFrame(rows, columns=["sidekick", "gflops", *SCORES, "w_large", "w_small"])
    if rows:
        table = table.iloc[_best_first(table, score)].reset_index(drop=True)
    over = tuple(name for name in candidates_val if name not in fits)
    choice = table["sidekick"].iloc[0] if rows else None
    return Recommendation(choice, score, float(budget_gflops), table, over, _why(table, score))


def _best_first(table: pd.DataFrame, score: str) -> np.ndarray:
    """The order of ``table``'s rows by ``score``, highest first (missing last), the cheaper of
    equal scores first."""
    key = table[score].fillna(-np.inf).to_numpy()
    return np.lexsort((table["gflops"].to_numpy(), -key))


def _why(table: pd.DataFrame, score: str) -> str:
    if table.empty:
        return "no candidate fits the budget"
    best = table.iloc[0]
    text = (
        f"{best['sidekick']}: the highest {SCORES[score]} of the {len(table)} candidates within "
        f"the budget ({best[score]:.4g}); validation-NLL gain {best['nll_gain']:.4f} nats, error "
        f"inconsistency {best['error_inconsistency']:.3f}, conversion rate "
        f"{best['conversion_rate']:.3f}, sidekick accuracy {best['sidekick_accuracy']:.3f}, "
        f"weights {best['w_large']:.3f} / {best['w_small']:.3f}"
    )
    if best["w_small"] == 0:
        text += " (the Duo drops this sidekick: none of the candidates helps on validation)"
    return text


def dataset_for(profile: str | Profile | None = None) -> str:
    """Where sidekicks are compared: the profile's first dataset that is fine-tuned (ImageNet
    is scored with published heads, where no variant can be trained)."""
    settings = profiles.get(profile)
    for name in settings.datasets:
        if name not in bank.PUBLISHED_HEADS:
            return name
    raise ValueError(f"profile {settings.name!r} fine-tunes on none of its datasets")


def profile_candidates(profile: str | Profile | None = None) -> tuple[str, ...]:
    """The profile's candidate sidekicks (``Profile.sidekick_candidates``, else its zoo)."""
    settings = profiles.get(profile)
    return settings.sidekick_candidates or settings.zoo


def recommend(
    large: str,
    candidates: tuple[str, ...] | list[str] | None = None,
    budget_gflops: float = float("inf"),
    dataset: str | None = None,
    profile: str | Profile | None = None,
    score: str = "nll_gain",
) -> Recommendation:
    """The sidekick to pair with bank model ``large``: ``rank`` on the bank's validation logits.

    ``candidates`` default to the profile's (``profile_candidates``), limited to models cheaper than
    ``large`` of another architecture (``zoo.sidekicks``); ``budget_gflops`` caps the sidekick's
    GFLOPs per image (default: no cap beyond being cheaper than ``large``). Trains (and caches)
    any candidate the bank does not hold yet.
    """
    settings = profiles.get(profile)
    dataset = dataset or dataset_for(settings)
    names = list(candidates if candidates is not None else profile_candidates(settings))
    allowed = zoo.sidekicks(large, names)
    if not allowed:
        raise ValueError(f"none of {names} can be {large}'s sidekick (cheaper, another model)")
    budget = float(budget_gflops)
    if not np.isfinite(budget):
        budget = zoo.get(large).gflops
    large_val, labels = bank.logits(dataset, large, "val", settings)
    fits = [name for name in allowed if zoo.get(name).gflops <= budget]
    logits = {name: bank.logits(dataset, name, "val", settings)[0] for name in fits}
    logits |= {name: None for name in allowed if name not in fits}  # over budget: never read
    gflops = {name: zoo.get(name).gflops for name in allowed}
    return rank(
        large_val, logits, labels, gflops, budget, score, large_gflops=zoo.get(large).gflops
    )


# ---------------------------------------------------------------------------------------------
# The candidate pool of a profile: every Duo scored on validation, its test gains bootstrapped
# ---------------------------------------------------------------------------------------------


def variant(name: str) -> str:
    """How a bank model was trained, in words: 'pretrained, fine-tuned', 'another seed' or
    'from scratch'."""
    member = members.parse(name)
    if member.method == "scratch":
        return "from scratch"
    if member.replica:
        return "another seed"
    return "pretrained, fine-tuned"


def _selective(stats: dict, rows: np.ndarray) -> np.ndarray:
    """accuracy, AURC and correctness AUROC of ``stats`` on ``rows`` (a bootstrap resample)."""
    correct = stats["prediction"][rows] == stats["labels"][rows]
    uncertainty = stats["uncertainty"][rows]
    if correct.all() or not correct.any():
        auroc = np.nan
    else:
        auroc = metrics.correctness_auroc(correct, uncertainty)
    return np.array([correct.mean(), metrics.aurc(correct, uncertainty), auroc])


def _signs() -> np.ndarray:
    return np.array([metrics.metric(m).sign for m in ("accuracy", "aurc", "auroc")])


def bootstrap(systems: list[dict], samples: int = 200, seed: int = 0) -> np.ndarray:
    """Test accuracy, AURC and AUROC of several systems scored on the same labels, on the same
    resampled examples: an array (samples + 1, systems, 3), row 0 the observed values."""
    labels = systems[0]["labels"]
    for other in systems[1:]:
        if not np.array_equal(other["labels"], labels):
            raise ValueError("systems scored on different labels cannot share resamples")
    n = len(labels)
    rng = np.random.default_rng(seed)
    draws = [np.arange(n)] + [rng.integers(0, n, n) for _ in range(samples)]
    return np.array([[_selective(s, rows) for s in systems] for rows in draws])


def _interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if not values.size:
        return np.nan, np.nan
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def pool(
    profile: str | Profile | None = None,
    dataset: str | None = None,
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Every Duo of each of the profile's f_large with each of its candidate sidekicks.

    One row per (f_large, f_small): the candidate's variant, family and FLOPs balance; its
    validation ``pair_statistics``; and on the test split the Duo's and f_large's accuracy,
    AURC and AUROC, and each gain (Duo minus f_large, signed so that > 0 is better:
    ``gain_aurc`` is f_large's AURC minus the Duo's) with a 95% paired-bootstrap interval.
    Trains any candidate the bank lacks; cached (keyed by the bank entries it reads).
    """
    settings = profiles.get(profile)
    dataset = dataset or dataset_for(settings)
    pool_names = profile_candidates(settings)
    pairs = [
        (large, s) for large in settings.large_models for s in zoo.sidekicks(large, pool_names)
    ]
    if not pairs:
        raise ValueError(f"profile {settings.name!r} has no candidate sidekick for its f_large")
    for name in sorted({m for pair in pairs for m in pair}):  # train what is missing, with bars
        bank.logits(dataset, name, "val", settings)
    entries = sorted(
        bank.entry_dir(dataset, m, s, settings).name
        for m in {m for pair in pairs for m in pair}
        for s in ("val", "test")
    )
    key = cache.key("sidekick pool", SIDEKICK_VERSION, entries, samples, seed)

    def compute() -> pd.DataFrame:
        rows = []
        for large in tqdm(settings.large_models, desc="sidekick pool", leave=False):
            smalls = [s for lg, s in pairs if lg == large]
            if not smalls:
                continue
            temperature = fitted_temperature(large, dataset, settings)
            alone = sample_statistics(settings, dataset, "test", large, temperature=temperature)
            large_val, labels = bank.logits(dataset, large, "val", settings)
            duos, systems = {}, [alone]
            for small in smalls:
                duos[small] = fitted_duo(large, small, dataset, settings)
                systems.append(
                    sample_statistics(
                        settings, dataset, "test", large, small, mode="weighted", duo=duos[small]
                    )
                )
            draws = bootstrap(systems, samples, seed) * _signs()  # > 0 is better
            for index, small in enumerate(smalls, start=1):
                small_val, _ = bank.logits(dataset, small, "val", settings)
                row = {
                    "f_large": large,
                    "f_small": small,
                    "variant": variant(small),
                    "family": zoo.get(small).family,
                    "same_family": zoo.get(small).family == zoo.get(large).family,
                    "gflops": zoo.get(small).gflops,
                    "flops_balance": zoo.flops_balance(large, small),
                    **pair_statistics(large_val, small_val, labels, duos[small]),
                }
                for j, name in enumerate(("accuracy", "aurc", "auroc")):
                    sign = _signs()[j]
                    row[f"large_{name}"] = sign * draws[0, 0, j]
                    row[f"duo_{name}"] = sign * draws[0, index, j]
                    gains = draws[:, index, j] - draws[:, 0, j]
                    row[f"gain_{name}"] = gains[0]
                    row[f"gain_{name}_low"], row[f"gain_{name}_high"] = _interval(gains[1:])
                rows.append(row)
        return pd.DataFrame(rows)

    directory = cache.root() / "sidekick" / settings.name / key
    return cache.cached_frame(directory, compute, what=f"sidekick pool on {dataset}")


def correlations(
    table: pd.DataFrame,
    scores=tuple(SCORES),
    targets=TARGETS,
    samples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Spearman's rank correlation of each validation score with each test gain over the Duos
    of ``table`` (``pool``), with a percentile interval from resampling the Duos.

    One row per (score, target): ``rho``, ``ci_low``, ``ci_high``, ``duos``. NaN where fewer
    than 3 Duos have both values or either is constant.
    """
    rows = []
    for score in scores:
        for target in targets:
            x = table[score].to_numpy(dtype=float)
            y = table[f"gain_{target}"].to_numpy(dtype=float)
            found = claims.rank_correlation(x, y, samples, seed, level)
            rows.append({"score": score, "target": target, "duos": found.pop("n")} | found)
    return pd.DataFrame(rows, columns=["score", "target", "rho", "ci_low", "ci_high", "duos"])


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    return claims.rank_correlation(x, y, samples=0)["rho"]


def held_out_choice(
    table: pd.DataFrame,
    scores=tuple(SCORES),
    target: str = "aurc",
    splits: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Choose the score on half of the candidates, check it on the other half.

    ``splits`` times, the candidate sidekicks (``f_small`` names, so a candidate's Duos with
    every f_large stay together) are split at random into two halves; the score with the
    highest Spearman correlation with ``gain_<target>`` on the first half's Duos is chosen and
    its correlation on the second half recorded. One row per score: ``chosen`` (the fraction of
    splits that chose it), ``held_out_rho`` (its median held-out correlation when chosen) and
    ``in_sample_rho`` (its correlation over all Duos). Sorted, most often chosen first, then by
    ``in_sample_rho`` (which alone decides with fewer than 4 candidates, too few to split).
    """
    names = np.array(sorted(table["f_small"].unique()))
    rng = np.random.default_rng(seed)
    chosen, held_out = [], {s: [] for s in scores}
    y = table[f"gain_{target}"].to_numpy(dtype=float)
    for _ in range(splits if names.size >= 4 else 0):
        first = set(rng.permutation(names)[: names.size // 2])
        in_first = table["f_small"].isin(first).to_numpy()
        rhos = {s: _spearman(table[s].to_numpy(dtype=float)[in_first], y[in_first]) for s in scores}
        finite = {s: r for s, r in rhos.items() if np.isfinite(r)}
        if not finite:
            continue
        best = max(finite, key=finite.get)
        chosen.append(best)
        held_out[best].append(_spearman(table[best].to_numpy(dtype=float)[~in_first], y[~in_first]))
    total = max(len(chosen), 1)
    rows = [
        {
            "score": s,
            "chosen": chosen.count(s) / total if chosen else np.nan,
            "held_out_rho": float(np.nanmedian(held_out[s])) if held_out[s] else np.nan,
            "in_sample_rho": _spearman(table[s].to_numpy(dtype=float), y),
        }
        for s in scores
    ]
    out = pd.DataFrame(rows)
    order = np.lexsort((-out["in_sample_rho"].fillna(-np.inf), -out["chosen"].fillna(-1)))
    return out.iloc[order].reset_index(drop=True)


def at_budgets(
    table: pd.DataFrame,
    score: str,
    budgets=(0.05, 0.15, 0.3),
    profile: str | Profile | None = None,
    dataset: str | None = None,
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """The recommender against the best and the median candidate, per f_large and budget.

    ``budgets`` are FLOPs balances: a budget of 0.15 admits the candidates of ``table`` (``pool``)
    with balance <= 0.15. Within each budget the recommended sidekick is the one with the highest
    validation ``score``; the best is the one whose Duo has the lowest test AURC (known only in
    hindsight), the median the candidate whose Duo's test AURC is the median (the lower one of
    an even count). One row per (f_large, budget, which): the sidekick, its Duo's test AURC and
    accuracy with 95% bootstrap intervals, and the paired differences "recommended minus this
    one" with their intervals.
    """
    settings = profiles.get(profile)
    dataset = dataset or dataset_for(settings)
    rows = []
    for large, group in table.groupby("f_large", sort=False):
        for budget in budgets:
            within = group[group["flops_balance"] <= budget]
            if within.empty:
                continue
            recommended = within.iloc[_best_first(within, score)[0]]
            by_aurc = within.sort_values(["duo_aurc", "gflops"])
            best = by_aurc.iloc[0]
            median = by_aurc.iloc[(len(by_aurc) - 1) // 2]
            picks = {"recommended": recommended, "best": best, "median": median}
            systems = []
            for pick in picks.values():
                duo = Duo(pick["w_large"], pick["w_small"], np.nan)
                systems.append(
                    sample_statistics(
                        settings, dataset, "test", large, pick["f_small"], mode="weighted", duo=duo
                    )
                )
            draws = bootstrap(systems, samples, seed)
            for index, (which, pick) in enumerate(picks.items()):
                row = {"f_large": large, "budget": budget, "candidates": len(within),
                       "which": which, "f_small": pick["f_small"],
                       "flops_balance": pick["flops_balance"]}  # fmt: skip
                for j, name in ((0, "accuracy"), (1, "aurc")):
                    row[name] = draws[0, index, j]
                    row[f"{name}_low"], row[f"{name}_high"] = _interval(draws[1:, index, j])
                    difference = draws[:, 0, j] - draws[:, index, j]
                    row[f"recommended_minus_{name}"] = difference[0]
                    low, high = _interval(difference[1:]) if index else (0.0, 0.0)
                    row[f"recommended_minus_{name}_low"] = low
                    row[f"recommended_minus_{name}_high"] = high
                rows.append(row)
    return pd.DataFrame(rows)
