"""The baselines of the paper's Section 5.5 and Appendix F, each built with its own library.

* ``soup_model``: the greedy soup (Wortsman et al. 2022) or the uniform soup of a model's
  fine-tuning trials -- the same LP-FT search space as the zoo, more trials
  (``profile.baselines.soup_ingredients``), all from the same linear-probed start. The bank holds
  it as ``"arch:greedy_soup"`` / ``"arch:uniform_soup"``.
* ``ivon_predictive``: the posterior predictive of a model fine-tuned with IVON (``ivon-opt``):
  the mean of the softmax over S weight samples, for every S of ``profile.baselines.ivon_samples``
  and ``ivon_repeats`` independent draws. The posterior-mean prediction is the bank entry
  ``"arch:ivon"``.
* ``laplace_predictive``: a last-layer Laplace approximation (``laplace-torch``) with a
  Kronecker-factored Hessian, prior precision tuned by grid search on the validation split (the
  recipe of laplace-torch's README) and a sampled predictive.

Deep ensembles need no model of their own (``duolib.comparisons`` pools bank logits). Results
are cached like the bank: a directory per key, written atomically with a verified manifest.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import cache, data, members, profiles, train, zoo
from .ensembles import average_state_dicts, greedy_soup
from .experiments import evaluation_splits

BASELINES_VERSION = 2
SOUPS = ("greedy_soup", "uniform_soup")
LAPLACE_SAMPLES = 100  # weight samples of the Laplace predictive (laplace-torch's default)
# The prior-precision grid: laplace-torch's default, 100 values of log10 precision in [-4, 4].
LAPLACE_LOG10_GRID = (-4.0, 4.0, 100)


def _settings(profile):
    settings = profiles.get(profile)
    if settings.baselines is None:
        raise ValueError(f"profile {settings.name!r} defines no baselines")
    return settings


def soup_model(name: str, profile: str | None = None, dataset: str | None = None, rt=None):
    """(model, metadata) of the soup ``name`` (``"arch:greedy_soup"`` or ``"arch:uniform_soup"``).

    The ingredients are the first ``soup_ingredients`` trials of the architecture's LP-FT search
    (``train.finetune_trials``; cached, and the zoo's own trials are the first of them). The
    metadata holds every ingredient's hyperparameters and validation accuracy, the indices the
    soup kept, and wall times: pretraining, LP, the sum of all ingredients' fine-tuning, and the
    souping itself.
    """
    member = members.parse(name)
    if member.method not in SOUPS:
        raise ValueError(f"{name!r} is not a soup; expected arch:greedy_soup or arch:uniform_soup")
    settings = _settings(profile)
    dataset = dataset or settings.dataset
    rt = rt or train.runtime()
    ingredient_name = members.Member(member.architecture, member.replica).name
    trials = train.finetune_trials(
        ingredient_name, settings.name, dataset, count=settings.baselines.soup_ingredients, rt=rt
    )
    val_set = data.load(dataset, "val", settings.name)
    batch_size = settings.recipe_for(dataset).eval_batch_size
    model = zoo.build(member.architecture, len(val_set.classes))
    states = [torch.load(Path(t["directory"]) / "model.pt", map_location="cpu") for t in trials]

    def val_accuracy(state: dict) -> float:
        model.load_state_dict(state)
        logits, labels = train.predict_logits(model, val_set, batch_size, rt=rt)
        return train.accuracy(logits, labels)

    start = time.perf_counter()
    if member.method == "greedy_soup":
        soup = greedy_soup(states, val_accuracy)
        state, ingredients, val_acc = soup.state, soup.ingredients, soup.val_accuracy
    else:
        state, ingredients = average_state_dicts(states), tuple(range(len(states)))
        val_acc = val_accuracy(state)
    model.load_state_dict(state)
    meta = {
        "model": name,
        "pretraining": trials[0]["pretraining"],
        "pretrain_seconds": trials[0]["pretrain_seconds"],
        "lp_seconds": trials[0]["lp_seconds"],
        "ft_seconds": sum(t["seconds"] for t in trials),
        "soup_seconds": time.perf_counter() - start,
        "trials": trials,
        "ingredients": list(ingredients),
        "val_accuracy": val_acc,
    }
    return model.eval(), meta


def _cached_arrays(directory: Path, compute) -> dict:
    """Arrays (and ``meta.json``) stored under ``directory``; ``compute()`` makes them once."""
    if not cache.verified(directory):
        arrays, meta = compute()

        def write(tmp):
            for split, array in arrays.items():
                np.save(tmp / f"{split}.npy", array)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

        cache.atomic_directory(directory, write)
    meta = json.loads((directory / "meta.json").read_text())
    arrays = {path.stem: np.load(path) for path in sorted(directory.glob("*.npy"))}
    return {"arrays": arrays, "meta": meta}


def ivon_predictive(name: str, profile: str | None = None, dataset: str | None = None):
    """IVON's sampled predictive on every evaluation split of ``dataset``.

    ``name`` is the IVON-trained member, e.g. ``"resnet50:ivon"``. Returns
    ``(probabilities, labels, meta)``: ``probabilities[split]`` has shape
    (repeats, len(samples), N, K), entry [r, j] the mean softmax over the first ``samples[j]``
    of draw sequence r; ``labels[split]`` (N,); ``meta`` the settings and wall times.
    """
    member = members.parse(name)
    if member.method != "ivon":
        raise ValueError(f"{name!r} was not trained with IVON; expected arch:ivon")
    settings = _settings(profile)
    dataset = dataset or settings.dataset
    b = settings.baselines
    samples = tuple(sorted(b.ivon_samples))
    if not samples or samples[0] < 1:
        raise ValueError(f"IVON sample counts must be >= 1, got {b.ivon_samples}")
    splits = evaluation_splits(dataset)
    (trial,) = train.finetune_trials(name, settings.name, dataset)
    key = cache.key(
        "ivon-predictive",
        BASELINES_VERSION,
        Path(trial["directory"]).name,  # the trained posterior, itself keyed by its recipe
        samples,
        b.ivon_repeats,
        settings.seed,
        splits,
        settings.glyph_split_sizes,
    )

    def compute():
        rt = train.runtime()
        sets = {split: data.load(dataset, split, settings.name) for split in splits}
        train_size = len(data.load(dataset, "train", settings.name))
        model = train.load_trial(trial, len(sets[splits[0]].classes)).to(rt.device)
        optimizer = train.ivon_optimizer(
            model, train_size, trial["lr"], trial["weight_decay"], trial["hess_init"], rt=rt
        )
        optimizer.load_state_dict(
            torch.load(Path(trial["directory"]) / "ivon.pt", map_location=rt.device)
        )
        batch_size = settings.recipe_for(dataset).eval_batch_size
        out = {
            s: np.zeros(
                (b.ivon_repeats, len(samples), len(sets[s]), len(sets[s].classes)), dtype=np.float32
            )
            for s in splits
        }
        start = time.perf_counter()
        labels = {}
        bar = tqdm(total=b.ivon_repeats * samples[-1], desc="IVON samples", leave=False)
        for repeat in range(b.ivon_repeats):
            torch.manual_seed(settings.seed * 1_000 + repeat)  # each draw sequence repeatable
            running = dict.fromkeys(splits, 0.0)
            for draw in range(1, samples[-1] + 1):
                with optimizer.sampled_params():
                    for s in splits:
                        logits, labels[f"labels-{s}"] = train.predict_logits(
                            model, sets[s], batch_size, rt=rt
                        )
                        probs = torch.softmax(torch.from_numpy(logits).double(), dim=1)
                        running[s] = running[s] + probs.numpy()
                if draw in samples:
                    for s in splits:
                        out[s][repeat, samples.index(draw)] = running[s] / draw
                bar.update()
        bar.close()
        meta = {
            "model": name,
            "samples": list(samples),
            "repeats": b.ivon_repeats,
            "sampling_seconds": time.perf_counter() - start,
            "forward_passes": b.ivon_repeats * samples[-1] * len(splits),
        }
        return {**out, **labels}, meta

    stored = _cached_arrays(cache.root() / "bayes" / settings.name / key, compute)
    arrays = stored["arrays"]
    probabilities = {s: arrays[s] for s in splits}
    labels = {s: arrays[f"labels-{s}"] for s in splits}
    return probabilities, labels, {**stored["meta"], "trial": trial}


def laplace_predictive(name: str, profile: str | None = None, dataset: str | None = None):
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
    Jacobian (P = head parameters): 16 s per 3000 images for a 128x48 head on 2 CPU cores, where
    sampling takes 0.08 s, and the two predictives differ by 0.009 in mean absolute probability
    (``benchmarks/bench_laplace.py``). Returns ``(probabilities, labels, meta)`` like
    ``ivon_predictive`` (one (N, K) array per split).
    """
    settings = _settings(profile)
    dataset = dataset or settings.dataset
    member = members.parse(name)
    if member.method != "lpft":
        raise ValueError(f"Laplace is fitted around a plain LP-FT model, not {name!r}")
    splits = evaluation_splits(dataset)
    trials = train.finetune_trials(name, settings.name, dataset)
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
        from laplace import Laplace
        from torch.utils.data import DataLoader, TensorDataset

        rt = train.runtime()
        model, _ = train.finetuned(name, settings.name, rt=rt, dataset=dataset)
        model = model.to(rt.device)
        start = time.perf_counter()
        features = {
            split: train.head_features(model, data.load(dataset, split, settings.name), rt)
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

    stored = _cached_arrays(cache.root() / "bayes" / settings.name / key, compute)
    arrays = stored["arrays"]
    return (
        {s: arrays[s] for s in splits},
        {s: arrays[f"labels-{s}"] for s in splits},
        stored["meta"],
    )
