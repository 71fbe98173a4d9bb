"""Where the paper, its released code and duolib differ, each difference measured.

``DIFFERENCES`` describes every known difference: what the paper says, what the released code
(github.com/timgzhou/asymmetric-duos, commit d0f2efa) does, and what duolib does. ``effects``
measures each one on a profile's logit bank: the released variant's metric minus duolib's,
averaged over the systems the difference concerns (every weighted Duo of the profile's first
dataset, or one model or ensemble), with a 95% percentile interval from resampling the test
examples (the same rows for every system and both variants). Every released variant is a
tested function of ``duolib.reference`` (or an option of duolib's own functions); this module
only applies them to the bank.

``fit_comparison`` and ``useless_sidekick`` compare the two ways of fitting a Duo (duolib's exact
convex fit, the released grid + L-BFGS) on weights, validation NLL and time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import bank, cache, data, metrics, profiles, reference, train, zoo
from .baselines import ensembles, soups
from .calibrate import fit_temperature
from .duo import Duo, fit_duo
from .experiments import duo_pairs, fitted_duo, fitted_temperature
from .profiles import Profile

FIDELITY_VERSION = 1


@dataclass(frozen=True)
class Difference:
    title: str
    paper: str
    released: str
    duolib: str


DIFFERENCES = {
    "unweighted": Difference(
        "Unweighted Duo",
        "mean of the raw logits (T_large = T_small = 0.5)",
        "mean of the temperature-scaled logits (evaluate/5_evaluate_duo_predictions.py:70-81)",
        "the paper's: mean of the raw logits",
    ),
    "duo_uncertainty": Difference(
        "Softmax response of 'Duo: Ours'",
        "1 - max of the Duo's probabilities (Eq. 1, at the Duo's prediction)",
        "1 - p_duo[argmax f_large] (evaluate/5_evaluate_duo_predictions.py:103-111)",
        "the paper's: at the Duo's own prediction",
    ),
    "duo_fit": Difference(
        "Fitting the Duo's weights",
        "two temperatures minimising validation NLL",
        "grid (0.05 to 4.85, step 0.2) then L-BFGS, lr 0.01, 50 iterations "
        "(evaluate/3_duo_temp_scale.py:15-36)",
        "the exact optimum of the convex problem, weights >= 0",
    ),
    "sac_threshold": Difference(
        "SAC@98 target",
        "largest coverage with selective accuracy >= 98%",
        "targets from np.arange(0.90, 0.991, 0.01): 0.9800000000000001, so a risk of exactly "
        "2% fails (utils/uncertainty_metrics.py:52, 74-80)",
        "98% exactly (and tie blocks kept whole)",
    ),
    "aurc_ties": Difference(
        "AURC with tied uncertainties",
        "mean selective risk over k = 1..N",
        "the same after numpy's unstable argsort: ties in arbitrary order "
        "(utils/uncertainty_metrics.py:58-63)",
        "the same, averaged over every order of each tie block",
    ),
    "brier_scale": Difference(
        "Brier score scale",
        "Brier score (tables x 10^4)",
        "brier_score_loss on the flattened one-hot matrix: mean over N x K entries "
        "(utils/uncertainty_metrics.py:14-17)",
        "mean over samples of the sum over classes (the released number x K)",
    ),
    "ensemble_calibration": Difference(
        "Deep ensemble calibration",
        "pool the members' logits, then fit one temperature (Rahaman & Thiery)",
        "softmax of the averaged logits, no temperature "
        "(evaluate/8_evaluate_deep_ensemble.py:75-78)",
        "the paper's: pool, then calibrate",
    ),
    "soup_rule": Difference(
        "Greedy soup rule",
        "greedy soup (Wortsman et al.)",
        "keep an ingredient only if validation accuracy rises, > (train/make_soup.py:70)",
        "keep it unless validation accuracy drops, >=",
    ),
    "nll_clipping": Difference(
        "NLL of saturated probabilities",
        "negative log-likelihood",
        "scikit-learn's log_loss on probabilities, clipped away from 0 "
        "(utils/uncertainty_metrics.py:18)",
        "log-softmax of the logits, no clipping",
    ),
    "augmentation": Difference(
        "Training augmentation (Caltech 256)",
        "RandAugment during fine-tuning (Appendix A.2)",
        "the splits share one dataset object, so training gets the test transform: no "
        "augmentation (load_data/datasets.py:101-103)",
        "RandAugment during fine-tuning",
    ),
    "ece_uq_only": Difference(
        "ECE of the UQ-only Duo",
        "calibration of the reported prediction (f_large's class)",
        "ECE on the Duo's maximum probability and its argmax, whatever class is reported "
        "(utils/uncertainty_metrics.py:37-50)",
        "ECE on p_duo[f_large's class] for f_large's prediction",
    ),
    "macro_f1": Difference(
        "Macro-F1 (iWildCam's headline metric)",
        "macro-F1, as WILDS defines it",
        "scikit-learn f1_score(average='macro') without labels=: classes in labels or "
        "predictions (utils/uncertainty_metrics.py:13)",
        "the released definition; compared here with WILDS' (classes in the labels, "
        "metrics.macro_f1(over='labels'))",
    ),
}


def bootstrap_effect(effect, n: int, samples: int = 200, seed: int = 0, level: float = 0.95):
    """(observed, low, high): ``effect(rows)`` on all rows (``rows=None``) and its percentile
    interval over ``samples`` resamples of the ``n`` test rows."""
    observed = float(effect(None))
    rng = np.random.default_rng(seed)
    draws = np.array([effect(rng.integers(0, n, n)) for _ in range(samples)], dtype=float)
    draws = draws[np.isfinite(draws)]
    if not draws.size:
        return observed, np.nan, np.nan
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return observed, float(low), float(high)


def _take(values, rows):
    return values if rows is None else values[rows]


def _probabilities(logits) -> np.ndarray:
    return torch.softmax(torch.as_tensor(logits, dtype=torch.float64), dim=1).numpy()


@dataclass
class _Duo:
    """One weighted Duo on the test split, with what several rows read."""

    labels: np.ndarray
    probs: np.ndarray  # the weighted Duo's probabilities
    large_prediction: np.ndarray
    unweighted_paper: np.ndarray  # probabilities of the raw-logit mean
    unweighted_released: np.ndarray  # of the temperature-scaled logit mean

    @property
    def prediction(self) -> np.ndarray:
        return self.probs.argmax(1)


def _duos(settings: Profile, dataset: str) -> list[_Duo]:
    out = []
    for large, small in duo_pairs(settings):
        large_test, labels = bank.logits(dataset, large, "test", settings)
        small_test, _ = bank.logits(dataset, small, "test", settings)
        duo = fitted_duo(large, small, dataset, settings)
        t_large = fitted_temperature(large, dataset, settings)
        t_small = fitted_temperature(small, dataset, settings)
        large_t = torch.as_tensor(large_test, dtype=torch.float64)
        small_t = torch.as_tensor(small_test, dtype=torch.float64)
        released = reference.unweighted_logits(large_t, small_t, t_large, t_small)
        out.append(
            _Duo(
                labels=np.asarray(labels),
                probs=_probabilities(duo.combine(large_t, small_t)),
                large_prediction=large_t.argmax(1).numpy(),
                unweighted_paper=_probabilities((large_t + small_t) / 2),
                unweighted_released=_probabilities(released),
            )
        )
    return out


def _mean_over(systems, released, duolib):
    """effect(rows): mean over systems of released(system, rows) - duolib(system, rows)."""

    def effect(rows):
        return float(np.mean([released(s, rows) - duolib(s, rows) for s in systems]))

    return effect


def _row(name, metric, systems, released, duolib, n, samples, seed, what):
    observed, low, high = bootstrap_effect(_mean_over(systems, released, duolib), n, samples, seed)
    return {
        "difference": name,
        "metric": metric,
        "systems": what,
        "released": float(np.mean([released(s, None) for s in systems])),
        "duolib": float(np.mean([duolib(s, None) for s in systems])),
        "effect": observed,
        "ci_low": low,
        "ci_high": high,
    }


def _accuracy(probs_of):
    return lambda s, rows: float(np.mean(_take(probs_of(s).argmax(1) == s.labels, rows)))


def _nll(probs_of):
    def nll(s, rows):
        p = probs_of(s)[np.arange(len(s.labels)), s.labels]
        return float(-np.mean(np.log(_take(p, rows))))

    return nll


def _softmax_response(s, at):  # 1 - p_duo[at] per example
    return 1 - s.probs[np.arange(len(s.labels)), at]


def _duo_rows(duos: list[_Duo], samples: int, seed: int) -> list[dict]:
    n = len(duos[0].labels)
    what = f"{len(duos)} weighted Duos"
    rows = []

    def add(name, metric, released, duolib, systems=duos, label=what):
        rows.append(_row(name, metric, systems, released, duolib, n, samples, seed, label))

    add("unweighted", "accuracy", _accuracy(lambda s: s.unweighted_released),
        _accuracy(lambda s: s.unweighted_paper), label=f"{len(duos)} unweighted Duos")  # fmt: skip
    add("unweighted", "nll", _nll(lambda s: s.unweighted_released),
        _nll(lambda s: s.unweighted_paper), label=f"{len(duos)} unweighted Duos")  # fmt: skip

    def correct(s, r):
        return _take(s.prediction == s.labels, r)

    def unc(s, r):  # the softmax response at the Duo's prediction (duolib's, the paper's)
        return _take(_softmax_response(s, s.prediction), r)

    def unc_at_large(s, r):  # at f_large's prediction (the released "Duo: Ours")
        return _take(_softmax_response(s, s.large_prediction), r)

    for metric, f in (("auroc", metrics.correctness_auroc), ("aurc", metrics.aurc)):
        add("duo_uncertainty", metric,
            lambda s, r, f=f: f(correct(s, r), unc_at_large(s, r)),
            lambda s, r, f=f: f(correct(s, r), unc(s, r)))  # fmt: skip

    def sac_released(bug):
        return lambda s, r: reference.sac(correct(s, r), unc(s, r), 0.98, threshold_bug=bug)

    add("sac_threshold", "sac_98", sac_released(True), sac_released(False))
    add("aurc_ties", "aurc",
        lambda s, r: reference.aurc(correct(s, r), unc(s, r)),
        lambda s, r: metrics.aurc(correct(s, r), unc(s, r)))  # fmt: skip

    def brier(s, r):
        return float(np.mean(metrics.sample_statistics(
            _take(s.probs, r), _take(s.labels, r), kind="probs")["brier"]))  # fmt: skip

    add("brier_scale", "brier",
        lambda s, r: reference.brier(_take(s.probs, r), _take(s.labels, r)), brier)  # fmt: skip
    add("nll_clipping", "nll",
        lambda s, r: reference.nll(_take(s.probs, r), _take(s.labels, r)),
        _nll(lambda s: s.probs))  # fmt: skip

    def uq_ece(s, r):
        at = np.arange(len(s.labels))
        confidence = s.probs[at, s.large_prediction]
        return metrics.ece(_take(s.large_prediction == s.labels, r), _take(confidence, r))

    add("ece_uq_only", "ece",
        lambda s, r: reference.ece(_take(s.probs, r), _take(s.labels, r)), uq_ece,
        label=f"{len(duos)} UQ-only Duos")  # fmt: skip

    def f1(over):
        return lambda s, r: metrics.macro_f1(_take(s.labels, r), _take(s.prediction, r), over)

    add("macro_f1", "macro_f1", f1("union"), f1("labels"))
    return rows


def fit_comparison(profile: str | Profile | None = None, dataset: str | None = None):
    """Every Duo fitted both ways on the validation split: weights, validation NLL, seconds.

    ``exact_*``: duolib's ``fit_duo``; ``released_*``: ``reference.fit_duo`` (grid + L-BFGS).
    """
    settings = profiles.get(profile)
    dataset = dataset or settings.datasets[0]
    rows = []
    for large, small in tqdm(duo_pairs(settings), desc="fit both ways", leave=False):
        large_val, labels = bank.logits(dataset, large, "val", settings)
        small_val, _ = bank.logits(dataset, small, "val", settings)
        row = {"f_large": large, "f_small": small, "flops_balance": zoo.flops_balance(large, small)}
        for name, fit in (("exact", fit_duo), ("released", reference.fit_duo)):
            start = time.perf_counter()
            duo = fit(large_val, small_val, labels)
            row |= {f"{name}_w_large": duo.w_large, f"{name}_w_small": duo.w_small}
            row |= {f"{name}_val_nll": duo.val_nll, f"{name}_seconds": time.perf_counter() - start}
        rows.append(row)
    return pd.DataFrame(rows)


def useless_sidekick(profile: str | Profile | None = None, dataset: str | None = None, seed=0):
    """The profile's first f_large with a sidekick of pure noise (standard normal logits), fitted
    both ways: one row per fit with its weights and validation NLL. A useless sidekick should
    get weight 0, leaving the temperature-scaled f_large."""
    settings = profiles.get(profile)
    dataset = dataset or settings.datasets[0]
    large = settings.large_models[0]
    large_val, labels = bank.logits(dataset, large, "val", settings)
    noise = np.random.default_rng(seed).normal(size=np.shape(large_val)).astype(np.float32)
    rows = []
    for name, fit in (("exact (duolib)", fit_duo), ("released grid + L-BFGS", reference.fit_duo)):
        duo = fit(large_val, noise, labels)
        rows.append({"fit": name, "f_large": large, "w_large": duo.w_large,
                     "w_small": duo.w_small, "val_nll": duo.val_nll})  # fmt: skip
    return pd.DataFrame(rows)


def _fit_row(settings, dataset, samples, seed) -> dict:
    """Test NLL of the Duos fitted the released way minus fitted exactly (the weights of
    ``fit_comparison``)."""
    systems = []
    for fit in fit_comparison(settings, dataset).to_dict("records"):
        large_test, labels = bank.logits(dataset, fit["f_large"], "test", settings)
        small_test, _ = bank.logits(dataset, fit["f_small"], "test", settings)
        large_t = torch.as_tensor(large_test, dtype=torch.float64)
        small_t = torch.as_tensor(small_test, dtype=torch.float64)
        probs = {
            name: _probabilities(
                Duo(fit[f"{name}_w_large"], fit[f"{name}_w_small"], fit[f"{name}_val_nll"]).combine(
                    large_t, small_t
                )
            )
            for name in ("exact", "released")
        }
        systems.append(SimpleNamespace(labels=np.asarray(labels), **probs))
    n = len(systems[0].labels)
    return _row("duo_fit", "nll", systems, _nll(lambda s: s.released), _nll(lambda s: s.exact),
                n, samples, seed, f"{len(systems)} weighted Duos")  # fmt: skip


def _ensemble_rows(settings, samples, seed) -> list[dict]:
    """The largest ensemble of the profile's members: raw logit mean vs pool-then-calibrate."""
    b = settings.baselines
    dataset = settings.ensemble_dataset
    size = max(b.ensemble_sizes)
    names = b.ensemble_members[:size]
    val = [bank.logits(dataset, m, "val", settings) for m in names]
    test = [bank.logits(dataset, m, "test", settings) for m in names]
    calibrated = ensembles.pool_then_calibrate([v[0] for v in val], val[0][1])
    system = SimpleNamespace(
        labels=np.asarray(test[0][1]),
        # The released ensemble: the members' logit mean, no temperature (in float64).
        released=_probabilities(
            ensembles.pooled_logits([torch.as_tensor(t[0], dtype=torch.float64) for t in test])
        ),
        duolib=_probabilities(calibrated.combine([t[0] for t in test])),
    )
    n = len(system.labels)
    what = f"ensemble of {size} {names[0]}"
    rows = [_row("ensemble_calibration", "nll", [system], _nll(lambda s: s.released),
                 _nll(lambda s: s.duolib), n, samples, seed, what)]  # fmt: skip

    def ece(probs_of):
        def score(s, r):
            p = _take(probs_of(s), r)
            return metrics.ece(p.argmax(1) == _take(s.labels, r), p.max(1))

        return score

    rows.append(_row("ensemble_calibration", "ece", [system], ece(lambda s: s.released),
                     ece(lambda s: s.duolib), n, samples, seed, what))  # fmt: skip
    return rows


