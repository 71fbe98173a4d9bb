"""Write the student notebooks: every chapter with its solutions removed, by nbgrader.

    .venv/bin/python scripts/make_student.py [--out _build/student] [--profile NAME] [NN_topic ...]

1. Each chapter's source (``notebooks/NN_topic.py``) is read with jupytext and checked: nbgrader's
   markers ``### BEGIN SOLUTION`` / ``### END SOLUTION`` stand only in code cells tagged
   ``solution``, balanced, and every such cell holds a solution region. A chapter that breaks
   this stops the script with its name, the cell and what is wrong.
2. Each solution cell gets nbgrader's cell metadata (a solution cell, not graded, unlocked, a
   ``grade_id`` unique in its notebook, schema 3) and loses the book's ``hide-cell`` tag.
3. ``nbgrader generate_assignment`` runs once on all chapters in a temporary course directory
   (``source/duos/NN_topic.ipynb`` -> ``release/duos/NN_topic.ipynb``, ``--no-db``: the
   gradebook would be thrown away with the directory). It replaces each solution region with
   nbgrader's stub (``# YOUR CODE HERE`` / ``raise NotImplementedError()``) and clears outputs.
4. The released notebooks are written to ``_build/student/NN_topic.ipynb``.

``--profile NAME`` writes ``profile = "NAME"`` into the parameters cell (e.g. ``smoke`` for a
class on Colab's free tier, where ``None`` would pick the hour-long ``colab`` profile on a GPU);
by default the cell is the chapter's. ``--instructor DIR`` stops after step 2 and writes the
instructor's versions (solutions kept, nbgrader's metadata added) into DIR, e.g. an nbgrader
course's ``source/duos``, for the course's own ``nbgrader generate_assignment``.
book/instructors.md tells instructors how to use them.

tests/test_student.py and tests/test_notebooks_run.py import this file for ``generate``.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_build" / "student"
ASSIGNMENT = "duos"
# nbgrader's delimiters: it takes any line holding one of them for a marker, in any cell.
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
# nbgrader's default stub for Python code solutions (ClearSolutions.code_stub).
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


class MarkerError(ValueError):
    """A chapter whose solution markers nbgrader would reject or misread."""


def chapters(names: list[str] | None = None) -> list[Path]:
    sources = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if names:
        unknown = set(names) - {s.stem for s in sources}
        if unknown:
            raise SystemExit(f"make_student: no chapter {sorted(unknown)} in {NOTEBOOKS}")
        sources = [s for s in sources if s.stem in names]
    return sources


def read_chapter(source: Path) -> nbformat.NotebookNode:
    """The chapter as a notebook (what jupytext --sync writes), without jupytext's pairing."""
    import jupytext

    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


def is_solution(cell) -> bool:
    return "solution" in cell.metadata.get("tags", [])


def _where(name: str, index: int, cell) -> str:
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return f"{name}, cell {index} ({cell.cell_type}, starting {first[:50]!r})"


def check_markers(notebook, name: str) -> None:
    """Raise MarkerError unless every marker is in a solution-tagged code cell, in balanced
    BEGIN/END pairs, and every solution-tagged cell holds at least one pair."""
    for index, cell in enumerate(notebook.cells):
        lines = cell.source.splitlines()
        markers = [(n, line) for n, line in enumerate(lines, 1) if BEGIN in line or END in line]
        if not is_solution(cell):
            if markers:
                raise MarkerError(
                    f"{_where(name, index, cell)}: solution marker on line {markers[0][0]} "
                    "outside a code cell tagged `solution` (tag the cell "
                    '`tags=["solution", "hide-cell"]`, or reword the text)'
                )
            continue
        if cell.cell_type != "code":
            raise MarkerError(f"{_where(name, index, cell)}: only code cells may be solutions")
        if not markers:
            raise MarkerError(
                f"{_where(name, index, cell)}: tagged `solution` but has no "
                f"`### {BEGIN}` / `### {END}` markers"
            )
        inside = False
        for number, line in markers:
            opening = BEGIN in line
            if opening == inside:
                what = "nested" if opening else "unmatched"
                raise MarkerError(
                    f"{_where(name, index, cell)}: {what} marker on line {number}: {line.strip()!r}"
                )
            inside = opening
        if inside:
            raise MarkerError(f"{_where(name, index, cell)}: `### {BEGIN}` is never closed")


