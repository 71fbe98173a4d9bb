"""Every chapter runs the way Jupyter runs it, and reads correctly there.

Each chapter is executed with nbclient (what JupyterLab's "Run all" and ``jupyter nbconvert
--execute`` use): no papermill, no ``$DUOLIB_PROFILE``; the parameters cell is edited to
``profile = "smoke"`` as a reader would edit it. Then the executed notebook must read without
the book: every figure is in its cell's output as a PNG, no Markdown cell holds a ``{glue`` role
that only Jupyter Book could fill, and no sentence a chapter computes says ``nan``/``None``.

The same execution runs the student version (scripts/make_student.py, nbgrader) up to each
exercise: every cell but the solutions is the chapter's, and each solution cell is preceded by
the student's stub, tagged ``raises-exception``; every stub must raise NotImplementedError and
nothing else may fail, so the student notebook runs up to each exercise and the solutions run.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
PROFILE = "smoke"

# Words that mean a computed number did not arrive, or a template was not filled.
NOT_A_NUMBER = re.compile(r"\bnan\b|\bNone\b|\bn/a\b|\{\{|\}\}|\[\[|\]\]", re.IGNORECASE)


def _set_profile(notebook, profile: str) -> None:
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = f"profile = {profile!r}"


def _make_student():
    spec = importlib.util.spec_from_file_location(
        "make_student", ROOT / "scripts" / "make_student.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_student = _make_student()


@pytest.fixture(scope="module")
def students():
    """The student notebook of every chapter whose solution markers are sound, by one run of
    nbgrader; a chapter with unsound markers fails its own test with the reason."""
    sound = {}
    for source in SOURCES:
        notebook = jupytext.read(source)
        try:
            make_student.check_markers(notebook, source.name)
        except make_student.MarkerError:
            continue
        sound[source.stem] = notebook
    return make_student.generate(sound)


def _with_stubs(notebook, student) -> list[int]:
    """Insert the student's stub, tagged ``raises-exception``, before each solution cell of
    ``notebook``; return the stubs' indices. Every other cell must be the student's."""
    assert len(student.cells) == len(notebook.cells), "the student version lost or added cells"
    cells, stubs = [], []
    for index, (cell, given) in enumerate(zip(notebook.cells, student.cells, strict=True)):
        if make_student.is_solution(cell):
            stubs.append(len(cells))
            tags = {"tags": ["raises-exception"]}
            cells.append(nbformat.v4.new_code_cell(given.source, metadata=tags))
        else:
            assert (given.cell_type, given.source) == (cell.cell_type, cell.source), (
                f"cell {index} of the student version is not the chapter's: {given.source[:60]!r}"
            )
        cells.append(cell)
    notebook.cells = cells
    return stubs


def _execute(source: Path, student=None) -> tuple[nbformat.NotebookNode, list[int]]:
    notebook = jupytext.read(source)
    stubs = _with_stubs(notebook, student) if student is not None else []
    _set_profile(notebook, PROFILE)
    env_before = os.environ.pop("DUOLIB_PROFILE", None)
    try:
        client = NotebookClient(
            notebook,
            timeout=900,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.execute()
    finally:
        if env_before is not None:
            os.environ["DUOLIB_PROFILE"] = env_before
    return notebook, stubs


def _outputs(cell, mime: str) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if mime in data:
            value = data[mime]
            found.append(value if isinstance(value, str) else "".join(value))
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_runs_and_reads_in_jupyter(source, students):
    make_student.check_markers(jupytext.read(source), source.name)  # why it has no student
    notebook, stubs = _execute(source, students[source.stem])
    for number, index in enumerate(stubs, start=1):
        errors = [o.get("ename") for o in notebook.cells[index].outputs if o.output_type == "error"]
        assert errors == ["NotImplementedError"], (
            f"{source.name}: the student's stub of solution {number} raised {errors}, not "
            "NotImplementedError: the student version does not run up to this exercise"
        )
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            assert "{glue" not in cell.source, (
                f"{source.name}, cell {index}: a {{glue}} role shows raw outside the book; state "
                "the number with duolib.chapter.say"
            )
            continue
        if re.search(r"^\s*figure\(", cell.source, re.MULTILINE):
            assert _outputs(cell, "image/png"), f"{source.name}, cell {index}: no figure shown"
        for text in _outputs(cell, "text/markdown"):
            bad = NOT_A_NUMBER.search(text)
            assert bad is None, (
                f"{source.name}, cell {index}: {bad.group(0)!r} where a number belongs: {text!r}"
            )
