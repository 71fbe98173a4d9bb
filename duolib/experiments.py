"""The tidy results table of a profile: every single model and every Duo, every metric.

``results(profile)`` reads the logit bank and returns one row per (dataset, split, f_large,
f_small, mode), over every dataset of the profile: single models (temperature-scaled,
``mode="single"``, ``f_small`` empty) and
every Duo of each of the profile's f_large with every cheaper sidekick of its zoo
(``duo_pairs``), in the paper's three modes (``weighted``, ``unweighted``, ``uq_only``).
Temperatures and Duo weights are fitted on the validation split only; the test and OOD splits
are only evaluated.

``sample_statistics`` gives the per-sample statistics behind one row, from which
``duolib.claims`` bootstraps intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import bank, data, metrics, profiles, zoo
from .calibrate import fit_temperature
from .duo import MODES, UNWEIGHTED, Duo, combined_logits, fit_duo, predict
from .profiles import Profile


def duo_pairs(profile: str | Profile | None = None) -> list[tuple[str, str]]:
    """(f_large, f_small) for every f_large of the profile and every cheaper model of its zoo."""
    settings = profiles.get(profile)
    return [
        (large, small)
        for large in settings.large_models
        for small in zoo.sidekicks(large, settings.zoo)
    ]


def fitted_duo(large: str, small: str, dataset: str, profile: str | Profile | None = None) -> Duo:
    """The Duo of two bank models fitted on the validation split."""
    settings = profiles.get(profile)
    large_val, labels = bank.logits(dataset, large, "val", settings)
    small_val, small_labels = bank.logits(dataset, small, "val", settings)
    if not np.array_equal(labels, small_labels):
        raise ValueError(f"{large} and {small} were evaluated on different validation labels")
    return fit_duo(large_val, small_val, labels)


def fitted_temperature(model: str, dataset: str, profile: str | Profile | None = None) -> float:
    """The temperature of a bank model fitted on the validation split."""
    return fit_temperature(*bank.logits(dataset, model, "val", profile))


def sample_statistics(
    profile: str | Profile | None,
    dataset: str,
    split: str,
    large: str,
    small: str | None = None,
    *,
    mode: str = "single",
    duo: Duo | None = None,
    temperature: float | None = None,
    uncertainty: str = "softmax",
) -> dict[str, np.ndarray]:
    """Per-sample statistics (``metrics.sample_statistics``) of one system on one split.

    ``small=None``: f_large alone, divided by ``temperature``. Otherwise the Duo of ``large`` and
    ``small`` in ``mode`` (``duo`` holds the fitted weights; the unweighted mode ignores them).
    """
    settings = profiles.get(profile)
    large_logits, labels = bank.logits(dataset, large, split, settings)
    if small is None:
        if temperature is None:
            raise ValueError("a single model needs its fitted temperature")
        return metrics.sample_statistics(
            large_logits / temperature, labels, uncertainty_kind=uncertainty
        )
    small_logits, _ = bank.logits(dataset, small, split, settings)
    prediction, unc = predict(large_logits, small_logits, duo, mode, uncertainty)
    scores = combined_logits(large_logits, small_logits, duo, mode)
    return metrics.sample_statistics(scores, labels, prediction, unc, uncertainty_kind=uncertainty)


def duo_statistics(settings: Profile, dataset: str, uncertainty: str = "softmax"):
    """Every Duo of the profile in every mode on every evaluation split.

    Yields ``(large, small, duo, split, mode, stats)`` in the order of ``duo_pairs``, splits and
    ``MODES``; the weights are fitted on validation once per Duo, ``stats`` are the per-sample
    statistics of ``sample_statistics``.
    """
    for large, small in duo_pairs(settings):
        duo = fitted_duo(large, small, dataset, settings)
        for split in data.evaluation_splits(dataset):
            for mode in MODES:
                stats = sample_statistics(
                    settings,
                    dataset,
                    split,
                    large,
                    small,
                    mode=mode,
                    duo=duo,
                    uncertainty=uncertainty,
                )
                yield large, small, duo, split, mode, stats


def results(
    profile: str | Profile | None = None, dataset: str | None = None, uncertainty: str = "softmax"
) -> pd.DataFrame:
    """Every single model and every Duo of the profile on every evaluation split.

    Every dataset of the profile (in its order) unless ``dataset`` names one; the ``panel``
    column names each (dataset, split) as the paper's figures do (``data.panel_name``).
    """
    settings = profiles.get(profile)
    names = (dataset,) if dataset else settings.datasets
    return pd.concat([_results(settings, name, uncertainty) for name in names], ignore_index=True)


def _results(settings: Profile, dataset: str, uncertainty: str) -> pd.DataFrame:
    splits = data.evaluation_splits(dataset)
    rows = []
    for model in settings.zoo:
        temperature = fitted_temperature(model, dataset, settings)
        for split in splits:
            stats = sample_statistics(
                settings, dataset, split, model, temperature=temperature, uncertainty=uncertainty
            )
            rows.append(
                {
                    "dataset": dataset,
                    "split": split,
                    "panel": data.panel_name(dataset, split),
                    "f_large": model,
                    "f_small": "",
                    "mode": "single",
                    "flops_balance": 0.0,
                    "w_large": 1 / temperature,
                    "w_small": 0.0,
                    "gflops": zoo.get(model).gflops,
                    **metrics.summarise(stats),
                }
            )
    for large, small, duo, split, mode, stats in duo_statistics(settings, dataset, uncertainty):
        weights = UNWEIGHTED if mode == "unweighted" else duo
        rows.append(
            {
                "dataset": dataset,
                "split": split,
                "panel": data.panel_name(dataset, split),
                "f_large": large,
                "f_small": small,
                "mode": mode,
                "flops_balance": zoo.flops_balance(large, small),
                "w_large": weights.w_large,
                "w_small": weights.w_small,
                "gflops": zoo.get(large).gflops + zoo.get(small).gflops,
                **metrics.summarise(stats),
            }
        )
    return pd.DataFrame(rows)


def selective_systems(
    large: str, small: str, split: str, dataset: str, profile: str | Profile | None = None
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """What a selective classifier sees: ``{system: (prediction, uncertainty)}`` and the labels.

    Systems: the temperature-scaled f_large alone, its weighted Duo with ``small`` and the
    UQ-only Duo (f_large's predictions, the Duo's uncertainty); all fitted on validation.
    """
    settings = profiles.get(profile)
    duo = fitted_duo(large, small, dataset, settings)
    temperature = fitted_temperature(large, dataset, settings)
    large_logits, labels = bank.logits(dataset, large, split, settings)
    small_logits, _ = bank.logits(dataset, small, split, settings)
    alone = metrics.sample_statistics(large_logits / temperature, labels)
    systems = {
        "f_large": (alone["prediction"], alone["uncertainty"]),
        "Duo (ours)": predict(large_logits, small_logits, duo, "weighted"),
        "Duo: UQ only": predict(large_logits, small_logits, duo, "uq_only"),
    }
    return systems, labels


def weight_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """The paper's Figure 10: how much more a Duo weights f_large than f_small, per Duo.

    A Duo's logits ``w_large z_large + w_small z_small`` are, written on the temperature-scaled
    logits ``z / T`` of each member, ``(w_large T_large) z_large / T_large + (w_small T_small)
    z_small / T_small``. ``ratio`` is ``(w_large T_large) / (w_small T_small)``: the weight on
    f_large's calibrated logits over the weight on f_small's, the quantity the paper plots
    (its released code divides out each member's single-model temperature). ``raw_ratio`` is
    ``w_large / w_small`` on raw logits. Infinite where the sidekick's weight is 0.
    ``table`` is ``results(...)``; the single rows give each model's temperature (1 / w_large).
    """
    singles = table[table["mode"] == "single"].drop_duplicates(["dataset", "f_large"])
    temperature = {
        (d, m): 1 / w
        for d, m, w in zip(singles["dataset"], singles["f_large"], singles["w_large"], strict=True)
    }
    duos = table[table["mode"] == "weighted"].drop_duplicates(["dataset", "f_large", "f_small"])
    out = duos[["dataset", "f_large", "f_small", "flops_balance", "w_large", "w_small"]].copy()
    for member in ("large", "small"):
        models = zip(out["dataset"], out[f"f_{member}"], strict=True)
        out[f"T_{member}"] = [temperature[d, m] for d, m in models]
    with np.errstate(divide="ignore"):
        out["raw_ratio"] = out["w_large"] / out["w_small"]
        out["ratio"] = (out["w_large"] * out["T_large"]) / (out["w_small"] * out["T_small"])
    return out.reset_index(drop=True)
