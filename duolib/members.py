"""Names of trained models beyond the zoo's single fine-tune: replicas, soups and IVON.

A bank entry is named ``architecture[@replica][:method]``:

* ``resnet_small`` -- the zoo model, fine-tuned with LP-FT (``method="lpft"``, replica 0);
* ``resnet_small@3`` -- an independently trained copy (replica 3): on profiles that pretrain
  their own zoo, pretraining and fine-tuning both use seed ``profile.seed + 3``, so replicas
  differ as deep-ensemble members do; on the ``paper`` profile the published weights are shared
  and only fine-tuning differs (the paper's ensembles use distinct published checkpoints);
* ``resnet_small:greedy_soup`` / ``:uniform_soup`` -- model soups of the profile's fine-tuning
  trials (``duolib.baselines.soups``);
* ``resnet_small:ivon`` -- fine-tuned with the IVON optimizer, predicting with the posterior mean;
* ``resnet_small:scratch`` -- the same architecture trained on the task from random weights (no
  pretraining): the LP-FT recipe run from a random initialisation (seed ``profile.seed + k``).

Every name shares its architecture's zoo entry (FLOPs, parameters): ``zoo.get`` accepts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METHODS = ("lpft", "ivon", "greedy_soup", "uniform_soup", "scratch")
_PATTERN = re.compile(r"^(?P<arch>[^@:]+)(?:@(?P<replica>\d+))?(?::(?P<method>[a-z_]+))?$")


@dataclass(frozen=True)
class Member:
    architecture: str
    replica: int = 0
    method: str = "lpft"

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown training method {self.method!r}; choose one of {METHODS}")
        if self.replica < 0:
            raise ValueError(f"replica must be >= 0, got {self.replica}")

    @property
    def name(self) -> str:
        name = self.architecture
        if self.replica:
            name += f"@{self.replica}"
        if self.method != "lpft":
            name += f":{self.method}"
        return name


def parse(name: str) -> Member:
    """``"resnet50@2:ivon"`` -> ``Member("resnet50", 2, "ivon")``; a plain zoo name is replica 0."""
    match = _PATTERN.match(name)
    if match is None:
        raise ValueError(f"cannot read model name {name!r}; expected architecture[@k][:method]")
    return Member(match["arch"], int(match["replica"] or 0), match["method"] or "lpft")


def replicas(architecture: str, count: int) -> tuple[str, ...]:
    """The names of ``count`` independently trained copies: the zoo model first."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    return tuple(Member(architecture, k).name for k in range(count))
