"""environment.yml mirrors pyproject.toml, so conda users get the same dependencies."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _names(requirements):
    return {re.split(r"[<>=!\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"])
    for extra in ("book", "lab", "test"):
        declared |= set(project["optional-dependencies"][extra])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _names(r for r in pip_section if not r.startswith("-e")) == _names(declared)


def test_constraints_pin_only_torch_and_torchvision():
    lines = (ROOT / "constraints.txt").read_text().split()
    assert sorted(lines) == ["torch==2.14.1", "torchvision==0.29.1"]


# Packages a duolib function may import lazily: extras that a plain install does not have.
OPTIONAL_IMPORTS = frozenset({"wilds", "myst_nb", "IPython"})


def test_no_function_imports_anything_but_optional_extras():
    """Imports sit at the top of each module (import-linter checks their layering and cycles in
    `make lint`); only an optional extra may be imported where it is used."""
    lazy = []
    for path in sorted((ROOT / "duolib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    names = [alias.name for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    names = ["." * inner.level + (inner.module or "")]
                else:
                    continue
                lazy += [
                    f"{path.name}:{inner.lineno} {name}"
                    for name in names
                    if name.split(".")[0] not in OPTIONAL_IMPORTS
                ]
    assert lazy == []


def test_the_import_layering_contract_is_configured_and_kept():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    layered = {m.strip() for layer in contract["layers"] for m in re.split(r"[|:]", layer)}
    modules = {
        "duolib." + p.relative_to(ROOT / "duolib").with_suffix("").parts[0]
        for p in (ROOT / "duolib").rglob("*.py")
        if p.name != "__init__.py" or p.parent != ROOT / "duolib"
    }
    assert modules <= layered, f"modules outside the contract: {sorted(modules - layered)}"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True
    )
    assert result.returncode == 0, result.stdout.decode()[-2000:]


def test_the_notebooks_can_be_opened_and_converted_locally():
    """make install brings JupyterLab and nbconvert (the lab extra), so `make lab` and
    `jupyter nbconvert --execute` work from the venv."""
    for command in ("lab", "nbconvert"):
        result = subprocess.run(
            [sys.executable, "-m", "jupyter", command, "--version"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0 and result.stdout.strip(), (command, result.stderr)
