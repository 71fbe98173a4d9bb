"""The model zoo of the paper (Appendix A.1): architectures, compute and published accuracy.

Nothing here downloads anything. torchvision models are described by torchvision's own weight
metadata, which ships inside the torchvision package; the two timm models' compute was measured
once by ``scripts/measure_timm_flops.py`` into ``duolib/data/timm_models.csv``.

GFLOPs follow torchvision's convention (multiply-accumulates, ResNet-50 = 4.089); see
``duolib.flops``.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd
import timm
import torch
import torchvision
from torchvision.models import get_model_weights, list_models

from .architectures import DEMO_ARCHITECTURES, build_demo
from .flops import count_gflops, count_params
from .members import parse

# The four f_large of the paper (Section 4) and ResNet-50, the base model of Tables 1-3.
LARGE_MODELS = (
    "convnext_base",
    "swin_v2_b",
    "tf_efficientnetv2_l.in21k_ft_in1k",
    "vit_base_patch16_clip_224.laion2b_ft_in1k",
)
# Sidekick families of Appendix A.1 (torchvision), smallest members first.
SIDEKICK_MODELS = (
    "mnasnet0_5",
    "mnasnet0_75",
    "mnasnet1_0",
    "mnasnet1_3",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_v2_s",
    "regnet_y_400mf",
    "regnet_y_800mf",
    "regnet_y_1_6gf",
    "regnet_y_3_2gf",
    "regnet_x_400mf",
    "regnet_x_1_6gf",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnext50_32x4d",
    "convnext_tiny",
    "convnext_small",
    "swin_t",
    "swin_s",
    "swin_v2_t",
    "swin_v2_s",
)
# Ten published ResNet-50 checkpoints (torchvision's DEFAULT and nine timm recipes): the members
# of the paper's deep ensembles (Appendix A.5: "10 independently trained ResNet-50 checkpoints
# from timm and torchvision"), evaluated on ImageNet with their own heads.
ENSEMBLE_CHECKPOINTS = (
    "resnet50",
    "resnet50.a1_in1k",
    "resnet50.a2_in1k",
    "resnet50.ram_in1k",
    "resnet50.b1k_in1k",
    "resnet50.b2k_in1k",
    "resnet50.c1_in1k",
    "resnet50.c2_in1k",
    "resnet50.d_in1k",
    "resnet50.tv_in1k",
)
TIMM_MODELS = tuple(name for name in LARGE_MODELS + ENSEMBLE_CHECKPOINTS if "." in name)
# What each timm model was pretrained on (the paper's "weights tag"), from its timm name.
_TIMM_PRETRAINING = {
    "tf_efficientnetv2_l.in21k_ft_in1k": "ImageNet-21k, fine-tuned on ImageNet-1k",
    "vit_base_patch16_clip_224.laion2b_ft_in1k": "CLIP on LAION-2B, fine-tuned on ImageNet-1k",
    **{
        name: f"ImageNet-1k, timm recipe {name.split('.')[1].removesuffix('_in1k')}"
        for name in ENSEMBLE_CHECKPOINTS
        if "." in name
    },
}

_FAMILY_PATTERNS = (
    ("EfficientNet-V2", r"efficientnet_?v2"),
    ("EfficientNet", r"efficientnet"),
    ("MobileNet", r"mobilenet"),
    ("MNASNet", r"mnasnet"),
    ("ShuffleNet-V2", r"shufflenet"),
    ("SqueezeNet", r"squeezenet"),
    ("RegNet", r"regnet"),
    ("Wide ResNet", r"wide_resnet"),
    ("ResNeXt", r"resnext"),
    ("ResNet", r"resnet"),
    ("DenseNet", r"densenet"),
    ("VGG", r"vgg"),
    ("ConvNeXt", r"convnext"),
    ("Swin-V2", r"swin_v2"),
    ("Swin", r"swin"),
    ("MaxViT", r"maxvit"),
    ("ViT", r"vit"),
    ("Inception", r"inception|googlenet"),
    ("AlexNet", r"alexnet"),
)


def family_of(name: str) -> str:
    """The architecture family of a torchvision or timm model name ('resnet50' -> 'ResNet')."""
    for family, pattern in _FAMILY_PATTERNS:
        if re.search(pattern, name):
            return family
    return "other"


@dataclass(frozen=True)
class ZooEntry:
    name: str
    source: str  # "torchvision" or "timm"
    weights: str  # torchvision weights enum member, or the timm pretrained tag
    family: str
    gflops: float  # giga multiply-accumulates per image at input_size
    params: int
    input_size: int
    imagenet_top1: float  # percent, NaN where the source publishes none
    role: str  # "large", "sidekick", or "not in the paper's zoo" (catalog only)


@dataclass(frozen=True)
class Preprocessing:
    """How a model's images are prepared at evaluation: resize the short side to
    ``resize_size`` (``interpolation``), centre-crop ``crop_size``, scale to [0, 1], then
    normalise with ``mean``/``std``. The data pipeline does the resize and crop (uint8 images);
    the training runtime normalises on the device."""

    resize_size: int
    crop_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"  # "bilinear" or "bicubic"


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@cache
def _torchvision_entry(name: str) -> ZooEntry:
    weights = get_model_weights(name).DEFAULT
    meta = weights.meta
    return ZooEntry(
        name=name,
        source="torchvision",
        weights=f"{type(weights).__name__}.{weights.name}",
        family=family_of(name),
        gflops=float(meta["_ops"]),
        params=int(meta["num_params"]),
        input_size=int(weights.transforms().crop_size[0]),
        imagenet_top1=float(meta["_metrics"]["ImageNet-1K"]["acc@1"]),
        role=_role(name),
    )


def _role(name: str) -> str:
    if name in LARGE_MODELS:
        return "large"
    return "sidekick" if name in SIDEKICK_MODELS else "not in the paper's zoo"


@cache
def _timm_table() -> dict[str, dict[str, str]]:
    path = resources.files("duolib") / "data" / "timm_models.csv"
    with path.open() as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def _timm_entry(name: str) -> ZooEntry:
    row = _timm_table()[name]
    return ZooEntry(
        name=name,
        source="timm",
        weights=f"{name} ({_TIMM_PRETRAINING[name]})",
        family=family_of(name.split(".")[0]),
        gflops=float(row["gflops"]),
        params=int(row["params"]),
        input_size=int(row["input_size"]),
        imagenet_top1=math.nan,  # timm's wheel ships no accuracy table
        role="large" if name in LARGE_MODELS else "ensemble member",
    )


def names() -> tuple[str, ...]:
    """Every model of the paper's zoo, f_large first."""
    return LARGE_MODELS + tuple(n for n in SIDEKICK_MODELS if n not in LARGE_MODELS)


