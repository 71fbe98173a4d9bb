"""Training: pretraining for the demo zoo and the paper's LP-FT recipe (Appendix A.2).

LP-FT (Kumar et al. 2022): a linear probe first trains only the new head on a frozen backbone
(here on features computed once, which is exact for a frozen backbone in eval mode and costs one
forward pass instead of one per epoch); the best LP epoch by validation accuracy initialises full
fine-tuning with AdamW, a linear warm-up then cosine schedule and RandAugment; learning rate and
weight decay are searched over ``recipe.trials`` trials and the best by validation accuracy is kept.
The linear probe and every trial are cached on their own (``finetune_trials``), so a longer search
(the soup ingredients of ``duolib.baselines``) reuses the zoo's trials; ``name@k`` trains an
independent replica (seed + k) and ``name:ivon`` fine-tunes with the IVON optimizer
(``duolib.members``).

One loop serves CPU, one GPU and several GPUs: the device is chosen automatically; on CUDA it
uses mixed precision (bf16 where supported, else fp16 with loss scaling) and channels_last; on a
CPU with bf16 support it uses bf16 autocast; under ``torchrun`` (``WORLD_SIZE > 1``) it wraps the
model in DistributedDataParallel and shards batches with a DistributedSampler.

Every epoch ends with an atomic checkpoint; calling the same function again after an interruption
resumes from the last finished epoch, and seeds make CPU runs repeatable (a resumed run ends with
the same weights as an uninterrupted one).
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from . import cache, data, members, profiles, zoo

TRAIN_VERSION = 2  # bump when training changes, to invalidate cached models
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ---------------------------------------------------------------------------------------------
# Devices and precision
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None
    world_size: int = 1
    rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def runtime(device: str | None = None, amp: bool = True) -> Runtime:
    """The device to train on and its mixed precision; joins torchrun's process group if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    if device is None:
        if torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        else:
            device = "cpu"
    dev = torch.device(device)
    amp_dtype = None
    if amp and dev.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    elif amp and dev.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        amp_dtype = torch.bfloat16
    return Runtime(dev, amp_dtype, world_size, rank)


