"""Every chapter runs the way Jupyter runs it, and reads correctly there.

Each chapter is executed with nbclient (what JupyterLab's "Run all" and ``jupyter nbconvert
--execute`` use): no papermill, no ``$DUOLIB_PROFILE``; the parameters cell is edited to
``profile = "smoke"`` as a reader would edit it. Then the executed notebook must read without
the book: every figure is in its cell's output as a PNG, no Markdown cell holds a ``{glue`` role
that only Jupyter Book could fill, and no sentence a chapter computes says ``nan``/``None``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
PROFILE = "smoke"

# Words that mean a computed number did not arrive, or a template was not filled.
NOT_A_NUMBER = re.compile(r"\bnan\b|\bNone\b|\bn/a\b|\{\{|\}\}|\[\[|\]\]", re.IGNORECASE)


def _set_profile(notebook, profile: str) -> None:
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = f"profile = {profile!r}"


def _execute(source: Path) -> nbformat.NotebookNode:
    notebook = jupytext.read(source)
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
    return notebook


def _outputs(cell, mime: str) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if mime in data:
            value = data[mime]
            found.append(value if isinstance(value, str) else "".join(value))
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_runs_and_reads_in_jupyter(source):
    notebook = _execute(source)
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