@cache
def _demo_entry(name: str) -> ZooEntry:
    model = build_demo(name, num_classes=48)
    return ZooEntry(
        name=name,
        source="duolib demo zoo",
        weights=DEMO_ARCHITECTURES[name].note,
        family=DEMO_ARCHITECTURES[name].family,
        gflops=count_gflops(model, (3, 32, 32)),
        params=count_params(model),
        input_size=32,
        imagenet_top1=math.nan,
        role="demo",
    )


def get(name: str) -> ZooEntry:
    """The zoo entry of a model, e.g. ``get("resnet50").gflops == 4.089``.

    Accepts the bank's member names too (``"resnet50@2:ivon"`` -> resnet50's entry).

    Paper models carry published numbers; demo models (``duolib.architectures``) are measured
    at 32x32 with ``duolib.flops`` (48-class head).
    """
    if not isinstance(name, str):
        raise ValueError(f"a model name must be a string, got {name!r}; {_accepted()}")
    try:
        architecture = parse(name).architecture  # replicas and variants share the architecture
    except ValueError as err:
        raise ValueError(f"{err}; {_accepted()}") from None
    if architecture in TIMM_MODELS:
        return _timm_entry(architecture)
    if architecture in LARGE_MODELS or architecture in SIDEKICK_MODELS:
        return _torchvision_entry(architecture)
    if architecture in DEMO_ARCHITECTURES:
        return _demo_entry(architecture)
    raise ValueError(f"unknown model {name!r}; {_accepted()}")