def _soup_row(settings) -> dict:
    """The greedy soup with '>' against the bank's '>=' soup: ingredients and test accuracy."""
    b = settings.baselines
    dataset = settings.baseline_dataset
    name = f"{b.soup_model}:greedy_soup"
    kept = bank.meta(dataset, name, "test", settings)["soup_ingredients"]
    model, meta = soups.soup_model(name, settings, dataset, strict=True)
    strict_kept = meta["ingredients"]
    logits, labels = bank.logits(dataset, name, "test", settings)
    if list(strict_kept) == list(kept):  # the same soup: every metric equal
        released = duolib = float(np.mean(np.argmax(logits, 1) == labels))
        effect = low = high = 0.0
    else:
        test_set = data.load(dataset, "test", settings, preprocessing=zoo.preprocessing(name))
        strict_logits, _ = train.predict_logits(model, test_set)
        released = float(np.mean(np.argmax(strict_logits, 1) == labels))
        duolib = float(np.mean(np.argmax(logits, 1) == labels))
        effect, low, high = bootstrap_effect(
            lambda r: np.mean(_take(np.argmax(strict_logits, 1) == labels, r))
            - np.mean(_take(np.argmax(logits, 1) == labels, r)), len(labels))  # fmt: skip
    return {"difference": "soup_rule", "metric": "accuracy",
            "systems": f"greedy soup of {b.soup_ingredients} {b.soup_model} "
                       f"(kept: >= {list(kept)}, > {list(strict_kept)})",
            "released": released, "duolib": duolib, "effect": effect,
            "ci_low": low, "ci_high": high}  # fmt: skip


