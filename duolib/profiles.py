"""The profiles of the book: one code path, several sizes.

A profile changes data, zoo and budgets, never the logic. Notebooks take the profile name as their
papermill parameter, resolved by ``choose`` (the parameter, else ``$DUOLIB_PROFILE``, else
``colab`` on a GPU and ``demo`` on a CPU), and ask this module for everything that depends on
it. Every public duolib function that depends on a profile takes its name or a ``Profile`` and
resolves it once, with ``get``; internal functions receive the ``Profile``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from . import cache, zoo
from .members import parse, replicas


@dataclass(frozen=True)
class Recipe:
    """LP-FT fine-tuning (the paper's Appendix A.2) and, for the demo zoo, pretraining.

    Learning rate and weight decay of the fine-tuning phase are searched log-uniformly in
    ``lr_range`` x ``wd_range`` over ``trials`` trials (the first trial takes the geometric
    centre of both ranges), the best trial by validation score (``select_by``) is kept.

    The linear probe runs at ``lp_lr`` with a warm-up/cosine schedule, unless ``lp_lr_range`` is
    set: then, as the released code (train/hp_tune.py), ``lp_trials`` probes at learning rates
    drawn log-uniformly from that range (the first at its geometric centre), each at a constant
    rate, and the best by validation score initialises fine-tuning.
    """

    batch_size: int = 128
    lp_epochs: int = 8
    lp_lr: float = 1e-3
    ft_epochs: int = 16
    warmup_fraction: float = 0.1  # of the fine-tuning steps, linear warm-up before cosine
    lr_range: tuple[float, float] = (1e-6, 3e-4)
    wd_range: tuple[float, float] = (1e-8, 1e-5)
    trials: int = 4
    # (num_ops, magnitude) during fine-tuning; None: no RandAugment.
    randaugment: tuple[int, int] | None = (2, 9)
    # A random horizontal flip after RandAugment (the released code's).
    hflip: bool = field(default=False, metadata=cache.NEW_SETTING)
    lp_lr_range: tuple[float, float] | None = field(default=None, metadata=cache.NEW_SETTING)
    lp_trials: int = field(default=4, metadata=cache.NEW_SETTING)
    # The validation score that picks epochs and trials: "accuracy", or "macro_f1" (iWildCam's
    # headline metric, as the released code selects it there).
    select_by: str = field(default="accuracy", metadata=cache.NEW_SETTING)
    pretrain_epochs: int = 0  # 0: models come pretrained (torchvision/timm weights)
    pretrain_lr: float = 4e-3
    pretrain_wd: float = 0.05
    eval_batch_size: int = 512  # images per batch when the bank computes logits


@dataclass(frozen=True)
class Baselines:
    """What the baseline chapters train and compare (the paper's Sections 5.5-5.6, Appendix E-F).

    ``ensemble_members`` are bank names (``duolib.members``): on profiles that train their own
    zoo, independently trained replicas ``arch@k``; on ``paper``, ten published ResNet-50
    checkpoints evaluated on ``ensemble_dataset``. IVON's settings follow the ivon-opt README
    (learning rate around 0.1, effective sample size = training set size, beta2 = 0.99999).
    """

    soup_model: str
    soup_ingredients: int
    ensemble_members: tuple[str, ...]
    ensemble_sizes: tuple[int, ...]
    # Where soups, IVON and Laplace are trained and compared (the paper: Caltech 256), and where
    # the deep ensembles are (the paper: ImageNet); None: the profile's first dataset.
    dataset: str | None = field(default=None, metadata=cache.NEW_SETTING)
    ensemble_dataset: str | None = None
    ensemble_subsets: int = 32  # random subsets of each size (fewer if fewer exist)
    # Sidekicks of Table 1's Duos; empty: every zoo model cheaper than the ensemble's base.
    ensemble_sidekicks: tuple[str, ...] = ()
    ivon_model: str = ""
    ivon_samples: tuple[int, ...] = (2, 4, 8, 16, 32)
    ivon_lr: float = 0.1
    ivon_hess_init: float = 0.1
    ivon_weight_decay: float = 1e-4
    ivon_repeats: int = 4  # independent draws of each sample count, for mean +- std
    # Fine-tuning epochs of IVON (None: the recipe's ft_epochs) and where it starts: from the
    # linear probe like AdamW ("linear_probe"), or from the AdamW fine-tuned model
    # ("finetuned", as the released train/ivon_train.py does when that checkpoint exists).
    ivon_epochs: int | None = None
    ivon_start: str = "linear_probe"
    laplace_model: str = ""
    # Duos shown beside the Bayesian baselines: FLOPs balance in [low, high). Table 3 (IVON)
    # takes every Duo of the base model below balance 1 ("[1,2)" in its compute column);
    # Table 4 (Laplace) only 0.1 < FB < 0.3 (Appendix F.2).
    ivon_duo_balance: tuple[float, float] = (0.0, 1.0)
    laplace_duo_balance: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    runs_on: str
    expected_minutes: str
    seed: int = 0
    # Every dataset the Duo chapters score, in the paper's order (ImageNet, Caltech 256,
    # iWildCam); each brings its own test and, where it has one, OOD split.
    datasets: tuple[str, ...] = ("glyphs",)
    pretrain_dataset: str | None = "glyphs-pretrain"
    # Images per split of the generated benchmark ("pretrain_*" for the pretraining task).
    glyph_split_sizes: dict = field(default_factory=dict)
    # Where the paper's datasets and weights come from. None: from disk, ``$DUOLIB_DATA`` and
    # ``$DUOLIB_WEIGHTS`` (or the hubs). A dict of sizes: tiny folders in the datasets' real
    # formats that ``duolib.data.fake`` generates, and randomly initialised weights files that
    # ``zoo.write_weights`` writes -- the same loaders and builders, fed generated files.
    generated_data: dict | None = field(default=None, metadata=cache.NEW_SETTING)
    zoo: tuple[str, ...] = ()
    large_models: tuple[str, ...] = ()
    # The candidate sidekicks of "Which sidekick?" (``duolib.sidekick``): bank names, the zoo's
    # models and others that differ from them in training (another seed ``@k``, no pretraining
    # ``:scratch``) or family at about equal FLOPs. Empty: the zoo.
    sidekick_candidates: tuple[str, ...] = field(default=(), metadata=cache.NEW_SETTING)
    recipe: Recipe = Recipe()
    # Per-dataset changes to the recipe (the paper trains iWildCam with other settings).
    dataset_recipes: dict = field(default_factory=dict)
    baselines: Baselines | None = None
    # Batch size and timed repeats of the throughput appendix (duolib.throughput).
    throughput: tuple[int, int] = field(default=(128, 10), metadata=cache.NEW_SETTING)
    # The GPU the zoo chapter estimates the profile's training time on (duolib.estimate.GPUS);
    # None: a CPU profile, no estimate. Changes no result, so it is in no cache key (repr=False).
    gpu: str | None = field(default=None, repr=False)

    def recipe_for(self, dataset: str) -> Recipe:
        return self.dataset_recipes.get(dataset, self.recipe)

    @property
    def baseline_dataset(self) -> str:
        """Where soups, IVON and Laplace are trained (the paper: Caltech 256)."""
        return (self.baselines and self.baselines.dataset) or self.datasets[0]

    @property
    def ensemble_dataset(self) -> str:
        """Where the deep ensembles are evaluated (the paper: ImageNet)."""
        return (self.baselines and self.baselines.ensemble_dataset) or self.datasets[0]


# The paper's datasets (Section 4): ImageNet (ImageNet-V2 is its OOD split), Caltech 256, and
# iWildCam (ID and OOD test).
PAPER_DATASETS = ("imagenet", "caltech256", "iwildcam")
# Sidekicks that differ from the zoo's in training only: another fine-tuning seed, and the same
# architecture trained on the task without its published weights.
_VARIANTS = ("mnasnet0_75@1", "mnasnet0_75:scratch", "efficientnet_b2@1", "efficientnet_b2:scratch")

PROFILES = {
    "smoke": Profile(
        name="smoke",
        description="the same code paths at toy size, for CI",
        runs_on="any CPU, offline",
        expected_minutes="under 1 per chapter",
        # The least data and pretraining that gives models better than chance (measurements in
        # benchmarks/results/profile-sizes.md).
        glyph_split_sizes={"train": 2048, "val": 256, "test": 256, "ood": 256},
        zoo=("shufflenet_mini", "lenet", "resnet_mini"),
        large_models=("resnet_mini",),
        sidekick_candidates=("shufflenet_mini", "lenet", "lenet@1", "lenet:scratch"),
        throughput=(128, 3),
        recipe=Recipe(
            batch_size=64,
            lp_epochs=1,
            lp_lr=1e-2,
            ft_epochs=1,
            lr_range=(1e-3, 4e-3),
            wd_range=(1e-4, 5e-2),
            trials=2,
            randaugment=(2, 5),
            pretrain_epochs=3,
        ),
        baselines=Baselines(
            soup_model="resnet_mini",
            soup_ingredients=3,
            ensemble_members=replicas("resnet_mini", 3),
            ensemble_sizes=(2, 3),
            ensemble_subsets=4,
            ivon_model="resnet_mini",
            ivon_samples=(2, 4),
            ivon_repeats=2,
            ivon_lr=1.0,  # the demo's choice
            ivon_hess_init=1.0,
            laplace_model="resnet_mini",
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
        # Per FLOPs bin, the pretrained-then-fine-tuned model, the same architecture from
        # scratch, another seed, and another family (LeNet) at about the same FLOPs.
        sidekick_candidates=(
            "shufflenet_mini",
            "lenet",
            "lenet@1",
            "lenet:scratch",
            "resnet_micro",
            "lenet_wide",
            "resnet_mini",
            "resnet_mini@1",
            "resnet_mini:scratch",
            "lenet_wider",
            "resnet_small",
            "resnet_small@1",
            "resnet_small:scratch",
        ),
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
        baselines=Baselines(
            soup_model="resnet_small",
            soup_ingredients=5,
            ensemble_members=replicas("resnet_small", 5),
            ensemble_sizes=(2, 3, 4, 5),
            ivon_model="resnet_small",
            ivon_samples=(2, 4, 8, 16, 32),
            ivon_repeats=2,
            # Chosen by validation accuracy (benchmarks/results/profile-sizes.md).
            ivon_lr=1.0,
            ivon_hess_init=1.0,
            laplace_model="resnet_small",
        ),
    ),
    "paper": Profile(
        name="paper",
        description=(
            "the paper's datasets and pretrained torchvision/timm models, LP-FT on GPU "
            "(needs the datasets on disk and internet for the weights)"
        ),
        runs_on="GPU with internet (or DUOLIB_WEIGHTS)",
        expected_minutes="hours in total, resumable",
        datasets=PAPER_DATASETS,
        pretrain_dataset=None,
        zoo=zoo.names(),
        # The paper's sidekicks, and two of them again from another seed and from scratch.
        sidekick_candidates=zoo.SIDEKICK_MODELS + _VARIANTS,
        large_models=(
            "convnext_base",
            "swin_v2_b",
            "tf_efficientnetv2_l.in21k_ft_in1k",
            "vit_base_patch16_clip_224.laion2b_ft_in12k_in1k",
        ),
        # Appendix A.2, and the released train/hp_tune.py where the paper is silent: the linear
        # probe searches its learning rate log-uniformly in [1e-4, 1e-2] at a constant rate.
        recipe=Recipe(hflip=True, lp_lr_range=(1e-4, 1e-2)),
        throughput=(64, 10),
        gpu="a100",
        # Appendix A.2: iWildCam uses batch size 16 and 12 fine-tuning epochs; the released
        # code selects its epochs and trials by macro-F1.
        dataset_recipes={
            "iwildcam": Recipe(
                batch_size=16,
                ft_epochs=12,
                hflip=True,
                lp_lr_range=(1e-4, 1e-2),
                select_by="macro_f1",
            )
        },
        baselines=Baselines(
            dataset="caltech256",
            # Section 5.5 / A.4: sixteen ConvNeXt-Base fine-tunes on Caltech 256.
            soup_model="convnext_base",
            soup_ingredients=16,
            # Section 5.6 / A.5: ten ResNet-50 checkpoints on ImageNet, m = 2..5 and 8.
            ensemble_members=zoo.ENSEMBLE_CHECKPOINTS,
            ensemble_sizes=(2, 3, 4, 5, 8),
            ensemble_dataset="imagenet",
            ensemble_sidekicks=("mnasnet0_75", "shufflenet_v2_x2_0", "efficientnet_b2"),
            # Appendix F: IVON on ResNet-50, Laplace on Swin-V2-S with 0.1 < FB < 0.3 Duos.
            # The paper does not give IVON's settings; these are the released
            # train/ivon_train.py's: lr 1e-3, ivon-opt's defaults (hess_init 1, weight decay
            # 1e-4), 36 epochs from the AdamW fine-tuned checkpoint.
            ivon_model="resnet50",
            ivon_repeats=4,
            ivon_lr=1e-3,
            ivon_hess_init=1.0,
            ivon_weight_decay=1e-4,
            ivon_epochs=36,
            ivon_start="finetuned",
            laplace_model="swin_v2_s",
            laplace_duo_balance=(0.1, 0.3),
        ),
    ),
}

# The paper's method on what a Colab user can get: Caltech 256 (torchvision downloads it) and a
# small zoo of pretrained torchvision models: ResNet-50 as f_large (Table 1's) with sidekicks at
# FLOPs balances from 0.025 to 0.44, Table 1's three among them. LP-FT is the paper's recipe
# with fewer epochs and one trial, so the zoo fits in about an hour on one T4
# (``duolib.estimate``; the zoo chapter prints the estimate before training). Baselines: a soup
# and deep ensembles of ResNet-50 fine-tunes, IVON and last-layer Laplace, all on Caltech 256.
PROFILES["colab"] = replace(
    PROFILES["paper"],
    name="colab",
    description=(
        "the paper's method on Caltech 256 with six pretrained torchvision models, sized for one "
        "Colab GPU (downloads the dataset and the weights)"
    ),
    runs_on="one Colab GPU (T4) with internet",
    expected_minutes="about an hour for the zoo, then minutes per chapter",
    datasets=("caltech256",),
    zoo=(
        "resnet50",
        "mnasnet0_5",
        "mnasnet0_75",
        "shufflenet_v2_x2_0",
        "efficientnet_b2",
        "resnet18",
    ),
    large_models=("resnet50",),
    sidekick_candidates=(
        "mnasnet0_5",
        "mnasnet0_75",
        "shufflenet_v2_x2_0",
        "efficientnet_b2",
        "resnet18",
        *_VARIANTS,
    ),
    recipe=replace(PROFILES["paper"].recipe, ft_epochs=4, trials=1),
    dataset_recipes={},
    throughput=(64, 10),
    gpu="t4",
    baselines=Baselines(
        dataset="caltech256",
        soup_model="resnet50",
        soup_ingredients=3,
        ensemble_members=replicas("resnet50", 3),
        ensemble_sizes=(2, 3),
        ensemble_dataset="caltech256",
        ensemble_subsets=4,
        ensemble_sidekicks=("mnasnet0_75", "shufflenet_v2_x2_0", "efficientnet_b2"),
        ivon_model="resnet50",
        ivon_samples=(2, 4, 8),
        ivon_repeats=2,
        laplace_model="resnet50",
        laplace_duo_balance=(0.1, 0.3),
    ),
)

# The paper profile's code path at toy size, for CI: the same datasets in their real on-disk
# formats (tiny generated folders), the same builders with randomly initialised weights files,
# Table 1's models. Only sizes differ from ``paper``; its numbers mean nothing.
_REHEARSAL_RECIPE = replace(
    PROFILES["paper"].recipe, batch_size=8, lp_epochs=1, ft_epochs=1, trials=1, eval_batch_size=16
)
PROFILES["paper-rehearsal"] = replace(
    PROFILES["paper"],
    name="paper-rehearsal",
    description=(
        "a rehearsal of the paper profile: its datasets' real formats as tiny generated folders, "
        "its architectures with random weights; every number is meaningless"
    ),
    runs_on="any CPU, offline",
    expected_minutes="about 1 per chapter",
    generated_data={"imagenet": 10, "imagenet-v2": 3, "caltech256": 10, "iwildcam": 8},
    zoo=("resnet50", "resnet50.a2_in1k", "mnasnet0_75", "shufflenet_v2_x2_0", "efficientnet_b2"),
    large_models=("resnet50",),
    sidekick_candidates=("mnasnet0_75", "mnasnet0_75@1", "mnasnet0_75:scratch", "efficientnet_b2"),
    recipe=_REHEARSAL_RECIPE,
    throughput=(4, 2),
    dataset_recipes={"iwildcam": replace(_REHEARSAL_RECIPE, batch_size=4, select_by="macro_f1")},
    baselines=Baselines(
        dataset="caltech256",
        soup_model="resnet50",
        soup_ingredients=3,
        ensemble_members=("resnet50", "resnet50.a2_in1k", "resnet50.am_in1k"),
        ensemble_sizes=(2, 3),
        ensemble_dataset="imagenet",
        ensemble_subsets=4,
        ensemble_sidekicks=("mnasnet0_75", "shufflenet_v2_x2_0", "efficientnet_b2"),
        ivon_model="resnet50",
        ivon_samples=(2, 4),
        ivon_repeats=2,
        # The paper profile's IVON path (from the fine-tuned model), at one epoch.
        ivon_lr=1e-3,
        ivon_hess_init=1.0,
        ivon_epochs=1,
        ivon_start="finetuned",
        laplace_model="resnet50",
        laplace_duo_balance=(0.1, 0.3),
    ),
)


def choose(profile: str | Profile | None = None) -> str:
    """The name of the profile a chapter runs on: ``profile`` if given, else ``$DUOLIB_PROFILE``,
    else ``colab`` where a CUDA GPU is present and ``demo`` on a CPU (the README's default)."""
    if isinstance(profile, Profile):
        return profile.name
    name = profile or os.environ.get("DUOLIB_PROFILE")
    if not name:
        name = "colab" if torch.cuda.is_available() else "demo"
    return get(name).name


def get(profile: str | Profile | None = None) -> Profile:
    """The profile ``profile`` names (default: :func:`choose`'s: ``$DUOLIB_PROFILE``, else
    ``colab`` on a GPU and ``demo`` on a CPU).

    A ``Profile`` is returned as it is, so public functions can accept either.
    """
    if isinstance(profile, Profile):
        return profile
    name = choose() if profile is None else profile
    if not isinstance(name, str) or name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]


_WEIGHTS_DIRS: dict[str, Path] = {}


def weights_dir(profile: str | Profile | None = None) -> Path | None:
    """Where ``zoo.build(..., pretrained=True)`` reads weights files for this profile.

    A profile with ``generated_data`` gets randomly initialised weights files for every
    architecture it uses, written once into the cache (so the pretrained path runs offline,
    exactly as with ``$DUOLIB_WEIGHTS``); other profiles get None: ``$DUOLIB_WEIGHTS`` if set,
    else the hubs.
    """
    settings = get(profile)
    if settings.generated_data is None:
        return None
    if settings.name not in _WEIGHTS_DIRS:
        b = settings.baselines
        used = settings.zoo + (b.ensemble_members if b else ())
        names = sorted({parse(name).architecture for name in used})
        directory = cache.root() / "weights" / cache.key("random weights", names, settings.seed)
        cache.build_once(
            directory,
            lambda tmp: zoo.write_weights(tmp, names, seed=settings.seed),
            what="random weights files",
        )
        _WEIGHTS_DIRS[settings.name] = directory
    return _WEIGHTS_DIRS[settings.name]
