"""The paper's datasets with the paper's splits (Appendix A.3), read from disk.

Nothing here downloads by default. ``root`` (or ``$DUOLIB_DATA``, default ``~/data``) must hold:

* ``caltech256/256_ObjectCategories/NNN.name/NNN_MMMM.jpg`` (torchvision's layout; 257 classes
  including clutter). Random 70/15/15 train/val/test split with seed 42, as the paper's code.
  ``load(..., download=True)`` lets torchvision fetch it on your machine.
* ``imagenet/val/<wnid>/*.JPEG`` (the official validation set in class folders; optionally
  ``imagenet/train``). The paper's ``val`` is a random 5% of the official validation set (seed 42)
  and its ``test`` the other 95%.
* ``imagenet-v2/<class index>/*.jpeg`` (ImageNet-V2 matched-frequency, folders named 0..999);
  evaluation only, split ``ood``.
* iWildCam 2020-WILDS through the ``wilds`` package (``pip install duolib[wilds]``), under
  ``iwildcam_v2.0``: splits ``train``, ``val`` (ID val), ``test`` (ID test), ``ood`` (OOD test).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets import Caltech256, ImageFolder
from torchvision.transforms import v2

SPLIT_SEED = 42
DATASETS = {
    "caltech256": ("train", "val", "test"),
    "imagenet": ("train", "val", "test"),
    "imagenet-v2": ("ood",),
    "iwildcam": ("train", "val", "test", "ood"),
}


def data_root(root=None) -> Path:
    return Path(root or os.environ.get("DUOLIB_DATA", Path.home() / "data")).expanduser()


def splits(name: str) -> tuple[str, ...]:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def eval_transform(image_size: int = 224):
    """Resize the short side to 256/224 of the crop, centre-crop, keep uint8."""
    return v2.Compose(
        [
            v2.PILToTensor(),
            v2.Resize(round(image_size * 256 / 224), antialias=True),
            v2.CenterCrop(image_size),
        ]
    )


class Subset(Dataset):
    """Selected indices of a base dataset, with the base's classes and a swappable transform."""

    def __init__(self, base, indices, classes, transform):
        self.base, self.indices = base, np.asarray(indices)
        self.classes = list(classes)
        self.transform = transform

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        image, label = self.base[int(self.indices[i])]
        if image.mode != "RGB":
            image = image.convert("RGB")
        return self.transform(image), int(label)

    @property
    def labels(self):
        targets = getattr(self.base, "targets", None)
        if targets is None:
            targets = self.base.y  # torchvision's Caltech256
        return torch.as_tensor(np.asarray(targets)[self.indices])

    def with_transform(self, transform):
        return Subset(self.base, self.indices, self.classes, transform)


def random_split_indices(n: int, fractions: dict[str, float], seed: int = SPLIT_SEED):
    """Disjoint index sets covering range(n), in the order and proportions of ``fractions``."""
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + [round(f * n) for f in fractions.values()])
    bounds[-1] = n
    return {name: np.sort(order[bounds[i] : bounds[i + 1]]) for i, name in enumerate(fractions)}


def _missing(name: str, path: Path, how: str):
    raise FileNotFoundError(f"{name} not found at {path}. {how}")


def _caltech256(split, root, download):
    folder = root / "caltech256" / "256_ObjectCategories"
    if not folder.is_dir() and not download:
        _missing(
            "Caltech 256",
            folder,
            "Put the extracted 256_ObjectCategories folder there, or pass download=True to let "
            "torchvision fetch it (1.2 GB) on this machine.",
        )
    base = Caltech256(str(root), download=download)
    classes = [c.split(".", 1)[-1] for c in base.categories]
    indices = random_split_indices(len(base), {"train": 0.70, "val": 0.15, "test": 0.15})[split]
    return base, indices, classes


def _imagenet(split, root):
    folder = root / "imagenet" / ("train" if split == "train" else "val")
    if not folder.is_dir():
        _missing(
            "ImageNet",
            folder,
            "Put the official ILSVRC2012 validation images there in one folder per class "
            "(wnid), as torchvision's ImageFolder expects (and the training set in "
            "imagenet/train if you need it).",
        )
    base = ImageFolder(str(folder))
    if split == "train":
        return base, np.arange(len(base)), base.classes
    indices = random_split_indices(len(base), {"val": 0.05, "test": 0.95})[split]
    return base, indices, base.classes


class _NumberedFolders(Dataset):
    """ImageNet-V2's layout: class folders named by class index 0..999 (not sortable as text)."""

    def __init__(self, folder: Path):
        self._open = Image.open
        self.samples = [
            (path, int(class_dir.name))
            for class_dir in sorted(folder.iterdir(), key=lambda p: int(p.name))
            if class_dir.is_dir()
            for path in sorted(class_dir.iterdir())
            if path.suffix.lower() in (".jpg", ".jpeg", ".png")
        ]
        self.targets = [label for _, label in self.samples]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        return self._open(path), label


def _imagenet_v2(root):
    folder = root / "imagenet-v2"
    if not folder.is_dir():
        _missing(
            "ImageNet-V2",
            folder,
            "Extract imagenetv2-matched-frequency there: one folder per class index 0..999.",
        )
    base = _NumberedFolders(folder)
    return base, np.arange(len(base)), [str(i) for i in range(1000)]


def _iwildcam(split, root):
    try:
        import wilds
    except ImportError:
        raise ImportError("iWildCam needs the wilds package: pip install 'duolib[wilds]'") from None
    folder = root / "iwildcam_v2.0"
    if not folder.is_dir():
        _missing(
            "iWildCam 2020-WILDS",
            folder,
            "Download it once with wilds.get_dataset('iwildcam', root_dir=..., download=True).",
        )
    dataset = wilds.get_dataset("iwildcam", root_dir=str(root), download=False)
    subset = dataset.get_subset(
        {"train": "train", "val": "id_val", "test": "id_test", "ood": "test"}[split]
    )
    classes = [str(i) for i in range(dataset.n_classes)]

    class _Pairs(Dataset):
        targets = subset.y_array.numpy()

        def __len__(self):
            return len(subset)

        def __getitem__(self, i):
            image, label, _ = subset[i]
            return image, int(label)

    return _Pairs(), np.arange(len(subset)), classes


def load(name: str, split: str, root=None, image_size: int = 224, download: bool = False):
    """The ``split`` of one of the paper's datasets as a ``Subset`` yielding uint8 tensors."""
    if split not in splits(name):
        raise ValueError(f"dataset {name!r} has splits {splits(name)}, not {split!r}")
    root = data_root(root)
    if name == "caltech256":
        base, indices, classes = _caltech256(split, root, download)
    elif name == "imagenet":
        base, indices, classes = _imagenet(split, root)
    elif name == "imagenet-v2":
        base, indices, classes = _imagenet_v2(root)
    else:
        base, indices, classes = _iwildcam(split, root)
    return Subset(base, indices, classes, eval_transform(image_size))
