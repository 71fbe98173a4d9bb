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


def _import_graph():
    import importlib.util

    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts/import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_duolib_has_no_import_cycle_and_no_lazy_imports():
    graph = _import_graph()
    edges = graph.graph()
    assert "duolib.bank" in edges and "duolib.claims" in edges  # the graph was read
    assert graph.cycles(edges) == []
    assert graph.lazy_imports() == []


def test_cycle_detection_finds_a_planted_cycle():
    graph = _import_graph()
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert graph.cycles(edges) == [["a", "b", "c", "a"]]
    assert graph.cycles({"a": {"b"}, "b": set()}) == []


def test_lower_modules_do_not_import_higher_ones():
    """The data flow of DESIGN.md: the bank knows nothing of baselines, claims or tables."""
    edges = _import_graph().graph()
    higher = {"duolib.baselines", "duolib.experiments", "duolib.claims", "duolib.tables"}
    for low in ("duolib.bank", "duolib.train", "duolib.data", "duolib.zoo", "duolib.metrics"):
        reached, stack = set(), [low]
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt not in reached:
                    reached.add(nxt)
                    stack.append(nxt)
        assert not any(r.split(".")[0:2] == h.split(".")[0:2] for r in reached for h in higher), low
