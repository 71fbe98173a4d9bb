"""Datasets: ``load(name, split, profile)`` returns a torch Dataset with ``.classes``.

* ``glyphs`` / ``glyphs-pretrain``: the offline benchmark duolib generates (``duolib.data.glyphs``),
  used by the ``demo`` and ``smoke`` profiles; cached on disk, verified by content hash.
* ``caltech256``, ``imagenet``, ``imagenet-v2``, ``iwildcam``: the paper's datasets with the
  paper's splits (``duolib.data.paper``), for the ``paper`` profile.

Every dataset yields ``(image, label)`` with ``image`` a uint8 tensor (3, H, W); models normalise
on their device (``duolib.train``), so data loading stays cheap.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from torch.utils.data import Dataset

from .. import cache, profiles
from . import glyphs, paper

GLYPH_TASKS = ("glyphs", "glyphs-pretrain")
# The splits that are scored (in-distribution test, and out-of-distribution where it exists);
# "val" fits temperatures and Duo weights, "train" fine-tunes.
EVALUATION_SPLITS = ("test", "ood")


class ArrayDataset(Dataset):
    """Images held in memory as one uint8 tensor (N, 3, H, W), with labels and class names."""

    def __init__(self, images, labels, classes, transform=None, fonts=None):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels = images, labels
        self.classes = list(classes)
        self.transform = transform
        self.fonts = fonts

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])

    def with_transform(self, transform):
        return ArrayDataset(self.images, self.labels, self.classes, transform, self.fonts)


def _glyph_split(task: str, split: str, size: int, seed: int) -> ArrayDataset:
    chars, fonts, style, offset = glyphs.SPLITS[(task, split)]
    entry = (
        cache.root()
        / "glyphs"
        / cache.key(task, split, size, seed, glyphs.GENERATOR_VERSION, chars, fonts, style)
    )

    def write(tmp):
        images, labels, font = glyphs.render(size, chars, fonts, style, seed * 100 + offset)
        np.savez(
            tmp / "split.npz", images=images.numpy(), labels=labels.numpy(), fonts=font.numpy()
        )
        (tmp / "info.json").write_text(
            json.dumps({"task": task, "split": split, "fonts": list(fonts)})
        )

    cache.build_once(entry, write, what=f"generated {task}/{split} split")
    with np.load(entry / "split.npz") as arrays:
        images = torch.from_numpy(arrays["images"])
        labels = torch.from_numpy(arrays["labels"])
        font_index = arrays["fonts"]
    return ArrayDataset(images, labels, chars, fonts=[fonts[i] for i in font_index])


def splits(name: str) -> tuple[str, ...]:
    """Every split of dataset ``name`` (train, val, test and, where it has one, ood)."""
    if name in GLYPH_TASKS:
        return tuple(split for task, split in glyphs.SPLITS if task == name)
    if name in paper.DATASETS:
        return paper.splits(name)
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(names())}")


def names() -> tuple[str, ...]:
    """Every dataset ``load`` knows."""
    return GLYPH_TASKS + tuple(paper.DATASETS)


def evaluation_splits(name: str) -> tuple[str, ...]:
    """The splits of ``name`` that are scored: test, and OOD where the dataset has one."""
    return tuple(s for s in splits(name) if s in EVALUATION_SPLITS)


def load(name: str, split: str, profile: str | None = None, root=None):
    """The ``split`` of dataset ``name`` at the size the ``profile`` asks for.

    ``root`` is where the paper's datasets live on disk (default ``$DUOLIB_DATA``).
    """
    if name in GLYPH_TASKS:
        if split not in splits(name):
            raise ValueError(f"dataset {name!r} has splits {splits(name)}, not {split!r}")
        settings = profiles.get(profile)  # a name or a Profile
        return _glyph_split(name, split, settings.glyph_split_sizes[split], settings.seed)
    if name in paper.DATASETS:
        return paper.load(name, split, root)
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(names())}")
