"""The logit bank: cached, keyed, verified; corrupted entries are rebuilt, never used."""

from __future__ import annotations

import json

import numpy as np
import pytest

import duolib as dl
from duolib import bank


def test_bank_builds_caches_and_reuses(smoke_cache):
    logits, labels = bank.logits("glyphs", "lenet", "test", "smoke")
    assert logits.shape == (256, 48) and logits.dtype == np.float32
    assert labels.shape == (256,) and labels.max() < 48
    meta = bank.meta("glyphs", "lenet", "test", "smoke")
    assert meta["accuracy"] == pytest.approx(float((logits.argmax(1) == labels).mean()))
    assert meta["gflops"] == pytest.approx(dl.zoo.get("lenet").gflops)
    val_logits, val_labels = bank.logits("glyphs", "lenet", "val", "smoke")
    assert meta["temperature"] == pytest.approx(dl.fit_temperature(val_logits, val_labels))
    # Every evaluation split was written by the first call.
    for split in ("val", "test", "ood"):
        assert dl.cache.verified(bank.entry_dir("glyphs", "lenet", split, "smoke"))
    again, _ = bank.logits("glyphs", "lenet", "test", "smoke")
    assert np.array_equal(logits, again)


def test_corrupted_entry_is_rebuilt(smoke_cache):
    logits, _ = bank.logits("glyphs", "lenet", "ood", "smoke")
    entry = bank.entry_dir("glyphs", "lenet", "ood", "smoke")
    raw = bytearray((entry / "logits.npy").read_bytes())
    raw[-8:] = b"\xff" * 8
    (entry / "logits.npy").write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="corrupted"):
        rebuilt, _ = bank.logits("glyphs", "lenet", "ood", "smoke")
    assert np.array_equal(rebuilt, logits)  # the fine-tuned model is cached: same logits
    (entry / "meta.json").unlink()
    with pytest.warns(UserWarning, match="corrupted"):
        assert bank.meta("glyphs", "lenet", "ood", "smoke")["split"] == "ood"
    manifest = json.loads((entry / "MANIFEST.json").read_text())
    assert set(manifest) == {"logits.npy", "labels.npy", "meta.json"}


def test_entries_are_keyed_by_what_determines_them(smoke_cache):
    a = bank.entry_dir("glyphs", "lenet", "test", "smoke")
    assert a != bank.entry_dir("glyphs", "lenet", "test", "demo")
    assert a != bank.entry_dir("glyphs", "resnet_mini", "test", "smoke")
    assert a != bank.entry_dir("glyphs", "lenet", "ood", "smoke")


def test_bank_rejects_bad_requests(smoke_cache):
    with pytest.raises(ValueError, match="splits"):
        bank.logits("glyphs", "lenet", "train", "smoke")
    with pytest.raises(ValueError, match="unknown model"):
        bank.logits("glyphs", "resnet9000", "test", "smoke")


def test_changed_architecture_gets_a_new_entry(smoke_cache, monkeypatch):
    """A model whose definition changed (other FLOPs/params) must not reuse stale logits."""
    import dataclasses

    before = bank.entry_dir("glyphs", "lenet", "test", "smoke")
    original = dl.zoo.get
    monkeypatch.setattr(
        dl.zoo,
        "get",
        lambda name: dataclasses.replace(original(name), params=original(name).params + 1),
    )
    assert bank.entry_dir("glyphs", "lenet", "test", "smoke") != before
