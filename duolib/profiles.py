"""The three profiles of the book: one code path, three sizes.

A profile changes data, zoo and budgets, never the logic. Notebooks take the profile name as their
papermill parameter (``DUOLIB_PROFILE`` when run by nbmake) and ask this module for everything
that depends on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    """LP-FT fine-tuning (the paper's Appendix A.2) and, for the demo zoo, pretraining.

    Learning rate and weight decay of the fine-tuning phase are searched log-uniformly in
    ``lr_range`` x ``wd_range`` over ``trials`` trials (the first trial takes the geometric
    centre of both ranges), the best trial by validation accuracy is kept.
    """

    batch_size: int = 128
    lp_epochs: int = 8
    lp_lr: float = 1e-3
    ft_epochs: int = 16
    warmup_fraction: float = 0.1  # of the fine-tuning steps, linear warm-up before cosine
    lr_range: tuple[float, float] = (1e-6, 3e-4)
    wd_range: tuple[float, float] = (1e-8, 1e-5)
    trials: int = 4
    randaugment: tuple[int, int] = (2, 9)  # (num_ops, magnitude) during fine-tuning
    pretrain_epochs: int = 0  # 0: models come pretrained (torchvision/timm weights)
    pretrain_lr: float = 4e-3
    pretrain_wd: float = 0.05
    eval_batch_size: int = 512  # images per batch when the bank computes logits


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    runs_on: str
    expected_minutes: str
    seed: int = 0
    dataset: str = "glyphs"
    pretrain_dataset: str | None = "glyphs-pretrain"
    # Images per split of the generated benchmark ("pretrain_*" for the pretraining task).
    glyph_split_sizes: dict = field(default_factory=dict)
    zoo: tuple[str, ...] = ()
    large_models: tuple[str, ...] = ()
    recipe: Recipe = Recipe()
    # Per-dataset changes to the recipe (the paper trains iWildCam with other settings).
    dataset_recipes: dict = field(default_factory=dict)

    def recipe_for(self, dataset: str) -> Recipe:
        return self.dataset_recipes.get(dataset, self.recipe)


PROFILES = {
    "smoke": Profile(
        name="smoke",
        description="the same code paths at toy size, for CI",
        runs_on="any CPU, offline",
        expected_minutes="under 1 per chapter",
        glyph_split_sizes={"train": 768, "val": 256, "test": 256, "ood": 256},
        zoo=("shufflenet_mini", "lenet", "resnet_mini"),
        large_models=("resnet_mini",),
        recipe=Recipe(
            batch_size=64,
            lp_epochs=1,
            lp_lr=1e-2,
            ft_epochs=1,
            lr_range=(1e-3, 4e-3),
            wd_range=(1e-4, 5e-2),
            trials=2,
            randaugment=(2, 5),
            pretrain_epochs=1,
        ),
    ),
    "demo": Profile(
        name="demo",
        description="the offline benchmark that duolib generates and a zoo trained on CPU",
        runs_on="2 CPU cores, offline",
        expected_minutes="a few per chapter",
        glyph_split_sizes={"train": 12000, "val": 3000, "test": 5000, "ood": 5000},
        zoo=(
            "shufflenet_mini",
            "lenet",
            "resnet_micro",
            "resnet_mini",
            "resnet_small",
            "resnet18_32px",
        ),
        large_models=("resnet18_32px", "resnet_small"),
        recipe=Recipe(
            batch_size=128,
            lp_epochs=1,
            lp_lr=1e-2,
            ft_epochs=4,
            lr_range=(1e-3, 4e-3),
            wd_range=(1e-4, 5e-2),
            trials=1,
            randaugment=(2, 5),
            pretrain_epochs=4,
        ),
    ),
    "paper": Profile(
        name="paper",
        description=(
            "the paper's datasets and pretrained torchvision/timm models, LP-FT on GPU "
            "(needs the datasets on disk and internet for the weights)"
        ),
        runs_on="GPU with internet",
        expected_minutes="hours in total, resumable",
        dataset="caltech256",
        pretrain_dataset=None,
        large_models=(
            "convnext_base",
            "swin_v2_b",
            "tf_efficientnetv2_l.in21k_ft_in1k",
            "vit_base_patch16_clip_224.laion2b_ft_in1k",
        ),
        recipe=Recipe(),
        # Appendix A.2: iWildCam uses batch size 16 and 12 fine-tuning epochs.
        dataset_recipes={"iwildcam": Recipe(batch_size=16, ft_epochs=12)},
    ),
}


def get(name: str | None = None) -> Profile:
    """The profile called ``name`` (default: ``$DUOLIB_PROFILE``, else ``smoke``)."""
    name = name or os.environ.get("DUOLIB_PROFILE", "smoke")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    profile = PROFILES[name]
    if name == "paper" and not profile.zoo:
        from . import zoo  # the paper's zoo is the registry of duolib.zoo

        profile = Profile(**{**vars(profile), "zoo": zoo.names()})
    return profile
