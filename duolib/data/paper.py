"""The paper's datasets with the paper's splits (Appendix A.3), read from disk.

Nothing here downloads by default. The data root is ``root=`` or ``$DUOLIB_DATA`` (default
``~/data``) and holds:

* ``caltech256/256_ObjectCategories/NNN.name/NNN_MMMM.jpg``: torchvision's ``Caltech256``
  layout (257 classes including ``257.clutter``; torchvision names a file by its category's
  sorted position, so ``NNN`` is that position + 1). Splits ``train``/``val``/``test``: the
  released code's 70/15/15 ``random_split`` with seed 42 over torchvision's order.
  ``paper.load(..., download=True)`` lets torchvision fetch it (1.2 GB).
* ``imagenet/val/<wnid>/*.JPEG``: the official validation set in class folders (torchvision's
  ``ImageFolder`` order). Splits ``val``/``test``: the released code's 5/95 ``random_split`` with
  seed 42. ``imagenet/train/<wnid>/*.JPEG`` (split ``train``) is optional.
* ``imagenet-v2/<class index>/*.jpeg``: ImageNet-V2 matched-frequency, folders named 0..999,
  label = int(folder name). It is ImageNet's split ``ood``, scored with ImageNet's models.
* ``iwildcam_v2.0/`` (``metadata.csv``, ``categories.csv``, ``RELEASE_v2.0.txt``, ``train/``):
  iWildCam 2020-WILDS read through the ``wilds`` package. Splits ``train``, ``val`` (WILDS
  ``id_val``), ``test`` (``id_test``), ``ood`` (``test``), as the released code.

Split membership and order are the released code's (``timgzhou/asymmetric-duos``,
``load_data/datasets.py``): ``torch.utils.data.random_split(dataset, [int(0.7 n), int(0.15 n),
rest], generator=torch.Generator().manual_seed(42))``, each split in its permutation order. Only
ImageNet-V2 differs in order: the released code lists it with an unsorted ``rglob``; here it is
sorted by class index, then file name.

Each model sees its own preprocessing (``duolib.zoo.Preprocessing``): RGB, resize of the short
side with the model's interpolation, centre crop, uint8 tensor (3, H, W). Normalisation happens
on the device (``duolib.train``), with the mean/std the dataset's ``.preprocessing`` carries.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image
from timm.data import ImageNetInfo
from torch.utils.data import Dataset, random_split
from torchvision.datasets import Caltech256, ImageFolder
from torchvision.datasets.folder import find_classes
from torchvision.transforms import v2

from .. import zoo

SPLIT_SEED = 42
# Bump when what a split holds or how its images are prepared changes (2: the released code's
# random_split, per-model preprocessing on the PIL image, ImageNet-V2 as ImageNet's OOD split).
DATA_VERSION = 2
DATASETS = {
    "caltech256": ("train", "val", "test"),
    "imagenet": ("train", "val", "test", "ood"),
    "iwildcam": ("train", "val", "test", "ood"),
}
# The released code's split fractions; the last part takes the rest.
CALTECH_FRACTIONS = (0.7, 0.15)  # train, val; test = rest
IMAGENET_VAL_FRACTIONS = (0.05,)  # val; test = rest of the official validation set
WILDS_SPLITS = {"train": "train", "val": "id_val", "test": "id_test", "ood": "test"}
IMAGENET_V2_SUFFIXES = (".jpeg", ".jpg", ".png")
# Today's behaviour and the torchvision ResNet-50 V1 recipe: short side 256, crop 224.
DEFAULT_PREPROCESSING = zoo.Preprocessing(256, 224, zoo.IMAGENET_MEAN, zoo.IMAGENET_STD)
INTERPOLATIONS = {
    "bilinear": v2.InterpolationMode.BILINEAR,
    "bicubic": v2.InterpolationMode.BICUBIC,
}
# What each dataset's folder must hold, for the error that says it is missing.
LAYOUTS = {
    "caltech256": "caltech256/256_ObjectCategories/NNN.name/NNN_MMMM.jpg (257 class folders)",
    "imagenet": "imagenet/val/<wnid>/*.JPEG (the official validation images, one folder per "
    "class) and, for split 'train', imagenet/train/<wnid>/*.JPEG",
    "imagenet-v2": "imagenet-v2/<class index 0..999>/*.jpeg (ImageNet-V2 matched-frequency)",
    "iwildcam": "iwildcam_v2.0/{metadata.csv, categories.csv, RELEASE_v2.0.txt, train/*.jpg} "
    "(as wilds.get_dataset('iwildcam', root_dir=<root>, download=True) writes it)",
}


def data_root(root=None) -> Path:
    """``root``, else ``$DUOLIB_DATA``, else ``~/data``."""
    return Path(root or os.environ.get("DUOLIB_DATA", Path.home() / "data")).expanduser()


def splits(name: str) -> tuple[str, ...]:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def eval_transform(preprocessing: zoo.Preprocessing | None = None):
    """A model's evaluation transform of an RGB PIL image, up to normalisation: resize the short
    side (antialiased, on the PIL image as torchvision's ``weights.transforms()`` and timm's
    eval transform do), centre-crop, uint8 tensor (3, crop, crop)."""
    p = preprocessing or DEFAULT_PREPROCESSING
    if p.interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation {p.interpolation!r} is not one of {sorted(INTERPOLATIONS)}"
        )
    if p.crop_mode not in ("center", "squash"):
        raise ValueError(f"crop_mode {p.crop_mode!r} is not 'center' or 'squash'")
    # "squash" (timm's EfficientNetV2-L) resizes both sides, ignoring the aspect ratio.
    size = p.resize_size if p.crop_mode == "center" else (p.resize_size, p.resize_size)
    return v2.Compose(
        [
            v2.Resize(size, interpolation=INTERPOLATIONS[p.interpolation], antialias=True),
            v2.CenterCrop(p.crop_size),
            v2.PILToTensor(),
        ]
    )


def released_split(n: int, fractions: tuple[float, ...], seed: int = SPLIT_SEED) -> list:
    """The released code's split of ``range(n)``: parts of sizes ``int(f * n)`` for each of
    ``fractions`` and the rest last, drawn by ``torch.utils.data.random_split`` with
    ``torch.Generator().manual_seed(seed)``. Each part keeps its permutation order (the order
    the released code's unshuffled loaders read it in)."""
    sizes = [int(fraction * n) for fraction in fractions]
    sizes.append(n - sum(sizes))
    parts = random_split(range(n), sizes, generator=torch.Generator().manual_seed(seed))
    return [np.asarray(part.indices, dtype=np.int64) for part in parts]


class Subset(Dataset):
    """Selected indices of a base dataset of PIL images, with the base's classes, the image
    files, and the transform that turns a PIL image into the model's uint8 tensor."""

    def __init__(self, base, indices, classes, transform, preprocessing, paths):
        self.base, self.indices = base, np.asarray(indices, dtype=np.int64)
        self.classes = list(classes)
        self.transform = transform
        # Read by the training runtime for the model's mean/std.
        self.preprocessing = preprocessing
        self._paths = paths  # of the base, relative to the data root

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        image, label = self.base[int(self.indices[i])]
        if image.mode != "RGB":  # Caltech 256 has grayscale (and a few CMYK) JPEGs
            image = image.convert("RGB")
        return self.transform(image), int(label)

    @property
    def labels(self):
        targets = getattr(self.base, "targets", None)
        if targets is None:
            targets = self.base.y  # torchvision's Caltech256
        return torch.as_tensor(np.asarray(targets)[self.indices])

    @property
    def files(self) -> list[str]:
        """The split's image files in its order, relative to the data root."""
        return [self._paths[i] for i in self.indices]

    def with_transform(self, transform):
        """The same images through ``transform`` (of an RGB PIL image) instead."""
        return Subset(
            self.base, self.indices, self.classes, transform, self.preprocessing, self._paths
        )

    def with_augmentation(self, augment):
        """``augment`` (of an RGB PIL image, e.g. ``v2.RandAugment()``) before this dataset's
        transform: the released code's ``augment_then_model_transform`` order."""
        return self.with_transform(v2.Compose([augment, self.transform]))


class _Source(NamedTuple):
    base: Dataset  # yields (PIL image, label)
    indices: np.ndarray
    classes: list
    paths: list  # of every base item, relative to the data root


def _missing(name: str, path: Path, root: Path, layout: str = ""):
    raise FileNotFoundError(
        f"{name}: nothing at {path}. The data root is {root}; it comes from root= or "
        f"$DUOLIB_DATA (default ~/data). Expected layout under it: {layout or LAYOUTS[name]}."
    )


def _relative(paths, root: Path) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in paths]


