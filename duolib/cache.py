"""Where duolib keeps generated data, checkpoints and logits, and how it writes them safely.

Everything is keyed by a hash of what determines it, written atomically (to a temporary name,
then renamed), and verified by a SHA-256 content hash when read back, so an interrupted write
or a corrupted file is detected and rebuilt rather than silently used. Builds hold a lock file
(``filelock``), so concurrent processes (a Slurm array over the same cache) build each entry
once: the others wait and read it.

The root is ``$DUOLIB_CACHE`` if set, else ``~/.cache/duolib``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from filelock import FileLock, SoftFileLock, Timeout
from tqdm.auto import tqdm


def root() -> Path:
    path = Path(os.environ.get("DUOLIB_CACHE", Path.home() / ".cache" / "duolib")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


# Put in a dataclass field's metadata: the field is left out of cache keys while it holds its
# default, so adding a setting keeps every existing key (and cache entry) valid.
NEW_SETTING = {"key_omits_default": True}


def key(*parts) -> str:
    """A short stable hash of JSON-serialisable ``parts`` (dicts are sorted by key; dataclasses
    by their repr, without ``NEW_SETTING`` fields at their defaults)."""
    text = json.dumps(parts, sort_keys=True, default=_describe)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(obj) -> str:
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return str(obj)
    shown = [
        f"{f.name}={getattr(obj, f.name)!r}"
        for f in dataclasses.fields(obj)
        if f.repr
        and not (f.metadata.get("key_omits_default") and getattr(obj, f.name) == f.default)
    ]
    return f"{type(obj).__qualname__}({', '.join(shown)})"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_directory(final: Path, write) -> Path:
    """Create directory ``final`` by calling ``write(tmp_dir)`` and renaming it into place.

    A ``MANIFEST.json`` with the SHA-256 of every file is added, for ``verified``. If ``write``
    raises, nothing is left at ``final``.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        write(tmp)
        manifest = {p.name: file_sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=1))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def verified(directory: Path) -> bool:
    """Whether ``directory`` was completely written by ``atomic_directory`` and is unchanged."""
    manifest_path = directory / "MANIFEST.json"
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    for name, digest in manifest.items():
        path = directory / name
        if not path.is_file() or file_sha256(path) != digest:
            return False
    return True


def atomic_save(obj, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Build once, verify, rebuild if corrupt: the one pattern every cached artefact follows
# ---------------------------------------------------------------------------------------------


def ensure(
    directory: Path, build: Callable[[], None], what: str = "cache entry", lock: Path | None = None
) -> Path:
    """``directory``, verified; if it is missing or fails verification, ``build()`` writes it.

    ``build`` must write ``directory`` with ``atomic_directory`` (it may write other entries
    too, as the bank writes every split of a model at once). An entry that exists but fails
    verification (an interrupted write, a changed file) is reported and rebuilt, never used.

    The build holds the lock file ``lock`` (default: ``lock_path(directory)``): a second process
    asking for the same entry waits, then reads what the first built. Under ``torchrun`` the
    ranks of one job build together, so they take no lock: two multi-GPU jobs must not build
    the same entry at once (run concurrent jobs on one cache single-process, or give torchrun
    jobs fits that share nothing, e.g. not a soup and its base model's zoo fit).
    """
    if verified(directory):
        return directory
    with _build_lock(lock or lock_path(directory), what):
        if verified(directory):  # built by another process while this one waited
            return directory
        if directory.exists():
            warnings.warn(
                f"{what} {directory.name} is incomplete or corrupted; rebuilding it", stacklevel=3
            )
        build()
    if not verified(directory):
        raise RuntimeError(f"{what} {directory} could not be built")
    return directory


def lock_path(target: Path) -> Path:
    """The lock file guarding the build of ``target``: under the cache root, not beside the
    entry, so a failed build leaves nothing next to it (lock files are never deleted; removing
    one while another process waits on it would let two builds run)."""
    return root() / "locks" / f"{target.name[:80]}-{key(str(Path(target).resolve()))}.lock"


@contextmanager
def _build_lock(path: Path, what: str):
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        _acquire(lock, path, what)
    except (NotImplementedError, OSError):
        # A network file system without flock (Lustre mounted without it): fall back to a lock
        # file whose existence is the lock (left behind if the process is killed: delete it).
        lock = SoftFileLock(path.with_suffix(".softlock"))
        _acquire(lock, path, what)
    try:
        yield
    finally:
        lock.release()


def _acquire(lock, path: Path, what: str) -> None:
    try:
        lock.acquire(timeout=0)
    except Timeout:
        tqdm.write(f"waiting for another process that is building {what} ({path.name})", sys.stderr)
        lock.acquire()


def build_once(directory: Path, write: Callable[[Path], None], what: str = "cache entry") -> Path:
    """``ensure`` for an entry written by ``write(tmp_dir)`` alone."""
    return ensure(directory, lambda: atomic_directory(directory, write), what)


def read_json(directory: Path, name: str = "meta.json") -> dict:
    return json.loads((directory / name).read_text())


def cached_arrays(directory: Path, compute: Callable[[], tuple[dict, dict]], what: str):
    """Named numpy arrays and a JSON ``meta`` dict, computed once by ``compute()`` and stored.

    Returns ``(arrays, meta)``; ``compute`` returns the same pair.
    """

    def write(tmp: Path):
        arrays, meta = compute()
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))

    build_once(directory, write, what)
    arrays = {path.stem: np.load(path) for path in sorted(directory.glob("*.npy"))}
    return arrays, read_json(directory)


def cached_frame(directory: Path, compute: Callable[[], pd.DataFrame], what: str) -> pd.DataFrame:
    """A DataFrame computed once by ``compute()`` and stored (pickled, under the manifest)."""
    build_once(directory, lambda tmp: compute().to_pickle(tmp / "frame.pkl"), what)
    return pd.read_pickle(directory / "frame.pkl")
