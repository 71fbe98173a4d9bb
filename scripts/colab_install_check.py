"""Simulate Colab's first run of a chapter on a machine that has only torch and torchvision.

    .venv/bin/python scripts/colab_install_check.py [--keep DIR]

1. A fresh venv gets torch and torchvision alone (constraints.txt's versions, as Colab ships its
   own), standing in for Colab's preinstalled environment.
2. The chapter's own set-up cell runs there unchanged except for one string: the repository URL
   it installs from becomes this checkout (``file://``), since the test must not need the
   network to reach GitHub. It must install ``duolib[book]`` and leave torch untouched.
3. The chapter's first code cells (parameters, set-up, imports and profile choice, profile
   note) run in that venv with ``profile = "smoke"``, as on Colab.

Prints each step's wall time; exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "03_auroc.py"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$", " ".join(command)[:200], flush=True)
    return subprocess.run(command, check=True, text=True, **kwargs)


def versions(python: Path) -> dict:
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in ('torch', 'torchvision')}))"
    )
    return json.loads(run([str(python), "-c", code], capture_output=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", help="build the venv here and keep it (default: a temp dir)")
    args = parser.parse_args()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="colab-check-"))
    venv, python = workdir / "venv", workdir / "venv" / "bin" / "python"
    pins = [
        line.strip()
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith(("torch==", "torchvision=="))
    ]
    times = {}

    start = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "-q", *pins])
    times["venv with torch and torchvision only"] = time.perf_counter() - start
    before = versions(python)

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    code = [c.source for c in jupytext.read(CHAPTER).cells if c.cell_type == "code"]
    setup = code[1]
    assert f"git+{url}" in setup, "the set-up cell no longer installs from the configured URL"
    setup = setup.replace(f"git+{url}", ROOT.as_uri())
    start = time.perf_counter()
    run([str(python), "-c", setup], cwd=workdir)
    times["set-up cell: pip install duolib[book]"] = time.perf_counter() - start
    after = versions(python)
    assert after == before, f"the set-up cell changed torch: {before} -> {after}"

    # A script prints no bare expression: print the profile note cell's value.
    first_cells = "\n\n".join(['profile = "smoke"', *code[1:3], f"print({code[3].strip()})"])
    start = time.perf_counter()
    out = run([str(python), "-c", first_cells], cwd=workdir, capture_output=True).stdout
    times["first four code cells (smoke)"] = time.perf_counter() - start
    # The note's measured runtimes come from package data: the install must ship it.
    assert "Profile `smoke`" in out and "Measured runtime" in out, out
    print(out)
    print(f"torch kept: {after}")
    for step, seconds in times.items():
        print(f"{step:<45} {seconds:7.1f} s")


if __name__ == "__main__":
    main()
