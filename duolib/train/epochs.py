"""Augmented training epochs of in-memory datasets: computed once, shared by every model.

RandAugment on a 32x32 uint8 image costs about 0.6 ms on one CPU core, so on the generated
benchmark it is most of an epoch of the demo's small models (7.5 s of augmentation against 1.3 s
of LeNet's forward and backward passes per epoch of 12,000 images, measured on 2 cores). Yet the
images an epoch yields do not depend on the model: only on the dataset, the augmentation, the
shuffle (seeded by ``(seed, epoch)``) and the global RNG, which ``run_epochs`` seeds with
``seed * 1000 + epoch`` before the epoch and which the augmentation alone draws from while the
loader runs. So the whole epoch is drawn once, in the order the loader yields it, and cached on
disk with the global RNG state that follows it; every model trained with the same seed then
reads it, and training is bitwise the same as augmenting on the fly for any model whose steps
draw no random numbers. A model whose steps do (IVON's weight samples, dropout) sees the same
augmented images but its own draws come after the epoch's rather than between its batches: an
equally valid random stream, which is why IVON's cache key marks it.

Only in-memory datasets (``duolib.data.ArrayDataset``) on one process are shared this way; the
paper's image folders are augmented on the fly by the loader's workers.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
import torchvision

from .. import cache, data
from .runtime import Runtime, loader

# Bump when the way an epoch is drawn changes, to invalidate cached epochs.
EPOCHS_VERSION = 1


def shareable(train_set, augment, world_size: int = 1) -> bool:
    """Whether ``run_epochs`` reads this training set's augmented epochs from the cache (in a run
    of ``world_size`` processes)."""
    return augment is not None and isinstance(train_set, data.ArrayDataset) and world_size == 1


def fingerprint(dataset: data.ArrayDataset) -> str:
    """A content hash of an in-memory dataset's images and labels (and its own transform)."""
    digest = hashlib.blake2b(digest_size=16)
    for tensor in (dataset.images, dataset.labels):
        array = np.ascontiguousarray(torch.as_tensor(tensor).numpy())
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(array.data)
    digest.update(repr(dataset.transform).encode())
    return digest.hexdigest()


def augmented_epoch(
    train_set: data.ArrayDataset,
    augment,
    seed: int,
    epoch: int,
    rt: Runtime,
    dataset_fingerprint: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels one epoch of ``train_set`` through ``augment`` yields, in order.

    Call it where the loader would be created, after seeding the global RNG for the epoch: it
    leaves the global RNG where iterating the loader would have left it. Cached under the
    dataset's content, the augmentation's settings, ``seed`` and ``epoch``.
    """
    key = cache.key(
        "augmented-epoch",
        dataset_fingerprint or fingerprint(train_set),
        repr(augment),
        seed,
        epoch,
        torch.__version__,
        torchvision.__version__,
        EPOCHS_VERSION,
    )
    directory = cache.root() / "epochs" / key

    def compute():
        images, labels = [], []
        # The loader training would use (its shuffle; batch size changes neither order nor draws).
        for batch_images, batch_labels in loader(
            train_set.with_augmentation(augment), 1024, True, seed, epoch, rt
        ):
            images.append(batch_images)
            labels.append(batch_labels)
        arrays = {
            "images": torch.cat(images).numpy(),
            "labels": torch.cat(labels).numpy(),
            "rng_after": torch.get_rng_state().numpy(),
        }
        return arrays, {"seed": seed, "epoch": epoch, "augment": repr(augment)}

    what = f"augmented epoch {epoch + 1} (seed {seed})"
    arrays, _ = cache.cached_arrays(directory, compute, what)
    # On a cache hit the RNG never ran: put it where drawing the epoch would have left it.
    torch.set_rng_state(torch.from_numpy(arrays["rng_after"]))
    return torch.from_numpy(arrays["images"]), torch.from_numpy(arrays["labels"])


def batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int):
    """The epoch in batches of ``batch_size``, as the loader would have cut it."""
    return [
        (images[start : start + batch_size], labels[start : start + batch_size])
        for start in range(0, len(labels), batch_size)
    ]