def prepare(notebook, name: str, profile: str | None = None) -> nbformat.NotebookNode:
    """A copy of ``notebook`` ready for ``nbgrader generate_assignment``: markers checked,
    nbgrader's metadata on each solution cell, outputs dropped, optionally a fixed profile."""
    check_markers(notebook, name)
    prepared = copy.deepcopy(notebook)
    number = int(name[:2]) if name[:2].isdigit() else 0
    solutions = 0
    for cell in prepared.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags and profile is not None:
            lines = [x for x in cell.source.splitlines() if not x.startswith("profile =")]
            cell.source = "\n".join([*lines, f'profile = "{profile}"'])
        if not is_solution(cell):
            continue
        solutions += 1
        cell.metadata["tags"] = [t for t in tags if t != "hide-cell"]
        cell.metadata["nbgrader"] = {
            "solution": True,
            "grade": False,
            "locked": False,
            "grade_id": f"exercise_{number}_{solutions}",
            "schema_version": 3,
        }
    return prepared


def generate(notebooks: dict, profile: str | None = None) -> dict:
    """Student versions of ``notebooks`` (name -> notebook, in the chapters' layout), made by
    ``nbgrader generate_assignment`` in a temporary course directory."""
    prepared = {name: prepare(nb, name, profile) for name, nb in notebooks.items()}
    with tempfile.TemporaryDirectory(prefix="duos-course-") as course:
        course = Path(course)
        source = course / "source" / ASSIGNMENT
        source.mkdir(parents=True)
        (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
        for name, notebook in prepared.items():
            nbformat.write(notebook, source / f"{name}.ipynb")
        command = [
            str(Path(sys.executable).with_name("nbgrader")),
            "generate_assignment",
            ASSIGNMENT,
            "--force",
            "--no-db",
            "--log-level=WARN",
        ]
        result = subprocess.run(command, cwd=course, capture_output=True, text=True)
        release = course / "release" / ASSIGNMENT
        missing = [name for name in prepared if not (release / f"{name}.ipynb").exists()]
        if result.returncode != 0 or missing:
            raise RuntimeError(
                f"nbgrader generate_assignment failed (exit {result.returncode}, "
                f"missing {missing}):\n{result.stderr[-3000:]}"
            )
        return {name: nbformat.read(release / f"{name}.ipynb", as_version=4) for name in prepared}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="NN_topic names (default: every chapter)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--profile", help="write this profile into the parameters cell")
    parser.add_argument(
        "--instructor",
        type=Path,
        metavar="DIR",
        help="write the chapters with their solutions and nbgrader's metadata into DIR (e.g. "
        "COURSE/source/duos) instead of generating the student notebooks",
    )
    args = parser.parse_args()
    if args.profile is not None:
        from duolib import profiles

        if args.profile not in profiles.PROFILES:
            parser.error(f"unknown profile {args.profile!r}; one of {sorted(profiles.PROFILES)}")

    start = time.perf_counter()
    notebooks = {}
    for source in chapters(args.chapters):
        notebook = read_chapter(source)
        try:
            check_markers(notebook, source.name)
        except MarkerError as err:
            sys.exit(f"make_student FAILED: {err}")
        solutions = sum(is_solution(c) for c in notebook.cells)
        print(f"checked {source.name:<24} {solutions} solution cells", flush=True)
        notebooks[source.stem] = notebook
    if args.instructor is not None:
        args.instructor.mkdir(parents=True, exist_ok=True)
        for name, notebook in notebooks.items():
            nbformat.write(prepare(notebook, name, args.profile), args.instructor / f"{name}.ipynb")
        print(f"wrote {len(notebooks)} instructor notebooks (with solutions) to {args.instructor}")
        return
    print(f"nbgrader generate_assignment on {len(notebooks)} chapters ...", flush=True)
    try:
        students = generate(notebooks, args.profile)
    except RuntimeError as err:
        sys.exit(f"make_student FAILED: {err}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, student in students.items():
        nbformat.write(student, args.out / f"{name}.ipynb")
    seconds = time.perf_counter() - start
    print(f"wrote {len(students)} student notebooks to {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
