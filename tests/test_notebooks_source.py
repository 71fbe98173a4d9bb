"""The notebook sources follow the book's conventions (the notebooks themselves run via nbmake)."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def test_there_are_chapters():
    assert SOURCES, "no notebooks/NN_topic.py found"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_paired_ipynb_is_in_sync_and_has_no_outputs(source):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} missing: run `jupytext --sync {source}`"
    committed = json.loads(paired.read_text())
    for cell in committed["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{paired.name} holds outputs: strip them"
            assert cell.get("execution_count") is None, f"{paired.name} holds execution counts"
    from_source = jupytext.read(source)
    committed_cells = [(c["cell_type"], "".join(c["source"])) for c in committed["cells"]]
    source_cells = [(c.cell_type, c.source) for c in from_source.cells]
    assert committed_cells == source_cells, (
        f"{paired.name} is out of sync with {source.name}: run `jupytext --sync {source}`"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_skeleton(source):
    cells = jupytext.read(source).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "title first"
    assert "colab.research.google.com" in cells[0].source, "Colab badge in the title cell"
    code = [c for c in cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell tagged parameters"
    assert 'os.environ.get("DUOLIB_PROFILE", "smoke")' in code[0].source
    assert "hide-output" in code[1].metadata.get("tags", []), "setup cell tagged hide-output"


MAX_CELL_LINES = 15


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_code_cells_are_short(source):
    """One idea per cell: no code cell over 15 lines, the parameters and set-up cells aside."""
    code = [c for c in jupytext.read(source).cells if c.cell_type == "code"]
    for index, cell in enumerate(code[2:], start=2):
        lines = cell.source.rstrip().splitlines()
        assert len(lines) <= MAX_CELL_LINES, (
            f"code cell {index} of {source.name} has {len(lines)} lines: {lines[0]!r}"
        )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapters_glue_through_duolib(source):
    """Glue goes through duolib.chapter, so no chapter re-implements it."""
    text = source.read_text()
    assert "from myst_nb import glue" not in text
    assert "def " not in text, "a chapter defines a function: move it into duolib"
