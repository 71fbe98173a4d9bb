"""What every chapter does with its results: glue numbers and figures for the book.

Chapters glue computed values for the book's ``{glue:text}`` roles and glued figures; these
helpers do it in one line per group of values. They need ``myst-nb`` (the ``book`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from . import profiles


def _glue():
    from myst_nb import glue  # optional dependency: only chapters need it

    return glue


def glue_numbers(prefix: str, values: dict) -> None:
    """Glue each ``values[key]`` as ``f"{prefix}_{key}"`` (``prefix=""``: the key alone)."""
    glue = _glue()
    for key, value in values.items():
        glue(f"{prefix}_{key}" if prefix else key, plain(value), display=False)


def plain(value):
    """A numpy scalar as the Python number it holds: the book formats a glued value from its
    text, and ``np.float64(0.5)`` (numpy >= 2's repr) is not a number to ``{glue:text}``."""
    return value.item() if isinstance(value, np.generic) else value


def glue_figure(name: str, figure) -> None:
    """Glue a matplotlib figure under ``name`` and close it (the book shows the glued copy)."""
    _glue()(name, figure, display=False)
    plt.close(figure)


@dataclass(frozen=True)
class Note:
    """A line of Markdown that Jupyter, Colab and the book render as Markdown (plain text
    elsewhere), without importing IPython."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def profile_note(profile) -> Note:
    """The line at the top of a chapter that says which profile computed its numbers."""
    settings = profiles.get(profile)
    return Note(
        f"**Profile `{settings.name}`**: {settings.description} "
        f"({settings.runs_on}; datasets: {', '.join(settings.datasets)})."
    )
