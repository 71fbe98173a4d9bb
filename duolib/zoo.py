"""The model zoo of the paper (Appendix A.1): architectures, compute, published accuracy,
evaluation preprocessing and pretrained weights.

The registry (``get``, ``preprocessing``, the catalog) downloads nothing: torchvision models are
described by torchvision's own weight metadata, which ships inside the torchvision package, and
timm models by the pretrained configs bundled with timm; the timm models' compute was measured
once by ``scripts/measure_timm_flops.py`` into ``duolib/data/timm_models.csv``.

Only ``build(..., pretrained=True)`` fetches weights, and only when no local weights directory is
given: with ``weights_dir`` or ``$DUOLIB_WEIGHTS`` set it reads ``<dir>/<architecture>.pth``
state dicts instead (``write_weights`` writes random ones with the published shapes, which is how
the paper rehearsal exercises that path offline).

GFLOPs follow torchvision's convention (multiply-accumulates, ResNet-50 = 4.089); see
``duolib.flops``.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd
import timm
import timm.data
import torch
import torchvision
from torchvision.models import get_model_weights, list_models

from .architectures import DEMO_ARCHITECTURES, build_demo
from .cache import atomic_save
from .flops import count_gflops, count_params
from .members import parse

# The four f_large of the paper (Section 4) and ResNet-50, the base model of Tables 1-3.
LARGE_MODELS = (
    "convnext_base",
    "swin_v2_b",
    "tf_efficientnetv2_l.in21k_ft_in1k",
    # The released plotting notebooks name this CLIP ViT (LAION-2B, then ImageNet-12k and -1k).
    "vit_base_patch16_clip_224.laion2b_ft_in12k_in1k",
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
# Ten published ResNet-50 checkpoints, the members of the paper's deep ensembles (Appendix A.5:
# "10 independently trained ResNet-50 checkpoints from timm and torchvision"), evaluated on
# ImageNet with their own heads. The paper names none; its members average 79.82% +- 0.51
# top-1, which excludes torchvision's V1 weights (resnet50.tv_in1k, 76.13%). These ten all take
# 224 px input by default (what the released transforms feed them); their published top-1
# (``imagenet_top1``, timm's results-imagenet.csv, partly measured at 288 px) averages 80.1%.
ENSEMBLE_CHECKPOINTS = (
    "resnet50",  # torchvision IMAGENET1K_V2
    "resnet50.a2_in1k",
    "resnet50.b1k_in1k",
    "resnet50.b2k_in1k",
    "resnet50.c1_in1k",
    "resnet50.ram_in1k",
    "resnet50.ra_in1k",
    "resnet50.bt_in1k",
    "resnet50.fb_ssl_yfcc100m_ft_in1k",
    "resnet50.am_in1k",
)
TIMM_MODELS = tuple(name for name in LARGE_MODELS + ENSEMBLE_CHECKPOINTS if "." in name)
# What each timm model was pretrained on (the paper's "weights tag"), from its timm name.
_TIMM_PRETRAINING = {
    "tf_efficientnetv2_l.in21k_ft_in1k": "ImageNet-21k, fine-tuned on ImageNet-1k",
    "vit_base_patch16_clip_224.laion2b_ft_in12k_in1k": (
        "CLIP on LAION-2B, fine-tuned on ImageNet-12k then ImageNet-1k"
    ),
    **{
        name: f"ImageNet-1k, timm recipe {name.split('.')[1].removesuffix('_in1k')}"
        for name in ENSEMBLE_CHECKPOINTS
        if "." in name
    },
    "resnet50.fb_ssl_yfcc100m_ft_in1k": (
        "semi-supervised on YFCC100M (Yalniz et al. 2019), fine-tuned on ImageNet-1k"
    ),
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
    the training runtime normalises on the device.

    ``crop_mode="squash"`` (timm's name) resizes both sides to ``resize_size`` instead, without
    keeping the aspect ratio, before the centre crop: tf_efficientnetv2_l was evaluated so."""

    resize_size: int
    crop_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"  # "bilinear" or "bicubic"
    crop_mode: str = "center"  # "center" or "squash"


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The directory of local ``<architecture>.pth`` state dicts that ``build`` loads instead of
# downloading, and the number of classes of every published head (ImageNet-1k).
WEIGHTS_ENV = "DUOLIB_WEIGHTS"
PUBLISHED_CLASSES = 1000


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
        # timm's wheel ships no accuracy table: published top-1 copied into the CSV, where known.
        imagenet_top1=float(row.get("imagenet_top1") or "nan"),
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
    architecture = _architecture(name)
    if architecture in TIMM_MODELS:
        return _timm_entry(architecture)
    if architecture in DEMO_ARCHITECTURES:
        return _demo_entry(architecture)
    return _torchvision_entry(architecture)


