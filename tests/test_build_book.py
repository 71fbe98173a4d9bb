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


def test_solutions_are_labelled_and_lose_their_markers_in_the_book():
    notebook = nbformat.v4.new_notebook()
    solution = "### BEGIN SOLUTION\nanswer = 42\nanswer\n### END SOLUTION"
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["hide-cell"]}),
        nbformat.v4.new_code_cell(solution, metadata={"tags": ["solution", "hide-cell"]}),
    ]
    _build_book().label_solutions(notebook)
    plain, labelled = notebook.cells
    assert "mystnb" not in plain.metadata and plain.source == "x = 1"
    assert labelled.metadata["mystnb"] == {
        "code_prompt_show": "Show solution",
        "code_prompt_hide": "Hide solution",
    }
    assert labelled.source == "answer = 42\nanswer"


def _check_book():
    spec = importlib.util.spec_from_file_location("check_book", SCRIPT.with_name("check_book.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A chapter's exercise as myst-nb 1.4 renders it (from a book built with a fake chapter).
EXERCISE_HTML = """
<p><strong>Exercise 2.1</strong> <em>(compute; about 5 minutes).</em> Compute x squared.</p>
<div class="cell tag_solution tag_hide-cell docutils container">
<details class="admonition hide above-input">
<summary aria-label="Toggle hidden content">
<p class="collapsed admonition-title">Show solution</p>
<p class="expanded admonition-title">Hide solution</p>
</summary>
<div class="cell_input docutils container"><pre>squared = x**2</pre></div>
</details>
</div>
"""


def test_the_book_check_finds_exercises_and_collapsed_solutions():
    check = _check_book().exercise_problems
    assert check(EXERCISE_HTML, "02.html", ["2.1"]) == []
    assert "exercises ['2.1'] shown" in check(EXERCISE_HTML, "02.html", ["2.1", "2.2"])[0]
    opened = EXERCISE_HTML.replace("<details class", "<details open class")
    assert "1 of 1 solutions not collapsed" in " ".join(check(opened, "02.html", ["2.1"]))
    default = EXERCISE_HTML.replace("Show solution", "Show code cell content")
    assert "not collapsed" in " ".join(check(default, "02.html", ["2.1"]))
    shown = EXERCISE_HTML.replace("<details", "<div").replace("</details>", "</div>")
    assert "not collapsed" in " ".join(check(shown, "02.html", ["2.1"]))