def known_names() -> tuple[str, ...]:
    """Every architecture ``get`` and ``build`` accept: the paper's zoo, its ensemble
    checkpoints and the demo zoo."""
    extra = tuple(n for n in ENSEMBLE_CHECKPOINTS if n not in names())
    return names() + extra + tuple(DEMO_ARCHITECTURES)


def _accepted() -> str:
    return (
        f"accepted architectures: {', '.join(known_names())} "
        "(each optionally followed by @replica and :method, e.g. resnet50@2:ivon)"
    )


def classifier(model):
    """The final linear layer of a model (what a linear probe trains)."""
    if hasattr(model, "get_classifier"):  # timm models and the demo LeNet
        return model.get_classifier()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear classifier")
    return linears[-1]


def replace_classifier(model, num_classes: int):
    """Swap the model's final linear layer for a fresh ``num_classes``-way one (in place)."""
    if hasattr(model, "reset_classifier"):
        model.reset_classifier(num_classes)
        return model
    head = classifier(model)
    for parent in model.modules():
        for child_name, child in parent.named_children():
            if child is head:
                new_head = torch.nn.Linear(head.in_features, num_classes)
                setattr(parent, child_name, new_head)
                return model
    raise ValueError(f"could not replace the classifier of {type(model).__name__}")


def build(name: str, num_classes: int, pretrained: bool = False):
    """A model of the zoo with a fresh ``num_classes``-way head.

    ``pretrained=True`` loads the paper's weights (torchvision DEFAULT, or the timm tag); that
    downloads them on first use, so only the ``paper`` profile asks for it. Demo models are
    pretrained by ``duolib.train`` on the generated pretraining task instead.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if name in DEMO_ARCHITECTURES:
        if pretrained:
            raise ValueError(
                f"{name!r} is a demo architecture: it has no published weights; "
                "duolib.train.pretrain builds its pretrained checkpoint"
            )
        return build_demo(name, num_classes)
    if name in TIMM_MODELS:
        return timm.create_model(name, pretrained=pretrained, num_classes=num_classes)
    if name in LARGE_MODELS or name in SIDEKICK_MODELS:
        weights = "DEFAULT" if pretrained else None
        model = torchvision.models.get_model(name, weights=weights)
        return replace_classifier(model, num_classes)
    get(name)  # raises the unknown-model error
    raise AssertionError("unreachable")


def flops_balance(large: str, small: str) -> float:
    """FLOPs(f_small) / FLOPs(f_large): the extra compute of a Duo over f_large alone."""
    return get(small).gflops / get(large).gflops


def sidekicks(large: str, candidates, balance=(0.0, 1.0)) -> list[str]:
    """The ``candidates`` that can be ``large``'s sidekick: another architecture, cheaper than
    it, with a FLOPs balance in ``[low, high)`` (in the order given)."""
    low, high = balance
    large_entry = get(large)
    return [
        small
        for small in candidates
        if get(small).name != large_entry.name
        and get(small).gflops < large_entry.gflops
        and low <= flops_balance(large, small) < high
    ]


def balance_ladder(larges=LARGE_MODELS, candidates=SIDEKICK_MODELS) -> pd.DataFrame:
    """Every Duo of ``larges`` with a cheaper ``candidates`` model: its FLOPs balance and the
    sidekick's family (one row each)."""
    return pd.DataFrame(
        [
            {
                "f_large": large,
                "sidekick": small,
                "FLOPs balance": flops_balance(large, small),
                "sidekick family": get(small).family,
            }
            for large in larges
            for small in sidekicks(large, candidates)
        ]
    )


def torchvision_catalog():
    """Every torchvision ImageNet classifier with its DEFAULT weights' published numbers.

    A pandas DataFrame with name, family, gflops, params, imagenet_top1, in_paper_zoo. Read from
    the metadata bundled in torchvision: no download.
    """
    rows = []
    for name in list_models(module=torchvision.models):
        entry = _torchvision_entry(name)
        rows.append(
            {
                "name": name,
                "family": entry.family,
                "gflops": entry.gflops,
                "params": entry.params,
                "imagenet_top1": entry.imagenet_top1,
                "in_paper_zoo": name in LARGE_MODELS or name in SIDEKICK_MODELS,
            }
        )
    return pd.DataFrame(rows)