def _architecture(name: str) -> str:
    """The zoo architecture of a model or bank member name; ValueError for unknown names."""
    if not isinstance(name, str):
        raise ValueError(f"a model name must be a string, got {name!r}; {_accepted()}")
    try:
        architecture = parse(name).architecture  # replicas and variants share the architecture
    except ValueError as err:
        raise ValueError(f"{err}; {_accepted()}") from None
    if architecture not in known_names():
        raise ValueError(f"unknown model {name!r}; {_accepted()}")
    return architecture


def preprocessing(name: str) -> Preprocessing:
    """How ``name``'s evaluation images are resized, cropped and normalised: its published
    weights' own recipe (torchvision's ``weights.transforms()``, timm's pretrained config), or
    32x32 with ImageNet statistics for demo models. Accepts bank member names like ``get``."""
    architecture = _architecture(name)
    if architecture in TIMM_MODELS:
        return _timm_preprocessing(architecture)
    if architecture in DEMO_ARCHITECTURES:
        return Preprocessing(32, 32, IMAGENET_MEAN, IMAGENET_STD, "bilinear")
    return _torchvision_preprocessing(architecture)


@cache
def _torchvision_preprocessing(name: str) -> Preprocessing:
    transform = get_model_weights(name).DEFAULT.transforms()
    (resize,), (crop,) = transform.resize_size, transform.crop_size
    return Preprocessing(
        resize_size=int(resize),
        crop_size=int(crop),
        mean=tuple(float(m) for m in transform.mean),
        std=tuple(float(s) for s in transform.std),
        interpolation=transform.interpolation.value,
    )


@cache
def _timm_preprocessing(name: str) -> Preprocessing:
    config = timm.data.resolve_data_config(
        {}, pretrained_cfg=timm.get_pretrained_cfg(name).to_dict()
    )
    _, height, width = config["input_size"]
    crop_mode = config.get("crop_mode") or "center"
    if height != width or crop_mode not in ("center", "squash"):
        raise ValueError(
            f"{name}: timm evaluates it at {height}x{width} with crop_mode={crop_mode!r}; "
            "Preprocessing describes square crops in 'center' or 'squash' mode only"
        )
    # timm.data.transforms_factory.transforms_imagenet_eval's resize, floor included.
    crop_pct = config.get("crop_pct") or timm.data.DEFAULT_CROP_PCT
    return Preprocessing(
        resize_size=math.floor(width / crop_pct),
        crop_size=int(width),
        mean=tuple(float(m) for m in config["mean"]),
        std=tuple(float(s) for s in config["std"]),
        interpolation=config["interpolation"],
        crop_mode=crop_mode,
    )


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


