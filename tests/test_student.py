"""The exercises follow the book's convention, and the student notebooks hold no solution.

Every chapter ends with 2-4 exercises under "## Exercises", after its summary: a Markdown cell
opening with ``**Exercise N.k** *(<kind>; about M minutes).*`` (N the chapter's number), then
one code cell tagged ``solution`` and ``hide-cell`` whose first and last lines are nbgrader's
``### BEGIN SOLUTION`` / ``### END SOLUTION``; at least one solution states a verdict with
``say``. scripts/make_student.py turns a chapter into its student notebook with nbgrader; here
nothing is executed (tests/test_notebooks_run.py runs each student stub before its solution).
The checks are tried on small hand-made chapters first, so that they cannot pass vacuously.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_student = _script("make_student")
exercise_table = _script("exercise_table")


def _solution(cell) -> bool:
    return make_student.is_solution(cell)


def convention_problems(notebook, name: str) -> list[str]:
    """Where ``notebook`` (the chapter ``name``, "NN_topic") breaks the exercises' convention."""
    try:
        make_student.check_markers(notebook, name)
    except make_student.MarkerError as err:
        return [str(err)]
    cells = notebook.cells
    number = int(name[:2])

    def opens(cell, prefix: str) -> bool:
        return cell.cell_type == "markdown" and cell.source.startswith(prefix)

    starts = [i for i, cell in enumerate(cells) if opens(cell, "## Exercises")]
    if len(starts) != 1:
        return [f"{name}: {len(starts)} '## Exercises' headings, not one"]
    start = starts[0]
    problems = []
    summaries = [
        i
        for i, cell in enumerate(cells)
        if cell.cell_type == "markdown" and "## Summary" in cell.source.splitlines()
    ]
    if not summaries or summaries[-1] > start:
        problems.append(f"{name}: '## Exercises' must come after '## Summary'")
    if any(_solution(cell) for cell in cells[:start]):
        problems.append(f"{name}: a solution cell before '## Exercises'")
    exercises = []  # [heading, solution cell or None]
    for index, cell in enumerate(cells[start + 1 :], start=start + 1):
        where = f"{name}, cell {index}"
        if opens(cell, "#"):
            problems.append(f"{where}: a heading after the exercises (they end the chapter)")
        elif opens(cell, exercise_table.OPENING):
            heading = cell.source.splitlines()[0]
            match = exercise_table.HEADING.match(cell.source)
            expected = f"{number}.{len(exercises) + 1}"
            if match is None:
                problems.append(
                    f"{where}: heading not '**Exercise N.k** *(kind; about M minutes).*': "
                    f"{heading[:70]!r}"
                )
            elif f"{match['chapter']}.{match['k']}" != expected:
                problems.append(
                    f"{where}: exercise numbered {match['chapter']}.{match['k']}, "
                    f"expected {expected}"
                )
            exercises.append([heading, None])
        elif not exercises:
            problems.append(f"{where}: a cell between '## Exercises' and the first exercise")
        elif cell.cell_type == "markdown":
            if exercises[-1][1] is not None:
                problems.append(f"{where}: Markdown after a solution that opens no exercise")
        elif not _solution(cell):
            problems.append(f"{where}: a code cell in an exercise that is not tagged `solution`")
        elif exercises[-1][1] is not None:
            problems.append(f"{where}: a second solution cell for {exercises[-1][0][:20]}")
        else:
            exercises[-1][1] = cell
            tags = set(cell.metadata.get("tags", []))
            if not {"solution", "hide-cell"} <= tags:
                problems.append(f"{where}: solution tagged {sorted(tags)}, not solution+hide-cell")
            lines = cell.source.strip("\n").splitlines()
            marked = [line for line in lines if "BEGIN SOLUTION" in line or "END SOLUTION" in line]
            if lines[0] != BEGIN or lines[-1] != END or len(marked) != 2:
                problems.append(f"{where}: a solution must be one region, {BEGIN} to {END}")
    for heading, solution in exercises:
        if solution is None:
            problems.append(f"{name}: {heading[:20]} has no solution cell after its statement")
    if not 2 <= len(exercises) <= 4:
        problems.append(f"{name}: {len(exercises)} exercises, not 2 to 4")
    solutions = [solution for _, solution in exercises if solution is not None]
    if solutions and not any("say(" in solution.source for solution in solutions):
        problems.append(f"{name}: no solution states a verdict with say(")
    return problems


