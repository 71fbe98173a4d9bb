"""LP-FT (Kumar et al. 2022), the paper's fine-tuning recipe (Appendix A.2), and demo pretraining.

A linear probe first trains only the new head on a frozen backbone (on features computed once,
which is exact for a frozen backbone in eval mode and costs one forward pass instead of one per
epoch); the best LP epoch by validation accuracy initialises full fine-tuning with AdamW, a
linear warm-up then cosine schedule and RandAugment; learning rate and weight decay are searched
over ``recipe.trials`` trials and the best by validation accuracy is kept.

The linear probe and every trial are cached on their own (``finetune_trials``), so a longer
search (the soup ingredients of ``duolib.baselines.soups``) reuses the zoo's trials; ``name@k``
trains an independent replica (seed + k), ``name:ivon`` fine-tunes with the IVON optimizer and
``name:scratch`` runs the same recipe from random weights, without pretraining
(``duolib.members``). Demo models are first pretrained from scratch on the generated
pretraining task (``pretrained``); paper models load their published weights.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import cache, data, members, profiles, zoo
from ..profiles import Profile, Recipe
from . import epochs as shared_epochs
from .loop import randaugment, run_epochs, validation_scores, warmup_cosine
from .runtime import Runtime, barrier, cpu_state_dict, head_features, runtime

# Bump when training changes, to invalidate cached models. 3: one DataLoader iterator per epoch
# (tqdm.auto had created a second one, which drew from the shuffle generator).
TRAIN_VERSION = 3


def linear_probe(
    model,
    train_set,
    val_set,
    *,
    epochs,
    lr,
    batch_size,
    seed,
    rt: Runtime,
    schedule: bool = True,
    select_by: str = "accuracy",
    features=None,
):
    """Train only the head on frozen features; keep the epoch with the best validation score.

    Returns (that score, history); the model's head holds that epoch's weights. ``schedule``:
    linear warm-up then cosine (else a constant rate, as the released code's probe).
    ``features``: the (train, val) features, when several probes share them.
    """
    head = zoo.classifier(model)
    (train_x, train_y), (val_x, val_y) = features or (
        head_features(model, train_set, rt),
        head_features(model, val_set, rt),
    )
    head = head.float().cpu()
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.0)
    steps = epochs * math.ceil(len(train_y) / batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(steps, 0.1) if schedule else (lambda step: 1.0)
    )
    generator = torch.Generator().manual_seed(seed)
    best_state, best_acc, history = copy.deepcopy(head.state_dict()), -1.0, []
    for epoch in range(epochs):
        order = torch.randperm(len(train_y), generator=generator)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            loss = F.cross_entropy(head(train_x[rows]), train_y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        with torch.no_grad():
            scores = validation_scores(head(val_x), val_y, select_by)
        history.append({"epoch": epoch + 1, **scores})
        if scores[f"val_{select_by}"] > best_acc:
            best_acc, best_state = scores[f"val_{select_by}"], copy.deepcopy(head.state_dict())
    head.load_state_dict(best_state)
    return best_acc, history


def search_space(recipe: Recipe, seed: int) -> list[dict]:
    """(lr, weight decay) per trial: the geometric centre first, then log-uniform draws."""
    rng = np.random.default_rng(seed)
    log_lr, log_wd = np.log(recipe.lr_range), np.log(recipe.wd_range)
    trials = [{"lr": float(np.exp(log_lr.mean())), "weight_decay": float(np.exp(log_wd.mean()))}]
    for _ in range(recipe.trials - 1):
        trials.append(
            {
                "lr": float(np.exp(rng.uniform(*log_lr))),
                "weight_decay": float(np.exp(rng.uniform(*log_wd))),
            }
        )
    return trials


def lp_learning_rates(recipe: Recipe, seed: int) -> list[float]:
    """The linear probe's learning rates when ``recipe.lp_lr_range`` is set: the geometric
    centre of the range, then log-uniform draws (``recipe.lp_trials`` in all)."""
    if recipe.lp_lr_range is None:
        return [recipe.lp_lr]
    if recipe.lp_trials < 1:
        raise ValueError(f"lp_trials must be >= 1, got {recipe.lp_trials}")
    low, high = np.log(recipe.lp_lr_range)
    rng = np.random.default_rng(seed + 7_919)  # draws of its own, apart from the FT search
    return [float(np.exp((low + high) / 2))] + [
        float(np.exp(rng.uniform(low, high))) for _ in range(recipe.lp_trials - 1)
    ]


def _train_once(directory: Path, train, rt: Runtime | None, what: str) -> dict:
    """The metadata of the model stored in ``directory``, trained once by ``train(rt)``.

    ``train`` returns ``(files, meta)``: torch objects by file name and a JSON dict. Rank 0
    writes them atomically (``duolib.cache``); a stored model that fails verification is
    trained again. Returns the stored ``meta``.
    """

    def build():
        run = rt or runtime()
        files, meta = train(run)
        if run.is_main:

            def write(tmp):
                for filename, obj in files.items():
                    torch.save(obj, tmp / filename)
                (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

            cache.atomic_directory(directory, write)
        barrier(run)

    cache.ensure(directory, build, what)
    return cache.read_json(directory)


def pretrained(
    name: str,
    profile: str | Profile | None = None,
    rt: Runtime | None = None,
    seed: int | None = None,
):
    """``name`` with its pretrained weights and the pretraining head removed (new head later).

    Paper models load their published weights. Demo models are trained from scratch on the
    ``glyphs-pretrain`` task once per ``seed`` (default: the profile's) and cached; returns
    (model, metadata).
    """
    settings = profiles.get(profile)
    recipe = settings.recipe
    seed = settings.seed if seed is None else seed
    if settings.pretrain_dataset is None:
        model = zoo.build(
            name, num_classes=1000, pretrained=True, weights_dir=profiles.weights_dir(settings)
        )
        return model, {"pretraining": zoo.get(name).weights, "seconds": 0.0}
    pre_train = data.load(settings.pretrain_dataset, "train", settings)
    pre_val = data.load(settings.pretrain_dataset, "val", settings)
    key = cache.key(
        "pretrain",
        name,
        asdict(zoo.get(name)),  # a changed architecture gets a new key, never stale weights
        settings.pretrain_dataset,
        len(pre_train),
        len(pre_val),
        seed,
        recipe.pretrain_epochs,
        recipe.pretrain_lr,
        recipe.pretrain_wd,
        recipe.batch_size,
        TRAIN_VERSION,
        data.glyphs.GENERATOR_VERSION,
    )
    directory = cache.root() / "models" / key
    model = zoo.build(name, num_classes=len(pre_train.classes))
    checkpoint = cache.root() / "checkpoints" / f"{key}.pt"

    def train(run: Runtime):
        start = time.perf_counter()
        best_state, best_acc, history = run_epochs(
            model,
            pre_train,
            pre_val,
            epochs=recipe.pretrain_epochs,
            lr=recipe.pretrain_lr,
            weight_decay=recipe.pretrain_wd,
            batch_size=recipe.batch_size,
            checkpoint=checkpoint,
            seed=seed,
            rt=run,
            desc=f"pretrain {name}" + (f" (seed {seed})" if seed != settings.seed else ""),
        )
        meta = {
            "model": name,
            "task": settings.pretrain_dataset,
            "seed": seed,
            "val_accuracy": best_acc,
            "history": history,
            "seconds": time.perf_counter() - start,
        }
        return {"model.pt": best_state}, meta

    meta = _train_once(directory, train, rt, f"pretrained {name}")
    checkpoint.unlink(missing_ok=True)
    model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu"))
    return model, {
        "pretraining": f"{settings.pretrain_dataset} ({meta['val_accuracy']:.3f} val acc)",
        "seconds": meta["seconds"],
    }


# ---------------------------------------------------------------------------------------------
# LP-FT: one cached linear probe, then fine-tuning trials that each start from it (cached apiece)
# ---------------------------------------------------------------------------------------------


def _linear_probed(
    architecture: str,
    *,
    settings: Profile,
    dataset: str,
    seed: int,
    key: str,
    train_set,
    val_set,
    rt: Runtime,
    scratch: bool = False,
):
    """The pretrained model (``scratch``: randomly initialised) with the linear-probed head (the
    head is cached under ``key``)."""
    recipe = settings.recipe_for(dataset)
    if scratch:  # random weights, drawn from the member's seed
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = zoo.build(architecture, len(train_set.classes))
        pre_meta = {"pretraining": "none (trained from scratch on the task)", "seconds": 0.0}
    else:
        model, pre_meta = pretrained(architecture, settings, rt, seed=seed)
        zoo.replace_classifier(model, len(train_set.classes))
    model = model.to(rt.device)

    def train(run: Runtime):
        start = time.perf_counter()
        # One probe at lp_lr with a schedule, or the released code's search: probes at several
        # constant rates, the best by validation score kept.
        features = (head_features(model, train_set, run), head_features(model, val_set, run))
        initial = copy.deepcopy(zoo.classifier(model).state_dict())
        probes = []
        for lr in lp_learning_rates(recipe, seed):
            zoo.classifier(model).load_state_dict(initial)
            score, history = linear_probe(
                model,
                train_set,
                val_set,
                epochs=recipe.lp_epochs,
                lr=lr,
                batch_size=recipe.batch_size,
                seed=seed,
                rt=run,
                schedule=recipe.lp_lr_range is None,
                select_by=recipe.select_by,
                features=features,
            )
            probes.append((score, lr, history, copy.deepcopy(zoo.classifier(model).state_dict())))
        score, lr, history, head = max(probes, key=lambda p: p[0])  # the first of equals
        return {"head.pt": head}, {
            "pretraining": pre_meta["pretraining"],
            "pretrain_seconds": pre_meta["seconds"],
            "lp_val_accuracy": score,  # the validation score of recipe.select_by
            "lp_lr": lr,
            "lp_trials": [{"lr": p[1], "val_score": p[0]} for p in probes],
            "lp_history": history,
            "lp_seconds": time.perf_counter() - start,
        }

    directory = cache.root() / "models" / key
    meta = _train_once(directory, train, rt, f"linear probe of {architecture}")
    head = torch.load(directory / "head.pt", map_location="cpu")
    zoo.classifier(model).load_state_dict(head)
    return model, meta


def finetune_trials(
    name: str,
    profile: str | Profile | None = None,
    dataset: str | None = None,
    count: int | None = None,
    rt: Runtime | None = None,
) -> list[dict]:
    """The fine-tuning trials of ``name`` (a zoo model or ``duolib.members`` name), cached.

    Every trial starts from the same linear-probed model (same pretrained weights, same head)
    and fine-tunes with one point of the search space: the first ``count`` points
    (default ``recipe.trials``; the draws of a longer search extend a shorter one, so the
    zoo's trials are reused as the first soup ingredients). ``name:ivon`` runs one trial with
    the IVON optimizer and the profile's IVON settings instead.

    Returns one dict per trial: its hyperparameters, ``val_accuracy``, ``history``,
    ``seconds`` (fine-tuning wall time), the LP and pretraining times and ``directory``.
    """
    member = members.parse(name)
    if member.method not in ("lpft", "ivon", "scratch"):
        raise ValueError(f"{name!r} is not trained by fine-tuning; see duolib.baselines.soups")
    settings = profiles.get(profile)
    dataset = dataset or settings.datasets[0]
    recipe = settings.recipe_for(dataset)
    seed = settings.seed + member.replica
    if member.method == "ivon":
        if settings.baselines is None:
            raise ValueError(f"profile {settings.name!r} has no IVON settings")
        b = settings.baselines
        if b.ivon_start not in ("linear_probe", "finetuned"):
            raise ValueError(f"ivon_start must be 'linear_probe' or 'finetuned': {b.ivon_start!r}")
        hyper = {"lr": b.ivon_lr, "weight_decay": b.ivon_weight_decay}
        hyper["hess_init"] = b.ivon_hess_init
        # Only settings away from the defaults enter the hyperparameters (and so cache keys).
        if b.ivon_epochs is not None:
            hyper["epochs"] = b.ivon_epochs
        if b.ivon_start == "finetuned":
            hyper["start"] = "finetuned"
        hypers = [hyper]
    else:
        count = recipe.trials if count is None else count
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        hypers = search_space(replace(recipe, trials=count), seed)
    # Trained and validated at the model's own resolution, crop and normalisation.
    preprocessing = zoo.preprocessing(member.architecture)
    train_set = data.load(dataset, "train", settings, preprocessing=preprocessing)
    val_set = data.load(dataset, "val", settings, preprocessing=preprocessing)
    lp_key = cache.key(
        "linear-probe",
        member.architecture,
        asdict(zoo.get(member.architecture)),
        settings.name,
        settings.pretrain_dataset,
        dataset,
        len(train_set),
        len(val_set),
        seed,
        replace(recipe, trials=0, lr_range=(0, 0), wd_range=(0, 0)),  # what LP depends on
        TRAIN_VERSION,
        data.glyphs.GENERATOR_VERSION,
        *data.cache_key_parts(dataset, settings, preprocessing),
        *(("scratch",) if member.method == "scratch" else ()),  # absent from older keys
    )
    augment = randaugment(recipe.randaugment, recipe.hflip)
    probed: dict = {}  # the linear-probed model, built only if some trial must be trained

    def linear_probed(run: Runtime):
        if not probed:
            model, lp_meta = _linear_probed(
                member.architecture,
                settings=settings,
                dataset=dataset,
                seed=seed,
                key=lp_key,
                train_set=train_set,
                val_set=val_set,
                rt=run,
                scratch=member.method == "scratch",
            )
            state = cpu_state_dict(model)
            probed.update(model=model, meta=lp_meta, state=state)
        probed["model"].load_state_dict(probed["state"])
        return probed["model"], probed["meta"]

    results = []
    for index, hyper in enumerate(hypers):
        trial_seed = seed + index
        key = cache.key(
            "trial",
            lp_key,
            member.method,
            hyper,
            recipe.ft_epochs,
            recipe.warmup_fraction,
            recipe.randaugment,
            *(("hflip",) if recipe.hflip else ()),  # absent from older keys, which had none
            recipe.batch_size,
            trial_seed,
            # IVON's weight samples now follow each shared augmented epoch's draws instead of
            # interleaving with them (duolib.train.epochs): another random stream, another key.
            *(
                ("shared-epochs",)
                if member.method == "ivon" and shared_epochs.shareable(train_set, augment)
                else ()
            ),
        )
        checkpoint = cache.root() / "checkpoints" / f"{key}.pt"

        def train(run: Runtime, index=index, hyper=hyper, trial_seed=trial_seed, ckpt=checkpoint):
            model, lp_meta = linear_probed(run)
            if hyper.get("start") == "finetuned":  # IVON continues the AdamW fine-tuned model
                adamw = members.Member(member.architecture, member.replica).name
                model.load_state_dict(finetuned(adamw, settings, run, dataset)[0].state_dict())
            start = time.perf_counter()
            state, val_acc, history = run_epochs(
                model,
                train_set,
                val_set,
                epochs=hyper.get("epochs", recipe.ft_epochs),
                lr=hyper["lr"],
                weight_decay=hyper["weight_decay"],
                batch_size=recipe.batch_size,
                warmup_fraction=recipe.warmup_fraction,
                augment=augment,
                checkpoint=ckpt,
                seed=trial_seed,
                rt=run,
                desc=f"fine-tune {name} trial {index + 1}/{len(hypers)}",
                ivon={"hess_init": hyper["hess_init"]} if member.method == "ivon" else None,
                select_by=recipe.select_by,
            )
            files = {"model.pt": state}
            if "ivon_state" in state:
                files["ivon.pt"] = state.pop("ivon_state")
            meta = {
                "model": name,
                "dataset": dataset,
                "profile": settings.name,
                "method": member.method,
                "trial": index,
                **hyper,
                "val_score": val_acc,  # in recipe.select_by
                "select_by": recipe.select_by,
                "val_accuracy": _accuracy_at_best(history, recipe.select_by),
                "history": history,
                "seconds": time.perf_counter() - start,
                "recipe": asdict(recipe),
                **lp_meta,
            }
            return files, meta

        directory = cache.root() / "models" / key
        meta = _train_once(directory, train, rt, f"fine-tuning trial {index} of {name}")
        checkpoint.unlink(missing_ok=True)
        results.append({**meta, "directory": str(directory)})
    return results


def _accuracy_at_best(history: list[dict], select_by: str) -> float:
    """Validation accuracy at the epoch ``select_by`` kept (the first of equal scores)."""
    key = f"val_{select_by}"
    best = max(range(len(history)), key=lambda i: (history[i][key], -i))
    return history[best]["val_accuracy"]


def load_trial(trial: dict, num_classes: int):
    """The fine-tuned model of one ``finetune_trials`` entry, in eval mode on the CPU."""
    model = zoo.build(members.parse(trial["model"]).architecture, num_classes)
    model.load_state_dict(torch.load(Path(trial["directory"]) / "model.pt", map_location="cpu"))
    return model.eval()


def finetuned(
    name: str,
    profile: str | Profile | None = None,
    rt: Runtime | None = None,
    dataset: str | None = None,
):
    """``name`` fine-tuned with LP-FT on ``dataset`` (default: the profile's); cached.

    The best of the recipe's trials by validation score (``recipe.select_by``). Returns
    (model in eval mode, metadata): the recipe, every trial's settings and validation
    accuracy, the LP accuracy, and wall times of pretraining, LP and FT (the sum over trials).
    """
    settings = profiles.get(profile)
    dataset = dataset or settings.datasets[0]
    trials = finetune_trials(name, settings, dataset, rt=rt)
    # Models trained before trials recorded a score were all selected by accuracy.
    best = max(trials, key=lambda t: t.get("val_score", t["val_accuracy"]))  # first of equals
    num_classes = len(data.load(dataset, "val", settings).classes)
    meta = {
        "model": name,
        "dataset": dataset,
        "profile": settings.name,
        "recipe": best["recipe"],
        "pretraining": best["pretraining"],
        "pretrain_seconds": best["pretrain_seconds"],
        "lp_val_accuracy": best["lp_val_accuracy"],
        "lp_history": best["lp_history"],
        "lp_seconds": best["lp_seconds"],
        "trials": trials,
        "best_trial": best["trial"],
        "val_accuracy": best["val_accuracy"],
        "ft_seconds": sum(t["seconds"] for t in trials),
    }
    return load_trial(best, num_classes), meta
