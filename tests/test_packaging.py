"""environment.yml mirrors pyproject.toml, so conda users get the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _names(requirements):
    return {re.split(r"[<>=!\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"])
    for extra in ("book", "test"):
        declared |= set(project["optional-dependencies"][extra])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _names(r for r in pip_section if not r.startswith("-e")) == _names(declared)


def test_constraints_pin_only_torch_and_torchvision():
    lines = (ROOT / "constraints.txt").read_text().split()
    assert sorted(lines) == ["torch==2.14.1", "torchvision==0.29.1"]
