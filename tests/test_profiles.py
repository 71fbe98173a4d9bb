"""Profiles change data, zoo and budgets, never the logic."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

import duolib as dl

PACKAGE = Path(dl.__file__).parent


def _profile_name_comparisons(path: Path):
    names = set(dl.profiles.PROFILES)
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for part in (node.left, *node.comparators):
                if isinstance(part, ast.Constant) and part.value in names:
                    yield f"{path.name}:{node.lineno} compares with {part.value!r}"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if p.name != "profiles.py"),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_module_branches_on_a_profile_name(path):
    assert list(_profile_name_comparisons(path)) == []


def test_the_rehearsal_is_the_paper_profile_at_toy_size():
    paper, rehearsal = dl.profiles.get("paper"), dl.profiles.get("paper-rehearsal")
    assert rehearsal.datasets == paper.datasets == ("imagenet", "caltech256", "iwildcam")
    assert rehearsal.pretrain_dataset is paper.pretrain_dataset is None
    assert set(rehearsal.dataset_recipes) == set(paper.dataset_recipes)
    assert rehearsal.baseline_dataset == paper.baseline_dataset == "caltech256"
    assert rehearsal.ensemble_dataset == paper.ensemble_dataset == "imagenet"
    # Every model of the rehearsal is one of the paper's architectures (zoo or ensembles).
    paper_models = set(paper.zoo) | set(paper.baselines.ensemble_members)
    assert set(rehearsal.zoo) | set(rehearsal.baselines.ensemble_members) <= paper_models
    assert paper.generated_data is None and rehearsal.generated_data
    sizes_only = {"recipe", "dataset_recipes", "baselines", "zoo", "large_models", "throughput"}
    described = {"name", "description", "runs_on", "expected_minutes", "generated_data"}
    differing = {
        f.name for f in fields(paper) if getattr(paper, f.name) != getattr(rehearsal, f.name)
    }
    assert differing <= sizes_only | described


def test_unknown_profiles_are_named():
    with pytest.raises(ValueError, match="unknown profile 'papr'"):
        dl.profiles.get("papr")
