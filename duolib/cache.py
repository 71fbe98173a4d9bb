"""Where duolib keeps generated data, checkpoints and logits, and how it writes them safely.

Everything is keyed by a hash of what determines it, written atomically (to a temporary name,
then renamed), and verified by a SHA-256 content hash when read back, so an interrupted write
or a corrupted file is detected and rebuilt rather than silently used.

The root is ``$DUOLIB_CACHE`` if set, else ``~/.cache/duolib``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path


def root() -> Path:
    path = Path(os.environ.get("DUOLIB_CACHE", Path.home() / ".cache" / "duolib")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def key(*parts) -> str:
    """A short stable hash of JSON-serialisable ``parts`` (dicts are sorted by key)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)