def augmentation_model(profile: str | Profile | None = None, dataset: str | None = None):
    """The profile's cheapest f_large fine-tuned without augmentation on ``dataset`` (default:
    the baseline dataset, Caltech 256 on ``paper``, whose released training gets no
    augmentation): (name, model in eval mode, its ``train.finetuned`` metadata), cached like
    every trial."""
    settings = profiles.get(profile)
    dataset = dataset or settings.baseline_dataset
    name = min(settings.large_models, key=lambda m: zoo.get(m).gflops)
    plain = replace(settings.recipe_for(dataset), randaugment=None, hflip=False)
    bare = replace(settings, recipe=plain, dataset_recipes={})
    model, meta = train.finetuned(name, bare, dataset=dataset)
    return name, model, meta


def _augmentation_rows(settings, samples, seed) -> list[dict]:
    dataset = settings.baseline_dataset  # the paper: Caltech 256, where the overwrite happens
    name, model, _ = augmentation_model(settings, dataset)
    preprocessing = zoo.preprocessing(name)
    plain = {}
    for split in ("val", "test"):
        split_set = data.load(dataset, split, settings, preprocessing=preprocessing)
        logits, labels = train.predict_logits(model, split_set)
        plain[split] = (torch.as_tensor(logits, dtype=torch.float64), np.asarray(labels))
    temperature = fit_temperature(*plain["val"])
    augmented, labels = bank.logits(dataset, name, "test", settings)
    augmented = torch.as_tensor(augmented, dtype=torch.float64)
    system = SimpleNamespace(
        labels=np.asarray(labels),
        released=_probabilities(plain["test"][0] / temperature),
        duolib=_probabilities(augmented / fitted_temperature(name, dataset, settings)),
    )
    what = f"{name}, temperature-scaled"
    n = len(system.labels)
    return [
        _row("augmentation", metric, [system], score(lambda s: s.released),
             score(lambda s: s.duolib), n, samples, seed, what)
        for metric, score in (("accuracy", _accuracy), ("nll", _nll))
    ]  # fmt: skip