def to_input(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> normalised float on ``device``, channels_last."""
    x = images.to(device, non_blocking=True).float().div_(255)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def _loader(dataset, batch_size, shuffle, seed=0, epoch=0, rt: Runtime | None = None):
    workers = 0 if isinstance(dataset, data.ArrayDataset) else min(8, os.cpu_count() or 1)
    sampler, generator = None, None
    if rt is not None and rt.world_size > 1:
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed)
        sampler.set_epoch(epoch)
        shuffle = False
    elif shuffle:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        generator=generator,
        num_workers=workers,
        pin_memory=rt is not None and rt.device.type == "cuda",
        persistent_workers=False,
    )


@torch.no_grad()
def predict_logits(model, dataset, batch_size=512, rt: Runtime | None = None, desc=None):
    """float32 logits (N, K) and labels of ``model`` on ``dataset`` (eval mode, no autocast)."""
    rt = rt or runtime()
    model = model.to(rt.device).eval()
    outputs, labels = [], []
    batches = _loader(dataset, batch_size, shuffle=False)
    for images, targets in tqdm(batches, desc=desc, leave=False, disable=desc is None):
        outputs.append(model(to_input(images, rt.device)).float().cpu())
        labels.append(targets)
    return torch.cat(outputs).numpy(), torch.cat(labels).numpy()


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(1) == labels).mean())


# ---------------------------------------------------------------------------------------------
# The epoch loop: AdamW, warm-up + cosine, checkpoint every epoch, resume
# ---------------------------------------------------------------------------------------------


def warmup_cosine(total_steps: int, warmup_fraction: float):
    warmup = max(1, int(round(total_steps * warmup_fraction)))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _randaugment(recipe_randaugment):
    from torchvision.transforms import v2

    num_ops, magnitude = recipe_randaugment
    return v2.RandAugment(num_ops=num_ops, magnitude=magnitude)


class _StopAfter(Exception):
    """Raised by ``stop_after_epochs`` (tests simulate an interruption with it)."""


def run_epochs(
    model,
    train_set,
    val_set,
    *,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    checkpoint: Path,
    seed: int,
    warmup_fraction: float = 0.1,
    augment=None,
    rt: Runtime | None = None,
    desc: str = "train",
    stop_after_epochs: int | None = None,
    ivon: dict | None = None,
):
    """Train every parameter of ``model``; keep the epoch with the best validation accuracy.

    Resumes from ``checkpoint`` if it exists. Returns (best state_dict, best val accuracy,
    history of per-epoch dicts). ``stop_after_epochs`` interrupts the run after that many
    epochs of this call (for tests of resuming).

    ``ivon``: train with the IVON optimizer (ivon-opt) instead of AdamW; a dict of its extra
    settings (``hess_init``). Each step draws one weight sample from the posterior
    (``sampled_params(train=True)``), validation uses the posterior mean, and the returned state
    then also holds the posterior (``"ivon_state"``: the optimizer's state at the best epoch).
    """
    rt = rt or runtime()
    if ivon is not None and rt.amp_dtype == torch.float16:
        # IVON reads the gradients inside sampled_params, before a GradScaler could unscale them.
        rt = Runtime(rt.device, None, rt.world_size, rt.rank)
    model = model.to(rt.device).to(memory_format=torch.channels_last)
    train_set = train_set.with_transform(augment) if augment is not None else train_set
    if ivon is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        optimizer = ivon_optimizer(model, len(train_set), lr, weight_decay, rt=rt, **ivon)
    steps_per_epoch = math.ceil(len(train_set) / (batch_size * rt.world_size))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(epochs * steps_per_epoch, warmup_fraction)
    )
    scaler = torch.amp.GradScaler(enabled=rt.amp_dtype == torch.float16)
    start_epoch, best_state, best_acc, history = 0, None, -1.0, []
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_state = state["epoch"], state["best_state"]
        best_acc, history = state["best_acc"], state["history"]
    trained = torch.nn.parallel.DistributedDataParallel(model) if rt.world_size > 1 else model
    for epoch in range(start_epoch, epochs):
        if stop_after_epochs is not None and epoch - start_epoch >= stop_after_epochs:
            raise _StopAfter(f"stopped after {stop_after_epochs} epochs")
        torch.manual_seed(seed * 1_000 + epoch)  # augmentation randomness, repeatable on resume
        trained.train()
        start = time.perf_counter()
        total_loss, seen = 0.0, 0
        batches = _loader(train_set, batch_size, True, seed, epoch, rt)
        bar = tqdm(batches, desc=f"{desc} {epoch + 1}/{epochs}", leave=False)
        for images, targets in bar:
            targets = targets.to(rt.device)
            if ivon is None:
                with rt.autocast():
                    loss = F.cross_entropy(trained(to_input(images, rt.device)), targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                with optimizer.sampled_params(train=True):
                    optimizer.zero_grad(set_to_none=True)
                    with rt.autocast():
                        loss = F.cross_entropy(trained(to_input(images, rt.device)), targets)
                    loss.backward()
                optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(targets)
            seen += len(targets)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}")
        val_logits, val_labels = predict_logits(model, val_set, rt=rt)
        val_acc = accuracy(val_logits, val_labels)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": total_loss / max(seen, 1),
                "val_accuracy": val_acc,
                "seconds": time.perf_counter() - start,
            }
        )
        if val_acc > best_acc:
            best_acc = val_acc
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            if ivon is not None:
                best_state["ivon_state"] = copy.deepcopy(optimizer.state_dict())
        if rt.is_main:
            cache.atomic_save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch + 1,
                    "best_state": best_state,
                    "best_acc": best_acc,
                    "history": history,
                },
                checkpoint,
            )
    return best_state, best_acc, history


# ---------------------------------------------------------------------------------------------
# Linear probe on cached features
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def head_features(model, dataset, rt: Runtime, batch_size=512):
    """Inputs to the classifier (the backbone's features) for every example, in eval mode."""
    captured = []
    hook = zoo.classifier(model).register_forward_hook(
        lambda module, inputs, output: captured.append(inputs[0].float().cpu())
    )
    try:
        _, labels = predict_logits(model, dataset, batch_size, rt)
    finally:
        hook.remove()
    return torch.cat(captured), torch.as_tensor(labels)


def linear_probe(model, train_set, val_set, *, epochs, lr, batch_size, seed, rt: Runtime):
    """Train only the head on frozen features; return the best head state and its val accuracy."""
    head = zoo.classifier(model)
    train_x, train_y = head_features(model, train_set, rt)
    val_x, val_y = head_features(model, val_set, rt)
    head = head.float().cpu()
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.0)
    steps = epochs * math.ceil(len(train_y) / batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(steps, 0.1))
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
            val_acc = float((head(val_x).argmax(1) == val_y).float().mean())
        history.append({"epoch": epoch + 1, "val_accuracy": val_acc})
        if val_acc > best_acc:
            best_acc, best_state = val_acc, copy.deepcopy(head.state_dict())
    head.load_state_dict(best_state)
    return best_acc, history


# ---------------------------------------------------------------------------------------------
# Pretraining (demo zoo) and LP-FT
# ---------------------------------------------------------------------------------------------


def search_space(recipe: profiles.Recipe, seed: int) -> list[dict]:
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


def _finished(directory: Path):
    if cache.verified(directory):
        return json.loads((directory / "meta.json").read_text())
    return None


def _save_model(directory: Path, files: dict, meta: dict):
    def write(tmp):
        for filename, obj in files.items():
            torch.save(obj, tmp / filename)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

    cache.atomic_directory(directory, write)


def _barrier(rt: Runtime):
    """Under torchrun, wait until rank 0 has written what the other ranks are about to read."""
    if rt.world_size > 1:
        torch.distributed.barrier()


def ivon_optimizer(model, train_size: int, lr: float, weight_decay: float, hess_init=0.1, rt=None):
    """IVON (Shen et al. 2024, the ``ivon-opt`` package) over every parameter of ``model``.

    The effective sample size is the training set size, as the ivon-opt README recommends.
    """
    import ivon

    return ivon.IVON(
        model.parameters(),
        lr=lr,
        ess=train_size,
        weight_decay=weight_decay,
        hess_init=hess_init,
        sync=rt is not None and rt.world_size > 1,
    )


def pretrained(
    name: str, profile: str | None = None, rt: Runtime | None = None, seed: int | None = None
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
        model = zoo.build(name, num_classes=1000, pretrained=True)
        return model, {"pretraining": zoo.get(name).weights, "seconds": 0.0}
    pre_train = data.load(settings.pretrain_dataset, "train", settings.name)
    pre_val = data.load(settings.pretrain_dataset, "val", settings.name)
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
    meta = _finished(directory)
    if meta is None:
        rt = rt or runtime()
        start = time.perf_counter()
        best_state, best_acc, history = run_epochs(
            model,
            pre_train,
            pre_val,
            epochs=recipe.pretrain_epochs,
            lr=recipe.pretrain_lr,
            weight_decay=recipe.pretrain_wd,
            batch_size=recipe.batch_size,
            checkpoint=cache.root() / "checkpoints" / f"{key}.pt",
            seed=seed,
            rt=rt,
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
        if rt.is_main:
            _save_model(directory, {"model.pt": best_state}, meta)
        _barrier(rt)
        (cache.root() / "checkpoints" / f"{key}.pt").unlink(missing_ok=True)
    model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu"))
    return model, {
        "pretraining": f"{settings.pretrain_dataset} ({meta['val_accuracy']:.3f} val acc)",
        "seconds": meta["seconds"],
    }


# ---------------------------------------------------------------------------------------------
# LP-FT: one cached linear probe, then fine-tuning trials that each start from it (cached apiece)
# ---------------------------------------------------------------------------------------------


def _linear_probed(architecture, settings, dataset, seed, key, train_set, val_set, rt):
    """The pretrained model with the linear-probed head (the head is cached under ``key``)."""
    recipe = settings.recipe_for(dataset)
    directory = cache.root() / "models" / key
    model, pre_meta = pretrained(architecture, settings.name, rt, seed=seed)
    zoo.replace_classifier(model, len(train_set.classes))
    model = model.to(rt.device)
    meta = _finished(directory)
    if meta is None:
        start = time.perf_counter()
        lp_acc, lp_history = linear_probe(
            model,
            train_set,
            val_set,
            epochs=recipe.lp_epochs,
            lr=recipe.lp_lr,
            batch_size=recipe.batch_size,
            seed=seed,
            rt=rt,
        )
        meta = {
            "pretraining": pre_meta["pretraining"],
            "pretrain_seconds": pre_meta["seconds"],
            "lp_val_accuracy": lp_acc,
            "lp_history": lp_history,
            "lp_seconds": time.perf_counter() - start,
        }
        if rt.is_main:
            _save_model(directory, {"head.pt": zoo.classifier(model).state_dict()}, meta)
        _barrier(rt)
    head = torch.load(directory / "head.pt", map_location="cpu")
    zoo.classifier(model).load_state_dict(head)
    return model, meta


def finetune_trials(
    name: str,
    profile: str | None = None,
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
    if member.method not in ("lpft", "ivon"):
        raise ValueError(f"{name!r} is not trained by fine-tuning; see duolib.baselines")
    settings = profiles.get(profile)
    dataset = dataset or settings.dataset
    recipe = settings.recipe_for(dataset)
    seed = settings.seed + member.replica
    if member.method == "ivon":
        if settings.baselines is None:
            raise ValueError(f"profile {settings.name!r} has no IVON settings")
        b = settings.baselines
        hypers = [
            {"lr": b.ivon_lr, "weight_decay": b.ivon_weight_decay, "hess_init": b.ivon_hess_init}
        ]
    else:
        count = recipe.trials if count is None else count
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        hypers = search_space(replace(recipe, trials=count), seed)
    train_set = data.load(dataset, "train", settings.name)
    val_set = data.load(dataset, "val", settings.name)
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
    )
    probed, lp_meta, results = None, None, []
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
            recipe.batch_size,
            trial_seed,
        )
        directory = cache.root() / "models" / key
        meta = _finished(directory)
        if meta is None:
            rt = rt or runtime()
            if probed is None:
                probed, lp_meta = _linear_probed(
                    member.architecture, settings, dataset, seed, lp_key, train_set, val_set, rt
                )
                lp_state = {k: v.detach().cpu().clone() for k, v in probed.state_dict().items()}
            probed.load_state_dict(lp_state)
            start = time.perf_counter()
            state, val_acc, history = run_epochs(
                probed,
                train_set,
                val_set,
                epochs=recipe.ft_epochs,
                lr=hyper["lr"],
                weight_decay=hyper["weight_decay"],
                batch_size=recipe.batch_size,
                warmup_fraction=recipe.warmup_fraction,
                augment=_randaugment(recipe.randaugment),
                checkpoint=cache.root() / "checkpoints" / f"{key}.pt",
                seed=trial_seed,
                rt=rt,
                desc=f"fine-tune {name} trial {index + 1}/{len(hypers)}",
                ivon={"hess_init": hyper["hess_init"]} if member.method == "ivon" else None,
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
                "val_accuracy": val_acc,
                "history": history,
                "seconds": time.perf_counter() - start,
                "recipe": asdict(recipe),
                **lp_meta,
            }
            if rt.is_main:
                _save_model(directory, files, meta)
            _barrier(rt)
            (cache.root() / "checkpoints" / f"{key}.pt").unlink(missing_ok=True)
        results.append({**meta, "directory": str(directory)})
    return results


def load_trial(trial: dict, num_classes: int):
    """The fine-tuned model of one ``finetune_trials`` entry, in eval mode on the CPU."""
    model = zoo.build(members.parse(trial["model"]).architecture, num_classes)
    model.load_state_dict(torch.load(Path(trial["directory"]) / "model.pt", map_location="cpu"))
    return model.eval()


def finetuned(
    name: str, profile: str | None = None, rt: Runtime | None = None, dataset: str | None = None
):
    """``name`` fine-tuned with LP-FT on ``dataset`` (default: the profile's); cached.

    The best of the recipe's trials by validation accuracy. Returns (model in eval mode,
    metadata): the recipe, every trial's settings and validation accuracy, the LP accuracy,
    and wall times of pretraining, LP and FT (the sum over trials).
    """
    settings = profiles.get(profile)
    dataset = dataset or settings.dataset
    trials = finetune_trials(name, settings.name, dataset, rt=rt)
    best = max(trials, key=lambda t: t["val_accuracy"])  # the first of equals
    num_classes = len(data.load(dataset, "val", settings.name).classes)
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
