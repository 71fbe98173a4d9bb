"""The demo zoo: real torchvision/timm architecture families, shrunk for 32x32 images.

Each entry builds a model with a fresh head for ``num_classes``. They span more than 100x in
compute (measured with ``duolib.flops`` at 32x32 by ``duolib.zoo``) across three families:
only families that learn within the demo's short CPU schedule from scratch are here (which
ones do is recorded in ``benchmarks/results/profile-sizes.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from timm.models.resnet import BasicBlock, ResNet
from torch import nn
from torchvision.models import ShuffleNetV2


class LeNet(nn.Module):
    """LeCun et al. (1998)'s LeNet-5 shape with ReLU: the smallest sidekick."""

    def __init__(self, num_classes: int, widths=(4, 8), hidden: int = 48):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, widths[0], 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(widths[0], widths[1], 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(widths[1] * 36, hidden),
            nn.ReLU(),
        )
        self.num_features = hidden
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.head(self.features(x))

    # timm's classifier interface, which duolib.zoo uses for every model.
    def get_classifier(self):
        return self.head

    def reset_classifier(self, num_classes: int):
        self.head = nn.Linear(self.num_features, num_classes)


@dataclass(frozen=True)
class DemoArchitecture:
    family: str
    build: Callable[[int], nn.Module]
    note: str


def _resnet(layers, channels, stem_width):
    # zero_init_last=False: with one block per stage, zero-initialised residual branches keep
    # the network near chance for the whole short CPU schedule.
    return lambda num_classes: ResNet(
        BasicBlock,
        layers,
        num_classes=num_classes,
        channels=channels,
        stem_width=stem_width,
        zero_init_last=False,
    )


class ShuffleNetMini(nn.Module):
    """torchvision's ShuffleNetV2 at reduced width (stages 2-2-2, widths 8-128)."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.net = ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=num_classes)

    def forward(self, x):
        return self.net(x)

    def get_classifier(self):
        return self.net.fc

    def reset_classifier(self, num_classes: int):
        self.net.fc = nn.Linear(self.net.fc.in_features, num_classes)


DEMO_ARCHITECTURES = {
    "shufflenet_mini": DemoArchitecture(
        "ShuffleNet-V2", ShuffleNetMini, "torchvision ShuffleNetV2, stages 2-2-2, widths 8-128"
    ),
    "lenet": DemoArchitecture("LeNet", LeNet, "LeNet-5 shape, widths 4/8"),
    # Wider LeNets: another family at about the FLOPs of resnet_micro/resnet_mini and of
    # resnet_small, for the sidekick candidates of "Which sidekick?" (not in the demo zoo).
    "lenet_wide": DemoArchitecture(
        "LeNet", lambda n: LeNet(n, (16, 32), 96), "LeNet-5 shape, widths 16/32, hidden 96"
    ),
    "lenet_wider": DemoArchitecture(
        "LeNet", lambda n: LeNet(n, (24, 48), 128), "LeNet-5 shape, widths 24/48, hidden 128"
    ),
    "resnet_micro": DemoArchitecture(
        "ResNet", _resnet((1, 1, 1, 1), (8, 16, 32, 64), 8), "ResNet-10 shape, widths 8-64"
    ),
    "resnet_mini": DemoArchitecture(
        "ResNet", _resnet((1, 1, 1, 1), (16, 32, 64, 128), 16), "ResNet-10 shape, widths 16-128"
    ),
    "resnet_small": DemoArchitecture(
        "ResNet", _resnet((1, 1, 1, 1), (32, 64, 128, 256), 32), "ResNet-10 shape, widths 32-256"
    ),
    "resnet18_32px": DemoArchitecture(
        "ResNet", _resnet((2, 2, 2, 2), (64, 128, 256, 512), 64), "ResNet-18, full width"
    ),
}


def build_demo(name: str, num_classes: int) -> nn.Module:
    if name not in DEMO_ARCHITECTURES:
        raise ValueError(
            f"unknown demo architecture {name!r}; choose from {list(DEMO_ARCHITECTURES)}"
        )
    with torch.random.fork_rng():  # the same initial weights for a name, run after run
        torch.manual_seed(0)
        return DEMO_ARCHITECTURES[name].build(num_classes)
