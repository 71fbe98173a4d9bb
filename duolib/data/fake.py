"""Tiny datasets in the paper datasets' real on-disk formats, to rehearse the paper profile.

``write(root, sizes, seed)`` writes, under ``root``, the layouts that ``duolib.data.paper``
reads (and that torchvision's ``Caltech256``/``ImageFolder`` and ``wilds.get_dataset`` read):

* ``imagenet/val/<wnid>/ILSVRC2012_val_NNNNNNNN.JPEG`` and ``imagenet/train/<wnid>/*.JPEG``
  for the first ``IMAGENET_CLASSES`` real ImageNet classes (timm's synset list), so their
  ``ImageFolder`` indices are their real ImageNet indices, and ``imagenet-v2/<index>/*.jpeg``
  for the same class indices;
* ``caltech256/256_ObjectCategories/NNN.name/NNN_MMMM.jpg`` for a few real category folders and
  ``257.clutter``; ``NNN`` in a file name is the category's sorted position + 1 (what
  torchvision opens), and every fourth image is grayscale, as some real ones are;
* ``iwildcam_v2.0/`` in the WILDS v2.0 layout: ``RELEASE_v2.0.txt`` (the marker that tells wilds
  the dataset is there), ``metadata.csv`` with the columns wilds reads (split, filename, y,
  location_remapped, sequence_remapped, datetime), ``categories.csv`` (y, category_id, name)
  and the images in ``train/``; rows in all five WILDS splits, OOD locations disjoint from ID.

Images are small smooth random JPEGs of varied non-square sizes (48-96 px), so resize and crop
matter. ``sizes`` maps a dataset to images per class (per split for ``iwildcam``); a size of 0
leaves that dataset out. The same ``seed`` writes the same bytes. ``root(sizes, seed)`` writes
them once into the duolib cache and returns that data root.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
from PIL import Image
from timm.data import ImageNetInfo

from .. import cache

GENERATOR_VERSION = 1
# Images per class ("iwildcam": per WILDS split). ImageNet's official val is cut 5/95: 8 classes
# x 20 = 160 images give val 8 and test 152; Caltech 5 x 12 = 60 give 42/9/9.
DEFAULT_SIZES = {
    "imagenet": 20,
    "imagenet-train": 4,
    "imagenet-v2": 3,
    "caltech256": 12,
    "iwildcam": 8,
}
IMAGENET_CLASSES = 8
CALTECH_CATEGORIES = ("001.ak47", "002.american-flag", "003.backpack", "004.baseball-bat")
CALTECH_CLUTTER = "257.clutter"
# (y, category_id, name) of categories.csv; y = 0 is "empty", as in the real file.
IWILDCAM_CATEGORIES = (
    (0, 0, "empty"),
    (1, 2, "tayassu pecari"),
    (2, 3, "dasyprocta punctata"),
    (3, 4, "cuniculus paca"),
)
IWILDCAM_SPLITS = ("train", "val", "test", "id_val", "id_test")
# ID splits share the training locations; the OOD splits (val, test) have their own cameras.
IWILDCAM_LOCATIONS = {
    "train": (0, 1, 2),
    "id_val": (0, 1, 2),
    "id_test": (0, 1, 2),
    "val": (3,),
    "test": (4, 5),
}
IWILDCAM_COLUMNS = (
    "split",
    "location_remapped",
    "location",
    "sequence_remapped",
    "sequence",
    "y",
    "datetime",
    "image_id",
    "filename",
)
CONTENTS = "CONTENTS.json"


def _sizes(sizes: dict | None) -> dict:
    unknown = set(sizes or {}) - set(DEFAULT_SIZES)
    if unknown:
        raise ValueError(f"unknown fake datasets {sorted(unknown)}; sizes of {list(DEFAULT_SIZES)}")
    return {**DEFAULT_SIZES, **(sizes or {})}


def _picture(rng: np.random.Generator, grayscale: bool = False) -> Image.Image:
    """A smooth random image (a 4x4 colour grid, upsampled) of a random non-square size."""
    width, height = (int(v) for v in rng.integers(48, 97, size=2))
    if width == height:
        height += 8 if height < 90 else -8
    grid = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    image = Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC)
    return image.convert("L") if grayscale else image


def _save(path: Path, image: Image.Image):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG", quality=90)


def _hex(rng: np.random.Generator, digits: int) -> str:
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, size=(digits + 1) // 2))[:digits]


def _imagenet(root: Path, sizes: dict, rng: np.random.Generator):
    wnids = ImageNetInfo().label_names()[:IMAGENET_CLASSES]
    per_class = sizes["imagenet"]
    # The official val files are numbered across classes, not class by class.
    numbers = rng.permutation(len(wnids) * per_class) + 1
    for c, wnid in enumerate(wnids):
        for number in sorted(numbers[c * per_class : (c + 1) * per_class]):
            _save(root / "imagenet/val" / wnid / f"ILSVRC2012_val_{number:08d}.JPEG", _picture(rng))
        for number in sorted(rng.choice(20_000, sizes["imagenet-train"], replace=False)):
            _save(root / "imagenet/train" / wnid / f"{wnid}_{number}.JPEG", _picture(rng))
        for _ in range(sizes["imagenet-v2"]):
            _save(root / "imagenet-v2" / str(c) / f"{_hex(rng, 40)}.jpeg", _picture(rng))


def _caltech256(root: Path, sizes: dict, rng: np.random.Generator):
    folder = root / "caltech256" / "256_ObjectCategories"
    for position, category in enumerate(sorted((*CALTECH_CATEGORIES, CALTECH_CLUTTER))):
        for k in range(1, sizes["caltech256"] + 1):
            image = _picture(rng, grayscale=k % 4 == 0)
            _save(folder / category / f"{position + 1:03d}_{k:04d}.jpg", image)


def _iwildcam(root: Path, sizes: dict, rng: np.random.Generator):
    folder = root / "iwildcam_v2.0"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "RELEASE_v2.0.txt").write_text("v2.0 (generated by duolib.data.fake)\n")
    with open(folder / "categories.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("y", "category_id", "name"))
        writer.writerows(IWILDCAM_CATEGORIES)
    rows = []
    for split in IWILDCAM_SPLITS:
        # Every class in every split (wilds needs each label 0..K-1 present somewhere).
        labels = rng.permutation(np.arange(sizes["iwildcam"]) % len(IWILDCAM_CATEGORIES))
        for i, y in enumerate(labels):
            image_id = f"{_hex(rng, 8)}-21bc-11ea-a13a-137349068a90"
            if i % 2 == 0:  # two images per camera-trap sequence, from one camera
                location = int(rng.choice(IWILDCAM_LOCATIONS[split]))
            moment = (
                f"{rng.integers(2013, 2017)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d} "
                f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}:{rng.integers(0, 60):02d}.000"
            )
            sequence = (split, i // 2)
            rows.append((split, location, 100 + 7 * location, sequence, int(y), moment, image_id))
            _save(folder / "train" / f"{image_id}.jpg", _picture(rng))
    # wilds needs sequence ids 0..S-1 with none missing: number them in order of appearance.
    sequences = {s: i for i, s in enumerate(dict.fromkeys(row[3] for row in rows))}
    with open(folder / "metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(IWILDCAM_COLUMNS)
        for split, location_remapped, location, sequence, y, moment, image_id in rows:
            sequence_id = sequences[sequence]
            writer.writerow(
                (split, location_remapped, location, sequence_id, f"seq{sequence_id:05d}", y)
                + (moment, image_id, f"{image_id}.jpg")
            )


WRITERS = {"imagenet": _imagenet, "caltech256": _caltech256, "iwildcam": _iwildcam}


def write(root, sizes: dict | None = None, seed: int = 0) -> Path:
    """Write the fake datasets under ``root`` (see the module docstring); returns ``root``."""
    root, sizes = Path(root), _sizes(sizes)
    root.mkdir(parents=True, exist_ok=True)
    for index, (name, writer) in enumerate(WRITERS.items()):
        if sizes[name] > 0:
            # One stream per dataset: changing one dataset's size leaves the others' bytes.
            writer(root, sizes, np.random.default_rng([seed, index]))
    return root


def _digests(root: Path) -> dict:
    return {
        path.relative_to(root).as_posix(): cache.file_sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.parent != root
    }


def root(sizes: dict | None = None, seed: int = 0) -> Path:
    """A data root holding ``write(..., sizes, seed)``'s datasets, written once into the duolib
    cache and verified (every file's SHA-256) on each call; rebuilt if anything changed."""
    sizes = _sizes(sizes)
    entry = cache.root() / "fake-data" / cache.key(sizes, seed, GENERATOR_VERSION)

    def build(tmp: Path):
        write(tmp, sizes, seed)
        # The cache's manifest covers the entry's top-level files: this one covers the tree.
        (tmp / CONTENTS).write_text(json.dumps(_digests(tmp), indent=1))

    what = "generated paper-format datasets"
    cache.build_once(entry, build, what=what)
    if json.loads((entry / CONTENTS).read_text()) != _digests(entry):
        warnings.warn(f"{what} {entry.name} changed on disk; rebuilding them", stacklevel=2)
        shutil.rmtree(entry)
        cache.build_once(entry, build, what=what)
    return entry


def tree_digest(root) -> str:
    """One SHA-256 over every file under ``root`` (paths and bytes), to compare two writes."""
    digest = hashlib.sha256()
    for name, file_digest in _digests(Path(root)).items():
        digest.update(f"{name}\0{file_digest}\n".encode())
    return digest.hexdigest()