def _caltech256(split, root, download) -> _Source:
    folder = root / "caltech256" / "256_ObjectCategories"
    if not folder.is_dir() and not download:
        _missing("caltech256", folder, root)
    base = Caltech256(str(root), download=download)
    classes = [c.split(".", 1)[-1] for c in base.categories]
    # torchvision opens <category>/<position + 1:03d>_<k:04d>.jpg for the k-th image of a class.
    paths = [
        f"caltech256/256_ObjectCategories/{base.categories[y]}/{y + 1:03d}_{k:04d}.jpg"
        for y, k in zip(base.y, base.index, strict=True)
    ]
    train, val, test = released_split(len(base), CALTECH_FRACTIONS)
    return _Source(base, {"train": train, "val": val, "test": test}[split], classes, paths)


def _imagenet(split, root) -> _Source:
    folder = root / "imagenet" / ("train" if split == "train" else "val")
    if not folder.is_dir():
        _missing("imagenet", folder, root)
    try:
        base = ImageFolder(str(folder))
    except FileNotFoundError:  # torchvision's "Couldn't find any class folder": a flat folder
        _missing(
            "imagenet",
            folder,
            root,
            "images in one folder per class (wnid), e.g. imagenet/val/n01440764/*.JPEG; the "
            "official validation tarball extracts flat and needs sorting into class folders",
        )
    paths = _relative((path for path, _ in base.samples), root)
    if split == "train":
        return _Source(base, np.arange(len(base)), base.classes, paths)
    val, test = released_split(len(base), IMAGENET_VAL_FRACTIONS)
    return _Source(base, {"val": val, "test": test}[split], base.classes, paths)


