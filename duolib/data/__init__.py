"""Datasets: ``load(name, split, profile)`` returns a torch Dataset with ``.classes``.

* ``glyphs`` / ``glyphs-pretrain``: the offline benchmark duolib generates (``duolib.data.glyphs``),
  used by the ``demo`` and ``smoke`` profiles; cached on disk, verified by content hash. 32x32
  images, no per-model preprocessing (``.preprocessing`` is None: ImageNet statistics).
* ``imagenet`` (splits train, val, test, and ood = ImageNet-V2), ``caltech256`` (train, val,
  test), ``iwildcam`` (train, val, test, ood): the paper's datasets with the released code's
  splits (``duolib.data.paper`` describes the layout on disk), for the ``paper`` profile. Each
  model gets its own resize and crop (``preprocessing=``, a ``duolib.zoo.Preprocessing``).
  The data root is ``root=``, else the profile's generated folders (``duolib.data.fake``, for the
  ``paper-rehearsal`` profile), else ``$DUOLIB_DATA`` (default ``~/data``).

Every dataset yields ``(image, label)`` with ``image`` a uint8 tensor (3, H, W) and carries
``.preprocessing``; models normalise on their device (``duolib.train``) with its mean/std, so
data loading stays cheap. ``with_augmentation(augment)`` puts a training augmentation in front
of the dataset's own transform; ``files(name, split)`` lists a paper split's image files.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from .. import cache, profiles, zoo
from . import fake, glyphs, paper

GLYPH_TASKS = ("glyphs", "glyphs-pretrain")
# The splits that are scored (in-distribution test, and out-of-distribution where it exists);
# "val" fits temperatures and Duo weights, "train" fine-tunes.
EVALUATION_SPLITS = ("test", "ood")


class ArrayDataset(Dataset):
    """Images held in memory as one uint8 tensor (N, 3, H, W), with labels and class names."""

    # Generated images are already model-sized: no resize or crop, ImageNet statistics.
    preprocessing = None

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
        """The same images through ``transform`` (of a uint8 tensor) instead."""
        return ArrayDataset(self.images, self.labels, self.classes, transform, self.fonts)

    def with_augmentation(self, augment):
        """``augment`` (of a uint8 tensor) before this dataset's transform, if it has one."""
        if self.transform is None:
            return self.with_transform(augment)
        return self.with_transform(v2.Compose([augment, self.transform]))


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


# What the paper's figures call each evaluation set (Figures 3-6: ImageNet, ImageNet-V2,
# Caltech 256, iWildCam ID, iWildCam OOD); the generated benchmark keeps its split names.
_PANELS = {
    ("imagenet", "test"): "ImageNet",
    ("imagenet", "ood"): "ImageNet-V2",
    ("caltech256", "test"): "Caltech 256",
    ("iwildcam", "test"): "iWildCam ID",
    ("iwildcam", "ood"): "iWildCam OOD",
}


def panel_name(name: str, split: str) -> str:
    """The name of one evaluation set as the paper's figures label it ("ImageNet-V2")."""
    if split not in splits(name):
        raise ValueError(f"dataset {name!r} has splits {splits(name)}, not {split!r}")
    return _PANELS.get((name, split), split)


def cache_key_parts(name: str, profile=None, preprocessing=None) -> tuple:
    """What determines a split's images beyond the dataset's name, for cache keys of models and
    logits: nothing for the generated benchmark (its own key covers it, and existing caches
    stay valid); for the paper's datasets, the split procedure's version, the model's
    preprocessing and, on a rehearsal, the generated folders' sizes."""
    if name in GLYPH_TASKS:
        return ()
    settings = profiles.get(profile)
    used = preprocessing or paper.DEFAULT_PREPROCESSING
    return (paper.DATA_VERSION, asdict(used), settings.generated_data)


def evaluation_splits(name: str) -> tuple[str, ...]:
    """The splits of ``name`` that are scored: test, and OOD where the dataset has one."""
    return tuple(s for s in splits(name) if s in EVALUATION_SPLITS)


def data_root(profile=None, root=None):
    """Where the paper's datasets are read from: ``root``, else the folders the profile
    generates (``Profile.generated_data``), else ``$DUOLIB_DATA`` (default ``~/data``)."""
    if root is not None:
        return paper.data_root(root)
    settings = profiles.get(profile)  # a name or a Profile
    if settings.generated_data:
        return fake.root(settings.generated_data, settings.seed)
    return paper.data_root()


def load(
    name: str,
    split: str,
    profile: str | None = None,
    root=None,
    preprocessing: zoo.Preprocessing | None = None,
):
    """The ``split`` of dataset ``name`` at the size the ``profile`` asks for.

    The paper's datasets are read from ``data_root(profile, root)`` and prepared by
    ``preprocessing`` (the model's resize/crop/interpolation; default short side 256, crop
    224, bilinear). The generated glyph datasets ignore ``root`` and ``preprocessing``.
    """
    if name in GLYPH_TASKS:
        if split not in splits(name):
            raise ValueError(f"dataset {name!r} has splits {splits(name)}, not {split!r}")
        settings = profiles.get(profile)  # a name or a Profile
        return _glyph_split(name, split, settings.glyph_split_sizes[split], settings.seed)
    if name in paper.DATASETS:
        return paper.load(name, split, data_root(profile, root), preprocessing)
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(names())}")


def files(name: str, split: str, profile: str | None = None, root=None) -> list[str]:
    """The image files of a paper dataset's ``split`` in the split's order (the order ``load``
    yields them), as paths relative to the data root: which images are in val and test."""
    if name in GLYPH_TASKS:
        raise ValueError(
            f"{name!r} is generated in memory by duolib.data.glyphs: it has no image files"
        )
    if name in paper.DATASETS:
        return paper.files(name, split, data_root(profile, root))
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(names())}")
