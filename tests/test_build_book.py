"""scripts/build_book.py: what it does to executed notebooks and to the runtime table."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat

from duolib import chapter

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_book.py"


def _build_book():
    spec = importlib.util.spec_from_file_location("build_book", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_papermills_injected_parameters_cell_is_removed_from_the_book(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("profile = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('profile = "demo"', metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(profile)"),
    ]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    _build_book().hide_injected_parameters(path)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters"], ["injected-parameters", "remove-cell"], []]


def test_recorded_runtimes_keep_other_profiles_and_only_chapters(tmp_path, monkeypatch):
    table = tmp_path / "runtimes.json"
    table.write_text(json.dumps({"demo": {"cold": {"seconds": {"00_zoo": 888}}}}))
    monkeypatch.setattr(chapter, "RUNTIMES", table)
    timings = {"00_zoo": 12.5, "03_auroc": 3.0, "jupyter-book build": 6.0}
    _build_book().record_runtimes("smoke", "warm", timings)
    written = json.loads(table.read_text())
    assert written["demo"]["cold"]["seconds"] == {"00_zoo": 888}
    assert written["smoke"]["warm"]["seconds"] == {"00_zoo": 12.5, "03_auroc": 3.0}
    assert "CPU cores" in written["smoke"]["warm"]["machine"]
