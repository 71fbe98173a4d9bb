"""The generated benchmark and the paper's loaders (on fake folders the tests create)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

import duolib as dl
from duolib.data import glyphs, paper


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
    with pytest.raises(ValueError, match="splits"):
        paper.load("imagenet-v2", "train")


# --- the paper's datasets, on fake folders -----------------------------------------------------


def _image(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((40, 48, 3), value, dtype=np.uint8)).save(path)


def test_caltech256_split_on_fake_folder(tmp_path):
    categories = ["001.ak47", "002.american-flag", "257.clutter"]
    for c, name in enumerate(categories):
        for i in range(1, 21):
            _image(
                tmp_path
                / "caltech256"
                / "256_ObjectCategories"
                / name
                / f"{c + 1:03d}_{i:04d}.jpg",
                c * 50,
            )
    parts = {
        s: paper.load("caltech256", s, root=tmp_path, image_size=32)
        for s in ("train", "val", "test")
    }
    assert [len(parts[s]) for s in ("train", "val", "test")] == [42, 9, 9]
    index_sets = [set(parts[s].indices) for s in parts]
    assert set.union(*index_sets) == set(range(60)) and sum(map(len, index_sets)) == 60
    assert parts["train"].classes == ["ak47", "american-flag", "clutter"]
    image, label = parts["test"][0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.uint8
    assert int(image[0, 0, 0]) == pytest.approx(label * 50, abs=3)  # label matches folder
    # The same seed gives the same split on every machine.
    assert (paper.load("caltech256", "val", root=tmp_path).indices == parts["val"].indices).all()


def test_imagenet_val_is_five_percent_of_official_val(tmp_path):
    for wnid in ("n01440764", "n01443537"):
        for i in range(50):
            _image(tmp_path / "imagenet" / "val" / wnid / f"ILSVRC2012_val_{i:08d}.JPEG", 10)
    val = paper.load("imagenet", "val", root=tmp_path)
    test = paper.load("imagenet", "test", root=tmp_path)
    assert (len(val), len(test)) == (5, 95)
    assert not set(val.indices) & set(test.indices)
    assert val.classes == ["n01440764", "n01443537"]


def test_imagenet_v2_numbered_folders_map_to_class_indices(tmp_path):
    for folder in ("0", "2", "10", "999"):
        _image(tmp_path / "imagenet-v2" / folder / "a.jpeg", int(folder) % 255)
    ood = paper.load("imagenet-v2", "ood", root=tmp_path)
    assert sorted(int(ood[i][1]) for i in range(len(ood))) == [0, 2, 10, 999]
    assert len(ood.classes) == 1000


def test_missing_dataset_says_where_to_put_it(tmp_path):
    for name, split in (("caltech256", "train"), ("imagenet", "val"), ("imagenet-v2", "ood")):
        with pytest.raises(FileNotFoundError, match=str(tmp_path)):
            paper.load(name, split, root=tmp_path)


def test_iwildcam_needs_wilds_or_its_folder(tmp_path):
    try:
        import wilds  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="wilds"):
            paper.load("iwildcam", "ood", root=tmp_path)
    else:
        with pytest.raises(FileNotFoundError, match="iWildCam"):
            paper.load("iwildcam", "ood", root=tmp_path)
