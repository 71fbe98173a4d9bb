"""What every chapter does with its results: sentences, figures and notes that read the same in
Jupyter, Colab, GitHub's notebook view and the built book.

A chapter states a computed result with :func:`say`: a Markdown template whose ``{{name:fmt}}``
placeholders are filled from the values the cell computed. The cell's output is Markdown
(``text/markdown``), which every notebook front end renders, and which the book renders as MyST
(``nb_render_markdown_format: myst``), maths included. Figures are shown in the cell's output
with :func:`figure`, their caption below them; one that another page of the book shows is also
glued (``glue_as``), which needs ``myst-nb`` (the ``book`` extra).
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from . import profiles

MISSING = "n/a"

# Measured wall times of every chapter per profile, cold (an empty cache, chapters run in book
# order, so the zoo chapter fills the bank) and warm (everything cached); written by
# ``scripts/build_book.py --record-runtimes``.
RUNTIMES = Path(__file__).with_name("chapter_runtimes.json")

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*(?::([^{}]*))?\}\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True)
class Note:
    """Markdown that Jupyter, Colab, GitHub and the book render as Markdown (plain text
    elsewhere), without importing IPython."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def plain(value):
    """A numpy scalar as the Python number it holds (``np.float64(0.5)`` prints as
    ``np.float64(0.5)`` under numpy >= 2, not as a number)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def _lookup(name: str, values: Mapping):
    """``values[name]``, where a dotted name walks into nested mappings (``w.improved_test``)."""
    current = values
    for part in name.split("."):
        if not isinstance(current, Mapping) or part not in current:
            known = sorted(current) if isinstance(current, Mapping) else []
            raise KeyError(f"say(): no value named {name!r} (known at {part!r}: {known})")
        current = current[part]
    return plain(current)


def _fill(template: str, values: Mapping) -> tuple[str, bool]:
    """The template with every placeholder formatted, and whether any value was missing."""
    missing = False

    def one(match: re.Match) -> str:
        nonlocal missing
        value = _lookup(match.group(1), values)
        if _is_missing(value):
            missing = True
            return MISSING
        spec = match.group(2) or ""
        try:
            return format(value, spec)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"say(): cannot format {match.group(1)}={value!r} with {spec!r}: {err}"
            ) from None

    return _PLACEHOLDER.sub(one, template), missing


def say(template: str, values: Mapping | None = None, /, **more) -> Note:
    """A sentence (or paragraph) of Markdown stating computed values.

    ``{{name}}`` or ``{{name:fmt}}`` is replaced by ``format(values[name], fmt)``; a dotted name
    reads nested mappings (``{{weighted.improved_test:.0%}}``). Values come from ``values`` and
    the keyword arguments. A missing value (NaN or None) prints as ``n/a``, but a clause written
    as ``[[...]]`` is left out entirely when a value in it is missing: a profile without an OOD
    split gets no OOD clause rather than "n/a". An unknown name raises ``KeyError``.
    """
    merged = {**(values or {}), **more}

    def optional(match: re.Match) -> str:
        text, missing = _fill(match.group(1), merged)
        return "" if missing else text

    text = _OPTIONAL.sub(optional, template)
    text, _ = _fill(text, merged)
    return Note(_dedent(text))


def _dedent(text: str) -> str:
    return textwrap.dedent(text).strip()


def _display(obj) -> None:
    try:
        from IPython.display import display  # optional: the book extra's kernel brings it
    except ImportError:  # no IPython: nothing can show it
        return
    display(obj)


def figure(fig, caption: str | None = None, glue_as: str | None = None) -> None:
    """Show a matplotlib figure in the cell's output, then its caption (Markdown), and close it.

    ``glue_as``: also glue the figure under that name for another page of the book (the
    intro's overview figure); the chapter itself shows the displayed copy.
    """
    if glue_as is not None:
        from myst_nb import glue  # optional dependency: only the book needs it

        glue(glue_as, fig, display=False)
    _display(fig)
    if caption:
        _display(Note(f"*Figure: {_dedent(caption)}*"))
    plt.close(fig)


def duration(seconds: float) -> str:
    """``14 s``, ``4 min 48 s``, ``1 h 02 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def runtime_note(profile, chapter: str) -> str:
    """What this chapter took on this profile, warm and cold, as measured (or that it was not).

    Cold is the chapter's time when the whole book is built from an empty cache, chapters in
    order: the zoo chapter fills the bank, so a later chapter's cold time excludes that. A
    chapter run first on an empty cache fills the bank itself, which the note says.
    """
    name = profiles.get(profile).name
    table = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    runs = {state: run for state, run in table.get(name, {}).items() if chapter in run["seconds"]}
    if not runs:
        return f"No runtime of this chapter has been measured on `{name}`."
    parts = []
    for state, words in (
        ("warm", "with everything cached"),
        ("cold", "in a build of the whole book from an empty cache"),
    ):
        if state in runs:
            run = runs[state]
            note = f", {run['note']}" if run.get("note") else ""
            parts.append(
                f"{duration(run['seconds'][chapter])} {words} "
                f"({run['machine']}, {run['date']}{note})"
            )
    return (
        "Measured runtime: "
        + "; ".join(parts)
        + ". Run first on an empty cache, a chapter also fills the logit bank, as the zoo "
        "chapter does."
    )


def profile_note(profile, chapter: str | None = None) -> Note:
    """The lines at the top of a chapter: which profile computed its numbers and, given the
    chapter's name, how long the chapter took on it (cold: run in book order from an empty
    cache, where the zoo chapter fills the bank; warm: everything cached)."""
    settings = profiles.get(profile)
    text = (
        f"**Profile `{settings.name}`**: {settings.description} "
        f"({settings.runs_on}; datasets: {', '.join(settings.datasets)})."
    )
    if chapter is not None:
        text += f" {runtime_note(settings, chapter)}"
    return Note(text)
