"""Profiles change data, zoo and budgets, never the logic."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import numpy as np
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
    sizes_only |= {"sidekick_candidates"}
    # The rehearsal's candidates are paper candidates: the same variants of the same models.
    assert set(rehearsal.sidekick_candidates) <= set(paper.sidekick_candidates)
    described = {"name", "description", "runs_on", "expected_minutes", "generated_data"}
    differing = {
        f.name for f in fields(paper) if getattr(paper, f.name) != getattr(rehearsal, f.name)
    }
    assert differing <= sizes_only | described


def test_unknown_profiles_are_named():
    with pytest.raises(ValueError, match="unknown profile 'papr'"):
        dl.profiles.get("papr")


def test_colab_is_the_paper_profile_on_caltech_with_a_small_pretrained_zoo():
    paper, colab = dl.profiles.get("paper"), dl.profiles.get("colab")
    assert colab.datasets == ("caltech256",) and colab.generated_data is None
    assert colab.baseline_dataset == colab.ensemble_dataset == "caltech256"
    assert set(colab.zoo) <= set(paper.zoo) and 5 <= len(colab.zoo) <= 6
    # Balances from about 0.02 to 0.5, Table 1's three sidekicks of ResNet-50 among them.
    (large,) = colab.large_models
    balances = sorted(dl.zoo.flops_balance(large, m) for m in colab.zoo if m != large)
    assert balances[0] < 0.03 and 0.4 < balances[-1] <= 0.5
    assert {"mnasnet0_75", "shufflenet_v2_x2_0", "efficientnet_b2"} <= set(colab.zoo)
    # The paper's recipe with fewer epochs and trials; the logic is paper's.
    assert colab.recipe.hflip and colab.recipe.lr_range == paper.recipe.lr_range
    assert colab.recipe.ft_epochs < paper.recipe.ft_epochs
    sizes_only = {"recipe", "dataset_recipes", "baselines", "zoo", "large_models", "datasets"}
    sizes_only |= {"sidekick_candidates"}
    assert set(colab.sidekick_candidates) <= set(paper.sidekick_candidates)
    described = {"name", "description", "runs_on", "expected_minutes", "gpu"}
    differing = {f.name for f in fields(paper) if getattr(paper, f.name) != getattr(colab, f.name)}
    assert differing <= sizes_only | described


def test_colab_zoo_runs_the_paper_path_on_fake_caltech(tmp_path, monkeypatch):
    """The colab zoo through the same loaders and builders as paper: generated Caltech 256
    folders in the real format, randomly initialised weights files at each model's own
    resolution, LP-FT with RandAugment, and the bank's logits."""
    from dataclasses import replace

    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    colab = dl.profiles.get("colab")
    tiny = replace(colab.recipe, batch_size=8, lp_epochs=1, ft_epochs=1, eval_batch_size=16)
    rehearsal = replace(
        colab, name="colab-rehearsal", generated_data={"caltech256": 4}, recipe=tiny
    )
    for model in rehearsal.zoo:
        logits, labels = dl.bank.logits("caltech256", model, "test", rehearsal)
        assert logits.ndim == 2 and logits.shape[0] == labels.shape[0] > 0
        assert np.isfinite(np.asarray(logits)).all()