class NumberedFolders(Dataset):
    """ImageNet-V2's layout: class folders named by ImageNet class index (0..999), label =
    int(folder name); sorted by class index, then file name."""

    def __init__(self, folder: Path):
        self.samples = [
            (path, int(class_dir.name))
            for class_dir in sorted(
                (d for d in folder.iterdir() if d.is_dir() and d.name.isdigit()),
                key=lambda d: int(d.name),
            )
            for path in sorted(class_dir.iterdir())
            if path.suffix.lower() in IMAGENET_V2_SUFFIXES
        ]
        self.targets = [label for _, label in self.samples]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        return Image.open(path), label


def _imagenet_ood(root) -> _Source:
    folder = root / "imagenet-v2"
    if not folder.is_dir():
        _missing("imagenet-v2", folder, root)
    base = NumberedFolders(folder)
    if not base.samples:
        # The released archive extracts to one folder, imagenetv2-matched-frequency-format-val.
        nested = [d.name for d in folder.iterdir() if d.is_dir() and not d.name.isdigit()]
        hint = f" (found the folder {nested[0]!r}: move its 0..999 folders up)" if nested else ""
        _missing("imagenet-v2", folder, root, LAYOUTS["imagenet-v2"] + hint)
    # Labels index ImageNet's classes in ImageFolder's (sorted wnid) order: the classes of the
    # validation folders on disk where they are (a subset in generated data), else all 1000.
    val = root / "imagenet" / "val"
    classes = find_classes(str(val))[0] if val.is_dir() else ImageNetInfo().label_names()
    if max(base.targets) >= len(classes):
        raise ValueError(
            f"{folder} has a folder {max(base.targets)}, but ImageNet has {len(classes)} "
            f"classes here ({val if val.is_dir() else 'ImageNet-1k'})"
        )
    paths = _relative((path for path, _ in base.samples), root)
    return _Source(base, np.arange(len(base)), list(classes), paths)