def student_problems(chapter, student, name: str) -> list[str]:
    """Where the student notebook of ``chapter`` still shows a solution or an output, or lost or
    changed anything else."""
    if len(student.cells) != len(chapter.cells):
        return [f"{name}: {len(student.cells)} cells, the chapter has {len(chapter.cells)}"]
    problems = []
    stub = make_student.STUB
    for index, (original, given) in enumerate(zip(chapter.cells, student.cells, strict=True)):
        if _solution(original):
            if given.source.strip() != stub:
                problems.append(f"{name}, cell {index}: {given.source[:60]!r} instead of the stub")
        elif (given.cell_type, given.source) != (original.cell_type, original.source):
            problems.append(f"{name}, cell {index}: differs from the chapter's")
        if given.cell_type == "code" and (given.outputs or given.execution_count is not None):
            problems.append(f"{name}, cell {index}: holds outputs")
    text = "\n".join(cell.source for cell in student.cells)
    if "BEGIN SOLUTION" in text or "END SOLUTION" in text:
        problems.append(f"{name}: a solution marker is left")

    def lines(cells) -> set[str]:
        return {line.strip() for cell in cells for line in cell.source.splitlines()}

    elsewhere = lines(cell for cell in chapter.cells if not _solution(cell))
    solution_only = lines(cell for cell in chapter.cells if _solution(cell)) - elsewhere
    leaked = (solution_only - {"", BEGIN, END}) & lines(student.cells)
    if leaked:
        problems.append(f"{name}: lines of solutions left: {sorted(leaked)[:3]}")
    statements = exercise_table.exercises(chapter, name)
    if exercise_table.exercises(student, name) != statements:
        problems.append(f"{name}: the exercises' statements changed")
    return problems


# --- on hand-made chapters -----------------------------------------------------------------


def _md(text: str):
    return nbformat.v4.new_markdown_cell(text)


def _code(text: str, *tags: str):
    return nbformat.v4.new_code_cell(text, metadata={"tags": list(tags)} if tags else {})


def _solution_cell(*lines: str):
    return _code("\n".join([BEGIN, *lines, END]), "solution", "hide-cell")


