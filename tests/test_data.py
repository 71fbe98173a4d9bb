"""The generated benchmark, and the paper's loaders on fake folders in the real formats
(``duolib.data.fake``), checked against the released code's procedure run here."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import sys
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image
from timm.data import ImageNetInfo
from torch.utils.data import DataLoader, random_split
from torchvision.datasets import Caltech256, ImageFolder
from torchvision.transforms import InterpolationMode, v2
from torchvision.transforms._presets import ImageClassification

import duolib as dl
from duolib.data import ArrayDataset, fake, glyphs, paper


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_generator_is_deterministic():
    chars, fonts, style, _ = glyphs.SPLITS[("glyphs", "train")]
    a = glyphs.render(64, chars, fonts, style, seed=7)
    b = glyphs.render(64, chars, fonts, style, seed=7)
    c = glyphs.render(64, chars, fonts, style, seed=8)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a[0], c[0])
    images, labels, _ = a
    assert images.dtype == torch.uint8 and images.shape == (64, 3, 32, 32)
    assert labels.min() >= 0 and labels.max() < len(chars)


def test_every_class_is_drawable_in_some_font_and_fonts_are_real_glyphs():
    for chars, fonts in (
        (glyphs.MAIN_CLASSES, glyphs.ID_FONTS),
        (glyphs.MAIN_CLASSES, glyphs.OOD_FONTS),
        (glyphs.PRETRAIN_CLASSES, glyphs.ID_FONTS),
    ):
        _, drawn = glyphs.glyph_masks(chars, fonts)
        assert drawn.any(axis=0).all()
        assert drawn.mean() > 0.9  # the fonts chosen draw (almost) every character
    assert len(glyphs.MAIN_CLASSES) == 48 and not set(glyphs.MAIN_CLASSES) & set(
        glyphs.PRETRAIN_CLASSES
    )


def _hashes(dataset):
    return {hashlib.sha1(img.numpy().tobytes()).hexdigest() for img in dataset.images}


def test_splits_are_disjoint_and_ood_fonts_unseen(tmp_cache):
    splits = {s: dl.data.load("glyphs", s, "smoke") for s in ("train", "val", "test", "ood")}
    sizes = dl.profiles.get("smoke").glyph_split_sizes
    for name, ds in splits.items():
        assert len(ds) == sizes[name] and len(ds.classes) == 48
    hashes = {name: _hashes(ds) for name, ds in splits.items()}
    names = list(hashes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not hashes[a] & hashes[b], f"{a} and {b} share images"
    assert not set(splits["ood"].fonts) & set(splits["train"].fonts)
    assert set(splits["train"].fonts) <= set(glyphs.ID_FONTS)
    pretrain = dl.data.load("glyphs-pretrain", "train", "smoke")
    assert len(pretrain.classes) == len(glyphs.PRETRAIN_CLASSES)


def test_cache_is_verified_and_rebuilt_when_corrupted(tmp_cache):
    first = dl.data.load("glyphs", "val", "smoke")
    (entry,) = (tmp_cache / "glyphs").iterdir()
    with open(entry / "split.npz", "r+b") as f:
        f.seek(200)
        f.write(b"corrupted!")
    with pytest.warns(UserWarning, match="glyphs/val split .* corrupted"):
        again = dl.data.load("glyphs", "val", "smoke")
    assert torch.equal(first.images, again.images)
    assert dl.cache.verified(entry)


def test_bad_dataset_requests():
    with pytest.raises(ValueError, match="unknown dataset"):
        dl.data.load("cifar10", "train", "smoke")
    with pytest.raises(ValueError, match="splits"):
        dl.data.load("glyphs", "holdout", "smoke")
    # ImageNet-V2 is ImageNet's "ood" split, not a dataset of its own.
    assert dl.data.splits("imagenet") == ("train", "val", "test", "ood")
    with pytest.raises(ValueError, match="unknown dataset"):
        paper.load("imagenet-v2", "ood")
    with pytest.raises(ValueError, match="no image files"):
        dl.data.files("glyphs", "val", "smoke")


# --- the paper's datasets, on fake folders in their real formats --------------------------------


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return fake.write(tmp_path_factory.mktemp("data"), seed=0)


def _released_split(dataset, fractions):
    """load_data/datasets.py of the released code: sizes int(f * n), the rest last, seed 42."""
    sizes = [int(f * len(dataset)) for f in fractions]
    sizes.append(len(dataset) - sum(sizes))
    return random_split(dataset, sizes, generator=torch.Generator().manual_seed(42))


def test_caltech256_splits_are_the_released_random_split(data_root, monkeypatch):
    full = Caltech256(str(data_root))
    parts = _released_split(full, [0.7, 0.15])
    opened = []  # the files torchvision opens, in the order the released loaders read them
    original_open = Image.open
    monkeypatch.setattr(Image, "open", lambda path: opened.append(path) or original_open(path))
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        opened.clear()
        labels = [label for _, label in part]
        expected = [Path(path).relative_to(data_root).as_posix() for path in opened]
        assert dl.data.files("caltech256", name, root=data_root) == expected
        loaded = dl.data.load("caltech256", name, root=data_root)
        assert loaded.labels.tolist() == labels
    assert [len(part) for part in parts] == [42, 9, 9]
    assert loaded.classes == ["ak47", "american-flag", "backpack", "baseball-bat", "clutter"]


def test_imagenet_val_and_test_are_the_released_cut_of_the_official_val(data_root):
    full = ImageFolder(str(data_root / "imagenet" / "val"))
    parts = _released_split(full, [0.05])
    for name, part in zip(("val", "test"), parts, strict=True):
        expected = [full.samples[i][0] for i in part.indices]
        files = dl.data.files("imagenet", name, root=data_root)
        assert [str(data_root / f) for f in files] == expected
        loaded = dl.data.load("imagenet", name, root=data_root)
        assert loaded.labels.tolist() == [full.targets[i] for i in part.indices]
        assert loaded.classes == full.classes
    assert [len(part) for part in parts] == [8, 152]
    train = dl.data.load("imagenet", "train", root=data_root)
    assert len(train) == 8 * 4 and train.classes == full.classes


def test_imagenet_ood_reads_imagenet_v2_with_folder_index_labels(data_root):
    ood = dl.data.load("imagenet", "ood", root=data_root)
    files = dl.data.files("imagenet", "ood", root=data_root)
    # Every image the released IntegerLabelDataset finds (rglob("*.jp*g")), here sorted.
    assert sorted(files) == sorted(
        p.relative_to(data_root).as_posix() for p in (data_root / "imagenet-v2").rglob("*.jp*g")
    )
    labels = [label for _, label in ood]
    assert labels == [int(Path(f).parent.name) for f in files] == ood.labels.tolist()
    # Folder c holds ImageNet class c, which is ImageFolder's class c of imagenet/val.
    val_classes = ImageFolder(str(data_root / "imagenet" / "val")).classes
    assert ood.classes == val_classes == ImageNetInfo().label_names()[: len(val_classes)]
    assert sorted(set(labels)) == list(range(len(val_classes)))


def test_imagenet_v2_folder_outside_the_classes_is_an_error(tmp_path):
    for wnid in ("n01440764", "n01443537"):
        (tmp_path / "imagenet" / "val" / wnid).mkdir(parents=True)
    (tmp_path / "imagenet-v2" / "999").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "imagenet-v2" / "999" / "a.jpeg")
    with pytest.raises(ValueError, match="999"):
        dl.data.load("imagenet", "ood", root=tmp_path)


def test_model_preprocessing_is_torchvisions_eval_transform(data_root):
    bicubic = dl.zoo.Preprocessing(300, 288, (0.5, 0.4, 0.3), (0.2, 0.3, 0.4), "bicubic")
    train = dl.data.load("caltech256", "train", root=data_root, preprocessing=bicubic)
    assert train.preprocessing == bicubic
    # What a torchvision model's weights.transforms() makes of the same image (the released
    # code's model transform), against ours normalised as the runtime does.
    reference = ImageClassification(
        crop_size=288,
        resize_size=300,
        mean=bicubic.mean,
        std=bicubic.std,
        interpolation=InterpolationMode.BICUBIC,
    )
    modes = []
    for i, file in enumerate(train.files[:12]):
        original = Image.open(data_root / file)
        modes.append(original.mode)
        image, _ = train[i]
        assert image.dtype == torch.uint8 and image.shape == (3, 288, 288)
        if original.mode == "L":  # grayscale JPEGs come out as three equal channels
            assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
        mean, std = (torch.tensor(v).view(3, 1, 1) for v in (bicubic.mean, bicubic.std))
        normalised = (image.float() / 255 - mean) / std  # what the training runtime does
        expected = reference(original.convert("RGB"))
        assert torch.allclose(normalised, expected, atol=1e-5)
    assert "L" in modes and "RGB" in modes
    default = dl.data.load("caltech256", "val", root=data_root)
    assert default.preprocessing == paper.DEFAULT_PREPROCESSING
    assert default[0][0].shape == (3, 224, 224)


def test_augmentation_runs_on_the_image_before_the_model_transform(data_root):
    small = dl.zoo.Preprocessing(40, 32, dl.zoo.IMAGENET_MEAN, dl.zoo.IMAGENET_STD)
    train = dl.data.load("caltech256", "train", root=data_root, preprocessing=small)
    seen = []

    def spy(image):
        seen.append((isinstance(image, Image.Image), image.mode, image.size))
        return image

    # The augmentation sees the image as loaded, converted to RGB (the released order).
    gray = next(i for i, f in enumerate(train.files) if Image.open(data_root / f).mode == "L")
    train.with_augmentation(spy)[gray]
    original = Image.open(data_root / train.files[gray])
    assert seen == [(True, "RGB", original.size)]
    # The bug: RandAugment used to replace the transform, and PIL images reached collate.
    augmented = train.with_augmentation(v2.Compose([v2.RandAugment(), v2.RandomHorizontalFlip()]))
    assert augmented.preprocessing == small and augmented.classes == train.classes
    images, labels = next(iter(DataLoader(augmented, batch_size=8)))
    assert images.dtype == torch.uint8 and images.shape == (8, 3, 32, 32)
    assert labels.tolist() == train.labels[:8].tolist()
    # with_transform still replaces the whole transform.
    assert train.with_transform(v2.PILToTensor())[gray][0].shape == (3, *original.size[::-1])


def test_array_dataset_augmentation_is_the_transform_it_had():
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    dataset = ArrayDataset(images, torch.arange(6) % 3, list("abc"))
    assert dataset.preprocessing is None
    torch.manual_seed(0)
    old = [dataset.with_transform(v2.RandAugment())[i][0] for i in range(6)]
    torch.manual_seed(0)
    new = [dataset.with_augmentation(v2.RandAugment())[i][0] for i in range(6)]
    assert all(torch.equal(a, b) for a, b in zip(old, new, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(old, images, strict=True))


def _metadata(data_root):
    with open(data_root / "iwildcam_v2.0" / "metadata.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_iwildcam_loads_through_wilds_with_the_released_splits(data_root):
    rows = _metadata(data_root)
    for split, wilds_split in (
        ("train", "train"),
        ("val", "id_val"),
        ("test", "id_test"),
        ("ood", "test"),
    ):
        expected = [r for r in rows if r["split"] == wilds_split]
        dataset = dl.data.load("iwildcam", split, root=data_root)
        assert dl.data.files("iwildcam", split, root=data_root) == [
            f"iwildcam_v2.0/train/{r['filename']}" for r in expected
        ]
        assert dataset.labels.tolist() == [int(r["y"]) for r in expected]
        image, label = dataset[0]
        assert image.shape == (3, 224, 224) and label == int(expected[0]["y"])
    assert dataset.classes == [name for _, _, name in fake.IWILDCAM_CATEGORIES]
    # The OOD splits' cameras are not the training cameras, as in WILDS.
    locations = {
        s: {r["location_remapped"] for r in rows if r["split"] == s}
        for s in ("train", "test", "id_test")
    }
    assert not locations["test"] & locations["train"]
    assert locations["id_test"] <= locations["train"]


def test_wilds_is_imported_without_asking_pypi_for_its_version(monkeypatch):
    """wilds/version.py starts a thread running outdated.check_outdated, an HTTP request to
    PyPI, and importing outdated starts another: neither may happen."""
    # A fresh import of wilds' top level (where the check lives) and of outdated.
    for module in ("wilds", "wilds.version", "wilds.get_dataset", "outdated"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    wilds = paper._import_wilds()
    assert started == [] and "outdated" not in sys.modules
    assert wilds.get_dataset is sys.modules["wilds"].get_dataset


@pytest.mark.parametrize(
    "name, split, path",
    [
        ("caltech256", "val", "caltech256/256_ObjectCategories"),
        ("imagenet", "test", "imagenet/val"),
        ("imagenet", "ood", "imagenet-v2"),
        ("iwildcam", "val", "iwildcam_v2.0"),
    ],
)
def test_missing_data_names_dataset_path_and_where_the_root_comes_from(
    tmp_path, monkeypatch, name, split, path
):
    monkeypatch.setenv("DUOLIB_DATA", str(tmp_path))
    for call in (dl.data.load, dl.data.files):
        with pytest.raises(FileNotFoundError) as error:
            call(name, split, "smoke")
        message = str(error.value)
        assert name in message and str(tmp_path / path) in message
        assert "DUOLIB_DATA" in message and "root=" in message and "layout" in message
    assert not (tmp_path / "caltech256").exists()  # nothing is created in the user's root


def test_imagenet_train_is_optional(tmp_path):
    root = fake.write(tmp_path, {"imagenet-train": 0, "caltech256": 0, "iwildcam": 0}, seed=3)
    assert len(dl.data.load("imagenet", "val", root=root)) == 8
    with pytest.raises(FileNotFoundError, match="imagenet/train"):
        dl.data.load("imagenet", "train", root=root)


def test_fake_write_is_deterministic_and_has_varied_images(tmp_path):
    first = fake.tree_digest(fake.write(tmp_path / "a", seed=5))
    assert fake.tree_digest(fake.write(tmp_path / "b", seed=5)) == first
    assert fake.tree_digest(fake.write(tmp_path / "c", seed=6)) != first
    sizes = {Image.open(p).size for p in (tmp_path / "a").rglob("*.jp*g")}
    sizes |= {Image.open(p).size for p in (tmp_path / "a").rglob("*.JPEG")}
    assert len(sizes) > 10 and all(w != h and 48 <= min(w, h) for w, h in sizes)


def test_fake_root_is_cached_verified_and_used_by_a_profile(tmp_cache):
    sizes = {"imagenet": 0, "iwildcam": 0, "caltech256": 8}
    root = fake.root(sizes, seed=1)
    assert fake.root(sizes, seed=1) == root and dl.cache.verified(root)
    file = next((root / "caltech256").rglob("*.jpg"))
    original = file.read_bytes()
    file.write_bytes(b"corrupted")
    with pytest.warns(UserWarning, match="changed on disk"):
        assert fake.root(sizes, seed=1) == root
    assert file.read_bytes() == original
    profile = dataclasses.replace(dl.profiles.get("smoke"), generated_data=sizes, seed=1)
    assert dl.data.data_root(profile) == root
    assert dl.data.files("caltech256", "test", profile) == dl.data.files(
        "caltech256", "test", root=root
    )


def test_common_wrong_imagenet_layouts_are_explained(tmp_path):
    # The official validation tarball extracts flat; ImageNet-V2's archive into one folder.
    flat = tmp_path / "imagenet" / "val"
    flat.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(flat / "ILSVRC2012_val_00000001.JPEG")
    with pytest.raises(FileNotFoundError, match="one folder per class"):
        paper.load("imagenet", "val", root=tmp_path)
    nested = tmp_path / "imagenet-v2" / "imagenetv2-matched-frequency-format-val" / "0"
    nested.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(nested / "a.jpeg")
    with pytest.raises(FileNotFoundError, match="imagenetv2-matched-frequency-format-val"):
        paper.load("imagenet", "ood", root=tmp_path)