_NOT_IMPORTED = object()


def _import_wilds():
    """``wilds``, imported without its check for a newer version on PyPI.

    ``wilds/version.py`` starts a thread that calls ``outdated.check_outdated("wilds", ...)``,
    an HTTP request to PyPI (``OUTDATED_IGNORE=1``, which wilds sets itself, only silences the
    warnings). It skips the check when ``outdated`` cannot be imported, so ``outdated`` is hidden
    while wilds is first imported.
    """
    hidden = sys.modules.get("outdated", _NOT_IMPORTED)
    sys.modules["outdated"] = None  # makes `from outdated import ...` raise ImportError
    try:
        import wilds
    except ImportError as error:
        raise ImportError(
            "iWildCam is read through the wilds package: pip install 'duolib[wilds]'"
        ) from error
    finally:
        if hidden is _NOT_IMPORTED:
            del sys.modules["outdated"]
        else:
            sys.modules["outdated"] = hidden
    return wilds


class WildsPairs(Dataset):
    """A WILDS subset as (PIL image, label) pairs (the released code's ``NoMetaDataset``)."""

    def __init__(self, subset):
        self.subset = subset
        self.targets = subset.y_array.numpy()

    def __len__(self):
        return len(self.subset)

    def __getitem__(self, i):
        image, label, _ = self.subset[i]
        return image, int(label)


def _iwildcam_classes(folder: Path, n_classes: int) -> list[str]:
    """Species names from categories.csv (columns y, category_id, name), else the label."""
    names = {}
    if (folder / "categories.csv").is_file():
        with open(folder / "categories.csv", newline="") as f:
            names = {int(row["y"]): row["name"] for row in csv.DictReader(f)}
    return [names.get(y, str(y)) for y in range(n_classes)]


def _iwildcam(split, root) -> _Source:
    folder = root / "iwildcam_v2.0"
    for needed in (folder, folder / "RELEASE_v2.0.txt", folder / "metadata.csv"):
        if not needed.exists():
            _missing("iwildcam", needed, root)
    wilds = _import_wilds()
    dataset = wilds.get_dataset("iwildcam", root_dir=str(root), download=False)
    subset = dataset.get_subset(WILDS_SPLITS[split])
    # wilds opens <data_dir>/train/<filename> for every split.
    prefix = Path(dataset.data_dir).relative_to(root).as_posix()
    paths = [f"{prefix}/train/{dataset._input_array[i]}" for i in subset.indices]
    classes = _iwildcam_classes(folder, dataset.n_classes)
    return _Source(WildsPairs(subset), np.arange(len(subset)), classes, paths)


def _source(name: str, split: str, root, download: bool = False) -> _Source:
    if split not in splits(name):
        raise ValueError(f"dataset {name!r} has splits {splits(name)}, not {split!r}")
    root = data_root(root)
    if name == "caltech256":
        return _caltech256(split, root, download)
    if name == "imagenet":
        return _imagenet_ood(root) if split == "ood" else _imagenet(split, root)
    return _iwildcam(split, root)


def load(
    name: str,
    split: str,
    root=None,
    preprocessing: zoo.Preprocessing | None = None,
    download: bool = False,
) -> Subset:
    """The ``split`` of one of the paper's datasets as a ``Subset`` of uint8 (3, crop, crop)
    tensors prepared by ``preprocessing`` (default: short side 256, crop 224, bilinear)."""
    source = _source(name, split, root, download)
    preprocessing = preprocessing or DEFAULT_PREPROCESSING
    return Subset(
        source.base,
        source.indices,
        source.classes,
        eval_transform(preprocessing),
        preprocessing,
        source.paths,
    )


def files(name: str, split: str, root=None) -> list[str]:
    """The image files of ``split`` in the split's order, relative to the data root."""
    source = _source(name, split, root)
    return [source.paths[i] for i in source.indices]