def _chapter():
    """Chapter 2 as the convention wants it: two exercises, the second an interpretation."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        _md("# A chapter"),
        _code("profile = None", "parameters", "remove-cell"),
        _code("weights = [0.7, 0.3]"),
        _md("## Summary\n\nWeights."),
        _md("## Exercises\n\nThe exercises use the bank of the profile."),
        _md("**Exercise 2.1** *(compute; about 5 minutes).* Add the weights."),
        _solution_cell("total_weight = sum(weights)", "total_weight"),
        _md("**Exercise 2.2** *(predict, then interpret; about 10 minutes).* Which is larger?"),
        _solution_cell(
            "larger_one = max(weights)",
            'say("the larger weight is {{w:.1f}}", w=larger_one)',
        ),
    ]
    return notebook


def test_a_chapter_that_follows_the_convention_passes():
    assert convention_problems(_chapter(), "02_fake") == []


def _renumber(nb):
    nb.cells[5].source = nb.cells[5].source.replace("2.1", "3.1")


def _no_space(nb):
    nb.cells[5].source = nb.cells[5].source.replace("about 5 minutes", "5 min")


def _one_exercise(nb):
    del nb.cells[7:]


def _five_exercises(nb):
    for k in range(3, 6):
        nb.cells += [
            _md(f"**Exercise 2.{k}** *(compute; about 5 minutes).* More."),
            _solution_cell(f"extra_{k} = {k}"),
        ]


def _visible_solution(nb):
    nb.cells[6].metadata["tags"] = ["solution"]


def _marker_not_first(nb):
    nb.cells[6].source = "# a comment\n" + nb.cells[6].source


def _two_regions(nb):
    nb.cells[6].source += f"\n{BEGIN}\nmore = 1\n{END}"


def _no_solution(nb):
    del nb.cells[6]


def _untagged_code(nb):
    nb.cells.insert(6, _code("helper = 1"))


def _no_say(nb):
    nb.cells[8].source = f"{BEGIN}\nlarger_one = max(weights)\n{END}"


def _before_summary(nb):
    nb.cells[3], nb.cells[4] = nb.cells[4], nb.cells[3]


def _marker_in_text(nb):
    nb.cells[0].source += f"\n\nSolutions sit between `{BEGIN}` and its end."


def _unbalanced(nb):
    nb.cells[6].source = nb.cells[6].source.replace(END, "")


@pytest.mark.parametrize(
    ("break_it", "complaint"),
    [
        (_renumber, "numbered 3.1, expected 2.1"),
        (_no_space, "heading not"),
        (_one_exercise, "1 exercises, not 2 to 4"),
        (_five_exercises, "5 exercises, not 2 to 4"),
        (_visible_solution, "not solution+hide-cell"),
        (_marker_not_first, "one region"),
        (_two_regions, "one region"),
        (_no_solution, "no solution cell"),
        (_untagged_code, "not tagged `solution`"),
        (_no_say, "say("),
        (_before_summary, "after '## Summary'"),
        (_marker_in_text, "outside a code cell tagged `solution`"),
        (_unbalanced, "never closed"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
def test_a_chapter_that_breaks_the_convention_is_caught(break_it, complaint):
    notebook = _chapter()
    break_it(notebook)
    problems = convention_problems(notebook, "02_fake")
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        (f"x = 1\n{BEGIN}\ny = 2", "never closed"),
        (f"{END}\nx = 1", "unmatched marker on line 1"),
        (f"{BEGIN}\n{BEGIN}\nx = 1\n{END}", "nested marker on line 2"),
        ("x = 1", "has no `### BEGIN SOLUTION`"),
    ],
)
def test_the_generator_refuses_unbalanced_markers_naming_the_cell(source, complaint):
    notebook = _chapter()
    notebook.cells[6].source = source
    with pytest.raises(make_student.MarkerError, match="02_fake, cell 6") as caught:
        make_student.prepare(notebook, "02_fake")
    assert complaint in str(caught.value)


def test_the_generator_refuses_a_marker_outside_a_solution_cell():
    notebook = _chapter()
    notebook.cells[2].source += f"\n{BEGIN}\nx = 1\n{END}"
    with pytest.raises(make_student.MarkerError, match="cell 2 .* outside a code cell tagged"):
        make_student.generate({"02_fake": notebook})


@pytest.fixture(scope="module")
def hand_made_student():
    return make_student.generate({"02_fake": _chapter()})["02_fake"]


def test_the_student_version_of_a_hand_made_chapter(hand_made_student):
    chapter, student = _chapter(), hand_made_student
    assert student_problems(chapter, student, "02_fake") == []
    stubs = [cell for cell in student.cells if _solution(cell)]
    assert [cell.source for cell in stubs] == [make_student.STUB] * 2
    assert [cell.metadata["nbgrader"]["grade_id"] for cell in stubs] == [
        "exercise_2_1",
        "exercise_2_2",
    ]
    assert all(cell.metadata["nbgrader"]["solution"] for cell in stubs)
    assert all("hide-cell" not in cell.metadata["tags"] for cell in stubs)


def test_a_leaked_solution_or_output_is_caught(hand_made_student):
    chapter = _chapter()
    leaked = copy.deepcopy(hand_made_student)
    leaked.cells[2].source += "\ntotal_weight = sum(weights)"
    assert any("lines of solutions left" in p for p in student_problems(chapter, leaked, "02"))
    shown = copy.deepcopy(hand_made_student)
    shown.cells[6].source = chapter.cells[6].source
    assert any("instead of the stub" in p for p in student_problems(chapter, shown, "02"))
    executed = copy.deepcopy(hand_made_student)
    executed.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    assert any("holds outputs" in p for p in student_problems(chapter, executed, "02"))
    changed = copy.deepcopy(hand_made_student)
    changed.cells[5].source = "**Exercise 2.1** *(compute; about 9 minutes).* Add them."
    assert any("statements changed" in p for p in student_problems(chapter, changed, "02"))


def test_make_student_writes_student_and_instructor_notebooks(tmp_path, monkeypatch, capsys):
    sources = tmp_path / "notebooks"
    sources.mkdir()
    jupytext.write(_chapter(), sources / "02_fake.py", fmt="py:percent")
    monkeypatch.setattr(make_student, "NOTEBOOKS", sources)
    monkeypatch.setattr(sys, "argv", ["make_student", "--out", str(tmp_path / "student")])
    make_student.main()
    assert "checked 02_fake.py" in capsys.readouterr().out
    student = nbformat.read(tmp_path / "student" / "02_fake.ipynb", as_version=4)
    assert [c.source for c in student.cells if _solution(c)] == [make_student.STUB] * 2
    monkeypatch.setattr(sys, "argv", ["make_student", "--instructor", str(tmp_path / "course")])
    make_student.main()
    instructor = nbformat.read(tmp_path / "course" / "02_fake.ipynb", as_version=4)
    assert instructor.cells[6].source.startswith(BEGIN)
    assert instructor.cells[6].metadata["nbgrader"]["grade_id"] == "exercise_2_1"


def test_a_profile_can_be_written_into_the_parameters_cell():
    prepared = make_student.prepare(_chapter(), "02_fake", profile="smoke")
    assert prepared.cells[1].source == 'profile = "smoke"'
    assert make_student.prepare(_chapter(), "02_fake").cells[1].source == "profile = None"


def test_the_exercise_table_reads_the_headings():
    found = exercise_table.exercises(_chapter(), "02_fake")
    assert [(e.number, e.kind, e.minutes) for e in found] == [
        ("2.1", "compute", 5),
        ("2.2", "predict, then interpret", 10),
    ]
    rows = exercise_table.table(found).splitlines()
    assert rows[2] == "| [02 A chapter](../notebooks/02_fake) | 2.1 | compute | 5 |"
    assert rows[-1] == "| **all chapters** | **2** | | **15** |"
    broken = _chapter()
    broken.cells[5].source = "**Exercise 2.1** (compute, 5 minutes). Add."
    with pytest.raises(ValueError, match="02_fake: exercise heading not in the form"):
        exercise_table.exercises(broken, "02_fake")


def test_the_table_is_replaced_between_its_markers():
    page = f"# Page\n\n{exercise_table.START}\nold\n{exercise_table.END}\n\nEnd.\n"
    new = exercise_table.replace_table(page, "| a |\n")
    assert new == f"# Page\n\n{exercise_table.START}\n| a |\n{exercise_table.END}\n\nEnd.\n"
    assert exercise_table.current(new) == "| a |\n"


def test_the_instructors_page_holds_the_current_exercise_table():
    page = exercise_table.PAGE.read_text()
    expected = exercise_table.table(exercise_table.all_exercises())
    assert exercise_table.current(page) == expected, (
        "book/instructors.md's exercise table is out of date: run "
        "`.venv/bin/python scripts/exercise_table.py --write`"
    )


# --- on the chapters (fail until every chapter has its exercises) --------------------------


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_exercises_follow_the_convention(source):
    assert convention_problems(jupytext.read(source), source.stem) == []


@pytest.fixture(scope="module")
def students():
    """The student notebook of every chapter whose markers are sound, by one nbgrader run."""
    chapters = {source.stem: jupytext.read(source) for source in SOURCES}
    sound = {}
    for name, notebook in chapters.items():
        try:
            make_student.check_markers(notebook, name)
        except make_student.MarkerError:
            continue
        sound[name] = notebook
    return chapters, make_student.generate(sound)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_notebook_has_no_solution_and_keeps_the_rest(source, students):
    chapters, generated = students
    chapter = chapters[source.stem]
    make_student.check_markers(chapter, source.stem)  # the reason if it was left out
    assert student_problems(chapter, generated[source.stem], source.stem) == []
    assert any(_solution(cell) for cell in chapter.cells), f"{source.name} has no solutions"