def effects(profile: str | Profile | None = None, samples: int = 200, seed: int = 0):
    """Every difference measured on the profile's bank (see the module's docstring): one row
    per (difference, metric) with the released and duolib values, their difference
    (``effect``, released minus duolib) and its 95% bootstrap interval. Cached."""
    settings = profiles.get(profile)
    dataset = settings.datasets[0]
    pairs = duo_pairs(settings)
    b = settings.baselines
    models = sorted({m for pair in pairs for m in pair} | set(b.ensemble_members)
                    | {f"{b.soup_model}:greedy_soup"})  # fmt: skip
    datasets = {dataset, settings.ensemble_dataset, settings.baseline_dataset}
    entries = sorted(
        bank.entry_dir(d, m, s, settings).name
        for m in models
        for d in datasets
        for s in ("val", "test")
    )
    key = cache.key("fidelity", FIDELITY_VERSION, entries, samples, seed, settings.recipe)

    def compute() -> pd.DataFrame:
        steps = [
            lambda: _duo_rows(_duos(settings, dataset), samples, seed),
            lambda: [_fit_row(settings, dataset, samples, seed)],
            lambda: _ensemble_rows(settings, samples, seed),
            lambda: [_soup_row(settings)],
            lambda: _augmentation_rows(settings, samples, seed),
        ]
        rows = [row for step in tqdm(steps, desc="fidelity", leave=False) for row in step()]
        order = list(DIFFERENCES)
        frame = pd.DataFrame(rows)
        frame["rank"] = frame["difference"].map(order.index)
        return frame.sort_values("rank", kind="stable").drop(columns="rank").reset_index(drop=True)

    directory = cache.root() / "fidelity" / settings.name / key
    return cache.cached_frame(directory, compute, what="the fidelity appendix's measurements")


def table(measured: pd.DataFrame) -> pd.DataFrame:
    """``effects`` beside the descriptions of ``DIFFERENCES``: the appendix's table."""
    described = pd.DataFrame(
        [{"difference": k, "what": d.title, "the paper": d.paper, "released code": d.released,
          "duolib": d.duolib} for k, d in DIFFERENCES.items()]
    )  # fmt: skip
    merged = described.merge(measured, on="difference", suffixes=("", " value"))
    return merged.drop(columns="difference")
