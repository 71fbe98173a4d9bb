"""The cache: atomic writes, verification, and one build-once helper for every artefact."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from duolib import bank, cache
from duolib.data import paper


def test_build_once_builds_then_reuses(tmp_path):
    calls = []

    def write(tmp):
        calls.append(1)
        (tmp / "a.txt").write_text("hello")

    entry = cache.build_once(tmp_path / "entry", write)
    assert (entry / "a.txt").read_text() == "hello" and cache.verified(entry)
    cache.build_once(tmp_path / "entry", write)
    assert len(calls) == 1


def test_a_changed_file_is_detected_and_rebuilt(tmp_path):
    def write(tmp):
        (tmp / "a.txt").write_text("hello")

    entry = cache.build_once(tmp_path / "entry", write)
    (entry / "a.txt").write_text("hellO")
    assert not cache.verified(entry)
    with pytest.warns(UserWarning, match="corrupted"):
        cache.build_once(entry, write)
    assert (entry / "a.txt").read_text() == "hello"


def test_a_failing_write_leaves_nothing_behind(tmp_path):
    def write(tmp):
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        cache.build_once(tmp_path / "entry", write)
    assert list(tmp_path.iterdir()) == []


def test_ensure_refuses_a_build_that_does_not_write_its_entry(tmp_path):
    with pytest.raises(RuntimeError, match="could not be built"):
        cache.ensure(tmp_path / "never", lambda: None, "thing")


def test_cached_arrays_and_frames_round_trip(tmp_path):
    arrays = {"x": np.arange(5.0), "labels-test": np.array([1, 2])}
    got, meta = cache.cached_arrays(tmp_path / "a", lambda: (arrays, {"n": 5}), "arrays")
    assert meta == {"n": 5}
    assert set(got) == set(arrays) and np.array_equal(got["x"], arrays["x"])
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert cache.cached_frame(tmp_path / "f", lambda: frame, "frame").equals(frame)
    assert cache.cached_frame(tmp_path / "f", lambda: pd.DataFrame(), "frame").equals(frame)


def test_keys_are_stable_and_sensitive():
    assert cache.key("a", {"x": 1, "y": 2}) == cache.key("a", {"y": 2, "x": 1})
    assert cache.key("a", 1) != cache.key("a", 2)


_BUILDER = """
import sys, time
from pathlib import Path
from duolib import cache

entry, log, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])

# Start building only once both processes are up: importing duolib takes seconds, and its
# time varies more between processes than the build below lasts.
with open(ready, "a") as f:
    f.write("up\\n")
while ready.read_text().count("up") < 2:
    time.sleep(0.05)

def write(tmp):
    with open(log, "a") as f:  # one line per build that actually ran
        f.write("built\\n")
    time.sleep(1.5)  # long enough for the other process to arrive while this one builds
    (tmp / "value.txt").write_text("42")

cache.build_once(entry, write, what="test entry")
print((entry / "value.txt").read_text())
"""


def test_two_processes_building_one_entry_build_it_once(tmp_path):
    entry, log = tmp_path / "cache" / "entry", tmp_path / "builds.log"
    ready = tmp_path / "ready"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _BUILDER, str(entry), str(log), str(ready)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["42", "42"]
    assert log.read_text() == "built\n"  # the second process waited and read the first's entry
    assert any("waiting for another process" in err for _, err in outputs)


def test_a_new_setting_at_its_default_keeps_existing_keys():
    @dataclasses.dataclass(frozen=True)
    class Recipe:
        epochs: int = 4

    old = cache.key(Recipe())

    @dataclasses.dataclass(frozen=True)
    class Recipe:  # the same recipe after a release adds a setting  # noqa: F811
        epochs: int = 4
        hflip: bool = dataclasses.field(default=False, metadata=cache.NEW_SETTING)

    assert cache.key(Recipe()) == old
    assert cache.key(Recipe(hflip=True)) != old
    assert cache.key(Recipe(epochs=5)) != old


def test_paper_bank_keys_follow_the_model_preprocessing_and_split_version(monkeypatch):
    before = bank.entry_dir("caltech256", "resnet50", "val", "paper-rehearsal")
    glyphs = bank.entry_dir("glyphs", "lenet", "val", "smoke")
    monkeypatch.setattr(paper, "DATA_VERSION", paper.DATA_VERSION + 1)
    assert bank.entry_dir("caltech256", "resnet50", "val", "paper-rehearsal") != before
    assert bank.entry_dir("glyphs", "lenet", "val", "smoke") == glyphs
    monkeypatch.undo()
    other = bank.entry_dir("caltech256", "efficientnet_b2", "val", "paper-rehearsal")
    assert other.name.split("-")[-1] != before.name.split("-")[-1]
