"""Print the table of the chapters' exercises (chapter, exercise, kind, minutes) in Markdown.

    .venv/bin/python scripts/exercise_table.py [--write]

Read from the exercises' headings in ``notebooks/NN_topic.py``, which are written
``**Exercise N.k** *(<kind>; about M minutes).*``. ``--write`` puts the table into
book/instructors.md between ``<!-- exercise-table:start -->`` and ``<!-- exercise-table:end -->``;
tests/test_student.py checks that the page holds this script's current output there.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PAGE = ROOT / "book" / "instructors.md"
START, END = "<!-- exercise-table:start -->", "<!-- exercise-table:end -->"
# An exercise's heading opens its statement cell: chapter number N (no leading zero), its
# number k in the chapter, the kind of work, the minutes it should take.
HEADING = re.compile(
    r"\*\*Exercise (?P<chapter>\d+)\.(?P<k>\d+)\*\* "
    r"\*\((?P<kind>[^;()*]+); about (?P<minutes>\d+) minutes\)\.\*"
)
# Where a cell starts an exercise at all (well formed or not).
OPENING = "**Exercise"


class Exercise(NamedTuple):
    chapter: str  # NN_topic
    title: str  # the chapter's title
    number: str  # "N.k"
    kind: str
    minutes: int


def title(notebook) -> str:
    first = notebook.cells[0].source.splitlines()[0]
    return first.removeprefix("# ").strip()


def exercises(notebook, chapter: str) -> list[Exercise]:
    """The exercises whose headings open a Markdown cell of ``notebook``, in order; a cell that
    opens with ``**Exercise`` but does not match HEADING raises ValueError."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown" or not cell.source.startswith(OPENING):
            continue
        match = HEADING.match(cell.source)
        if match is None:
            line = cell.source.splitlines()[0]
            raise ValueError(
                f"{chapter}: exercise heading not in the form "
                f"'**Exercise N.k** *(kind; about M minutes).*': {line[:80]!r}"
            )
        found.append(
            Exercise(
                chapter=chapter,
                title=title(notebook),
                number=f"{match['chapter']}.{match['k']}",
                kind=match["kind"].strip(),
                minutes=int(match["minutes"]),
            )
        )
    return found


def all_exercises() -> list[Exercise]:
    import jupytext

    return [
        exercise
        for source in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
        for exercise in exercises(jupytext.read(source), source.stem)
    ]


def table(found: list[Exercise]) -> str:
    lines = ["| chapter | exercise | kind | minutes |", "|---|---|---|---:|"]
    previous = None
    for exercise in found:
        chapter = ""
        if exercise.chapter != previous:
            link = f"../notebooks/{exercise.chapter}"
            chapter = f"[{exercise.chapter[:2]} {exercise.title}]({link})"
            previous = exercise.chapter
        lines.append(f"| {chapter} | {exercise.number} | {exercise.kind} | {exercise.minutes} |")
    if found:
        total = sum(e.minutes for e in found)
        lines.append(f"| **all chapters** | **{len(found)}** | | **{total}** |")
    return "\n".join(lines) + "\n"


def replace_table(page: str, new: str) -> str:
    """``page`` with the text between the two markers replaced by ``new``."""
    if page.count(START) != 1 or page.count(END) != 1 or page.index(START) > page.index(END):
        raise ValueError(f"the page needs one {START} followed by one {END}")
    before, rest = page.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{new}{END}{after}"


def current(page: str) -> str:
    """The table the page holds between the markers."""
    return page.split(START)[1].split(END)[0].removeprefix("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update the table in {PAGE}")
    args = parser.parse_args()
    try:
        found = all_exercises()
    except ValueError as err:
        sys.exit(f"exercise_table: {err}")
    text = table(found)
    if args.write:
        PAGE.write_text(replace_table(PAGE.read_text(), text))
        print(f"exercise_table: wrote {len(found)} exercises into {PAGE}")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
