"""Training: pretraining for the demo zoo and the paper's LP-FT recipe (Appendix A.2).

LP-FT (Kumar et al. 2022): a linear probe first trains only the new head on a frozen backbone
(here on features computed once, which is exact for a frozen backbone in eval mode and costs one
forward pass instead of one per epoch); the best LP epoch by validation accuracy initialises full
fine-tuning with AdamW, a linear warm-up then cosine schedule and RandAugment; learning rate and
weight decay are searched over ``recipe.trials`` trials and the best by validation accuracy is kept.

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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from . import cache, data, profiles, zoo

TRAIN_VERSION = 1  # bump when training changes, to invalidate cached models
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
):
    """Train every parameter of ``model``; keep the epoch with the best validation accuracy.

    Resumes from ``checkpoint`` if it exists. Returns (best state_dict, best val accuracy,
    history of per-epoch dicts). ``stop_after_epochs`` interrupts the run after that many
    epochs of this call (for tests of resuming).
    """
    rt = rt or runtime()
    model = model.to(rt.device).to(memory_format=torch.channels_last)
    train_set = train_set.with_transform(augment) if augment is not None else train_set
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
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
            with rt.autocast():
                loss = F.cross_entropy(trained(to_input(images, rt.device)), targets)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
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


def _save_model(directory: Path, state, meta: dict):
    def write(tmp):
        torch.save(state, tmp / "model.pt")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

    cache.atomic_directory(directory, write)


def pretrained(name: str, profile: str | None = None, rt: Runtime | None = None):
    """``name`` with its pretrained weights and the pretraining head removed (new head later).

    Paper models load their published weights. Demo models are trained from scratch on the
    ``glyphs-pretrain`` task once and cached; returns (model, metadata).
    """
    settings = profiles.get(profile)
    recipe = settings.recipe
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
        settings.seed,
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
            seed=settings.seed,
            rt=rt,
            desc=f"pretrain {name}",
        )
        meta = {
            "model": name,
            "task": settings.pretrain_dataset,
            "val_accuracy": best_acc,
            "history": history,
            "seconds": time.perf_counter() - start,
        }
        if rt.is_main:
            _save_model(directory, best_state, meta)
        (cache.root() / "checkpoints" / f"{key}.pt").unlink(missing_ok=True)
    model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu"))
    return model, {
        "pretraining": f"{settings.pretrain_dataset} ({meta['val_accuracy']:.3f} val acc)",
        "seconds": meta["seconds"],
    }


def finetuned(
    name: str, profile: str | None = None, rt: Runtime | None = None, dataset: str | None = None
):
    """``name`` fine-tuned with LP-FT on ``dataset`` (default: the profile's); cached.

    Returns (model in eval mode, metadata).

    The metadata holds the recipe, every trial's settings and validation accuracy, the LP
    accuracy, and wall times of pretraining, LP and FT.
    """
    settings = profiles.get(profile)
    dataset = dataset or settings.dataset
    recipe = settings.recipe_for(dataset)
    train_set = data.load(dataset, "train", settings.name)
    val_set = data.load(dataset, "val", settings.name)
    num_classes = len(train_set.classes)
    key = cache.key(
        "finetune",
        name,
        asdict(zoo.get(name)),
        settings.name,
        dataset,
        len(train_set),
        len(val_set),
        settings.seed,
        asdict(recipe),
        TRAIN_VERSION,
        data.glyphs.GENERATOR_VERSION,
    )
    directory = cache.root() / "models" / key
    meta = _finished(directory)
    if meta is None:
        rt = rt or runtime()
        model, pre_meta = pretrained(name, settings.name, rt)
        zoo.replace_classifier(model, num_classes)
        model = model.to(rt.device)
        start = time.perf_counter()
        lp_acc, lp_history = linear_probe(
            model,
            train_set,
            val_set,
            epochs=recipe.lp_epochs,
            lr=recipe.lp_lr,
            batch_size=recipe.batch_size,
            seed=settings.seed,
            rt=rt,
        )
        lp_seconds = time.perf_counter() - start
        lp_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        trials = []
        best = (-1.0, None)
        for index, hyper in enumerate(search_space(recipe, settings.seed)):
            model.load_state_dict(lp_state)
            start = time.perf_counter()
            state, val_acc, history = run_epochs(
                model,
                train_set,
                val_set,
                epochs=recipe.ft_epochs,
                lr=hyper["lr"],
                weight_decay=hyper["weight_decay"],
                batch_size=recipe.batch_size,
                warmup_fraction=recipe.warmup_fraction,
                augment=_randaugment(recipe.randaugment),
                checkpoint=cache.root() / "checkpoints" / f"{key}-trial{index}.pt",
                seed=settings.seed + index,
                rt=rt,
                desc=f"fine-tune {name} trial {index + 1}",
            )
            trials.append(
                {
                    **hyper,
                    "val_accuracy": val_acc,
                    "history": history,
                    "seconds": time.perf_counter() - start,
                }
            )
            if val_acc > best[0]:
                best = (val_acc, state)
        meta = {
            "model": name,
            "dataset": dataset,
            "profile": settings.name,
            "recipe": asdict(recipe),
            "pretraining": pre_meta["pretraining"],
            "pretrain_seconds": pre_meta["seconds"],
            "lp_val_accuracy": lp_acc,
            "lp_history": lp_history,
            "lp_seconds": lp_seconds,
            "trials": trials,
            "val_accuracy": best[0],
            "ft_seconds": sum(t["seconds"] for t in trials),
        }
        if rt.is_main:
            _save_model(directory, best[1], meta)
        for index in range(len(trials)):
            (cache.root() / "checkpoints" / f"{key}-trial{index}.pt").unlink(missing_ok=True)
    model = zoo.build(name, num_classes)
    model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu"))
    return model.eval(), meta
