"""The three profiles of the book: one code path, three sizes.

A profile changes data, zoo and budgets, never the logic. Notebooks take the profile name as their
papermill parameter (``DUOLIB_PROFILE`` when run by nbmake) and ask this module for everything
that depends on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    # Where each chapter runs and how long it is expected to take there (shown in the chapters).
    runs_on: str
    expected_minutes: str


PROFILES = {
    "smoke": Profile(
        name="smoke",
        description="the same code paths at toy size, for CI",
        runs_on="any CPU, offline",
        expected_minutes="under 1 per chapter",
    ),
    "demo": Profile(
        name="demo",
        description="the offline benchmark that duolib ships and a zoo trained on CPU",
        runs_on="2 CPU cores, offline",
        expected_minutes="a few per chapter",
    ),
    "paper": Profile(
        name="paper",
        description=(
            "the paper's datasets and pretrained torchvision/timm models, LP-FT on GPU "
            "(needs the datasets on disk and internet for the weights)"
        ),
        runs_on="GPU with internet",
        expected_minutes="hours in total, resumable",
    ),
}


def get(name: str | None = None) -> Profile:
    """The profile called ``name`` (default: ``$DUOLIB_PROFILE``, else ``smoke``)."""
    name = name or os.environ.get("DUOLIB_PROFILE", "smoke")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]
