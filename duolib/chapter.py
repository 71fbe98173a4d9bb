"""What every chapter does with its results: glue numbers and figures for the book.

Chapters glue computed values for the book's ``{glue:text}`` roles and glued figures; these
helpers do it in one line per group of values. They need ``myst-nb`` (the ``book`` extra).
"""

from __future__ import annotations

import matplotlib.pyplot as plt


def _glue():
    from myst_nb import glue  # optional dependency: only chapters need it

    return glue


def glue_numbers(prefix: str, values: dict) -> None:
    """Glue each ``values[key]`` as ``f"{prefix}_{key}"`` (``prefix=""``: the key alone)."""
    glue = _glue()
    for key, value in values.items():
        glue(f"{prefix}_{key}" if prefix else key, value, display=False)


def glue_figure(name: str, figure) -> None:
    """Glue a matplotlib figure under ``name`` and close it (the book shows the glued copy)."""
    _glue()(name, figure, display=False)
    plt.close(figure)
