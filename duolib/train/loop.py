"""The epoch loop: AdamW (or IVON), warm-up + cosine, a checkpoint every epoch, resume.

Every epoch ends with an atomic checkpoint; calling ``run_epochs`` again after an interruption
resumes from the last finished epoch, and seeds make CPU runs repeatable (a resumed run ends with
the same weights as an uninterrupted one). A checkpoint that cannot be read (a torn or corrupted
file) is reported, removed, and the run starts again from scratch.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.transforms import v2
from tqdm.auto import tqdm

from .. import cache
from ..metrics import macro_f1
from . import epochs as shared_epochs
from .ivon import ivon_optimizer
from .runtime import (
    Runtime,
    cpu_state_dict,
    loader,
    normalisation,
    predict_logits,
    runtime,
    to_input,
)

# What a checkpoint written by run_epochs holds.
CHECKPOINT_KEYS = frozenset(
    {"model", "optimizer", "scheduler", "epoch", "best_state", "best_acc", "history"}
)


def warmup_cosine(total_steps: int, warmup_fraction: float):
    warmup = max(1, int(round(total_steps * warmup_fraction)))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def randaugment(recipe_randaugment, hflip: bool = False):
    """RandAugment(num_ops, magnitude), then a horizontal flip with probability 0.5 if
    ``hflip`` (the released code's training augmentation for natural images; the generated
    benchmark's glyphs are not flipped: a mirrored letter is another symbol). None: no
    augmentation at all (RandAugment None and no flip)."""
    if recipe_randaugment is None:
        return v2.RandomHorizontalFlip(0.5) if hflip else None
    num_ops, magnitude = recipe_randaugment
    augment = v2.RandAugment(num_ops=num_ops, magnitude=magnitude)
    return v2.Compose([augment, v2.RandomHorizontalFlip(0.5)]) if hflip else augment


SELECTION_SCORES = ("accuracy", "macro_f1")


def validation_scores(logits, labels, select_by: str = "accuracy") -> dict[str, float]:
    """``val_accuracy`` always, and ``val_macro_f1`` too when epochs are selected by it."""
    if select_by not in SELECTION_SCORES:
        raise ValueError(f"select_by must be one of {SELECTION_SCORES}, got {select_by!r}")
    prediction = torch.as_tensor(logits).argmax(1).cpu().numpy()
    labels = torch.as_tensor(labels).cpu().numpy()
    scores = {"val_accuracy": float((prediction == labels).mean())}
    if select_by == "macro_f1":
        scores["val_macro_f1"] = macro_f1(labels, prediction)
    return scores


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
    select_by: str = "accuracy",
):
    """Train every parameter of ``model``; keep the epoch with the best validation score.

    Resumes from ``checkpoint`` if it exists. Returns (best state_dict, best validation score,
    history of per-epoch dicts). The score is ``select_by``: "accuracy" or "macro_f1".
    ``stop_after_epochs`` interrupts the run after that many epochs of this call (for tests of
    resuming).

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
    # Augmentation runs before the model's own resize and crop (on the image as loaded). On the
    # generated benchmark each augmented epoch is drawn once and shared by every model
    # (``duolib.train.epochs``); elsewhere the loader augments on the fly.
    shared = shared_epochs.shareable(train_set, augment, rt.world_size)
    fingerprint = shared_epochs.fingerprint(train_set) if shared else None
    base_set = train_set
    train_set = train_set.with_augmentation(augment) if augment is not None else train_set
    mean, std = normalisation(train_set)
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
    state = load_checkpoint(checkpoint)
    if state is not None:
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
        if shared:
            batches = shared_epochs.batches(
                *shared_epochs.augmented_epoch(base_set, augment, seed, epoch, rt, fingerprint),
                batch_size,
            )
        else:
            batches = loader(train_set, batch_size, True, seed, epoch, rt)
        # tqdm.auto's asyncio class calls iter() on what it wraps and tqdm iterates it again:
        # on a DataLoader that starts the workers twice and decodes batches that are thrown
        # away. Wrapping one iterator avoids it.
        bar = tqdm(
            iter(batches), total=len(batches), desc=f"{desc} {epoch + 1}/{epochs}", leave=False
        )
        for images, targets in bar:
            targets = targets.to(rt.device)
            inputs = to_input(images, rt.device, mean, std)
            if ivon is None:
                with rt.autocast():
                    loss = F.cross_entropy(trained(inputs), targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                with optimizer.sampled_params(train=True):
                    optimizer.zero_grad(set_to_none=True)
                    with rt.autocast():
                        loss = F.cross_entropy(trained(inputs), targets)
                    loss.backward()
                optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(targets)
            seen += len(targets)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}")
        val_logits, val_labels = predict_logits(model, val_set, rt=rt)
        scores = validation_scores(val_logits, val_labels, select_by)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": total_loss / max(seen, 1),
                **scores,
                "seconds": time.perf_counter() - start,
            }
        )
        if scores[f"val_{select_by}"] > best_acc:
            best_acc = scores[f"val_{select_by}"]
            best_state = cpu_state_dict(model)
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


def load_checkpoint(path: Path) -> dict | None:
    """The training state saved at ``path``; None if there is none or it cannot be used.

    A file that torch cannot read, or that lacks what ``run_epochs`` saves, is reported by name
    and deleted: training then restarts from scratch instead of failing with a zip error.
    """
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(state, dict) or not CHECKPOINT_KEYS <= state.keys():
            raise ValueError("it does not hold a run_epochs training state")
    except Exception as err:  # noqa: BLE001 (any unreadable checkpoint is discarded)
        warnings.warn(
            f"training checkpoint {path} is corrupted ({type(err).__name__}: {err}); "
            "deleting it and training this run from scratch",
            UserWarning,
            stacklevel=3,
        )
        path.unlink(missing_ok=True)
        return None
    return state