def build(
    name: str, num_classes: int, pretrained: bool = False, weights_dir: str | Path | None = None
):
    """A model of the zoo for ``num_classes`` classes (bank member names give their
    architecture).

    Without ``pretrained`` the weights are random and the head is a fresh ``num_classes``-way
    one. ``pretrained=True`` loads the paper's weights (torchvision DEFAULT, or the timm tag):
    from ``<weights_dir>/<architecture>.pth`` when ``weights_dir`` or ``$DUOLIB_WEIGHTS`` is set
    (a state dict, e.g. ``torch.save(build(name, 1000, pretrained=True).state_dict(), path)`` on
    a machine with internet), else downloaded on first use. The published ImageNet-1k head is
    kept when ``num_classes == 1000`` and replaced by a fresh one otherwise. Demo models are
    pretrained by ``duolib.train`` on the generated pretraining task instead.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    architecture = _architecture(name)
    if architecture in DEMO_ARCHITECTURES:
        if pretrained:
            raise ValueError(
                f"{name!r} is a demo architecture: it has no published weights; "
                "duolib.train.pretrain builds its pretrained checkpoint"
            )
        return build_demo(architecture, num_classes)
    if not pretrained:
        if architecture in TIMM_MODELS:
            return timm.create_model(architecture, pretrained=False, num_classes=num_classes)
        return replace_classifier(_published_shape(architecture), num_classes)
    directory = weights_dir or os.environ.get(WEIGHTS_ENV)
    if directory:
        model = _load_local(architecture, Path(directory))
    else:
        model = _download(architecture)
    if num_classes != PUBLISHED_CLASSES:
        replace_classifier(model, num_classes)
    return model


def _published_shape(architecture: str):
    """The architecture with random weights and its published 1000-class head."""
    if architecture in TIMM_MODELS:
        return timm.create_model(architecture, pretrained=False)
    return torchvision.models.get_model(architecture, weights=None)


def _download(architecture: str):
    try:
        if architecture in TIMM_MODELS:
            return timm.create_model(architecture, pretrained=True)
        return torchvision.models.get_model(architecture, weights="DEFAULT")
    # URLError, ConnectionError and huggingface_hub's HTTP and offline errors are all OSErrors;
    # torch.hub raises RuntimeError for a corrupt or hash-mismatched download.
    except (OSError, RuntimeError) as err:
        raise RuntimeError(
            f"could not fetch the published weights of {architecture!r} "
            f"({type(err).__name__}: {_first_line(err)}). To run offline, save each model's "
            f"state dict as <architecture>.pth (here {architecture}.pth) in a directory and set "
            f"{WEIGHTS_ENV} to it (or pass weights_dir)"
        ) from err


def _load_local(architecture: str, directory: Path):
    path = directory / f"{architecture}.pth"
    if not path.is_file():
        raise FileNotFoundError(
            f"no pretrained weights for {architecture!r}: expected the state dict {path} "
            f"(the directory comes from weights_dir or ${WEIGHTS_ENV}; unset {WEIGHTS_ENV} to "
            "download the published weights instead)"
        )
    model = _published_shape(architecture)
    model.load_state_dict(_checked_state_dict(model, path, architecture), strict=True)
    return model


def _checked_state_dict(model, path: Path, architecture: str) -> Mapping[str, torch.Tensor]:
    """The state dict in ``path`` if it fits ``model`` key for key and shape for shape."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    # A damaged file fails inside torch.load as KeyError, EOFError, RuntimeError or
    # UnpicklingError depending on where it is cut; all mean the same to the caller.
    except Exception as err:
        raise ValueError(
            f"cannot read the weights file {path} of {architecture!r} "
            f"({type(err).__name__}: {_first_line(err)}); it must be a state dict saved "
            "with torch.save(model.state_dict(), path)"
        ) from err
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise ValueError(
            f"the weights file {path} of {architecture!r} holds a {type(state).__name__}, not a "
            "state dict (a mapping of parameter names to tensors)"
        )
    expected = model.state_dict()
    problems = {
        "missing": [key for key in expected if key not in state],
        "unexpected": [key for key in state if key not in expected],
        "mismatched": [
            f"{key} {tuple(state[key].shape)} (model: {tuple(value.shape)})"
            for key, value in expected.items()
            if key in state and state[key].shape != value.shape
        ],
    }
    found = [
        f"{len(keys)} {kind} keys, e.g. {', '.join(keys[:3])}"
        for kind, keys in problems.items()
        if keys
    ]
    if found:
        raise ValueError(
            f"the weights file {path} does not fit {architecture!r}: " + "; ".join(found)
        )
    return state


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:300] if lines else ""


def write_weights(directory: str | Path, names: Iterable[str], seed: int = 0) -> Path:
    """Write ``<architecture>.pth`` for each of ``names``: random weights (``seed``) in the
    published shapes, 1000-class head included, for ``build(..., pretrained=True)`` to load from
    ``$DUOLIB_WEIGHTS`` offline. Files that already load are kept; returns ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        architecture = _architecture(name)
        if architecture in DEMO_ARCHITECTURES:
            raise ValueError(f"{name!r} is a demo architecture: it has no published weights")
        # Seeded per architecture, in a forked RNG: each file is the same whatever the order
        # of ``names``, and the caller's random stream is untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = _published_shape(architecture)
        path = directory / f"{architecture}.pth"
        if path.is_file():
            try:
                _checked_state_dict(model, path, architecture)
                continue
            except ValueError:
                pass  # damaged or another architecture's: rewrite it
        atomic_save(model.state_dict(), path)
    return directory


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
