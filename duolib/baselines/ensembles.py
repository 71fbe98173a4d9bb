"""Deep ensembles (the paper's Section 5.6 and Appendix A.5): pool, then calibrate.

``pool_then_calibrate`` (Rahaman & Thiery 2021, as the paper says): average the members' logits,
then fit one temperature on the pooled validation logits.

The entry point ``deep_ensembles(profile, split)`` builds every ensemble the profile asks for:
each size of ``profile.baselines.ensemble_sizes`` over (up to) ``ensemble_subsets`` distinct
random subsets of ``ensemble_members`` -- independently trained replicas ``arch@k`` on profiles
that train their own zoo (``duolib.members.replicas``), published checkpoints on ``paper``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import torch

from .. import bank, profiles
from .._checks import check_labels, check_scores
from ..calibrate import fit_temperature
from ..profiles import Profile


@dataclass(frozen=True)
class PooledEnsemble:
    """Mean of member logits divided by one temperature fitted on the pooled validation logits."""

    temperature: float
    size: int

    def combine(self, member_logits: Sequence) -> torch.Tensor:
        if len(member_logits) != self.size:
            raise ValueError(f"ensemble has {self.size} members, got {len(member_logits)} logits")
        return pooled_logits(member_logits) / self.temperature


def pooled_logits(member_logits: Sequence) -> torch.Tensor:
    """The average of the members' logits (all of one shape), in float32 or wider."""
    if len(member_logits) == 0:
        raise ValueError("an ensemble needs at least one member")
    members = [check_scores(m, f"member {i} logits") for i, m in enumerate(member_logits)]
    shapes = {tuple(m.shape) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"member logits have different shapes: {sorted(shapes)}")
    dtype = torch.promote_types(members[0].dtype, torch.float32)
    return torch.stack([m.to(dtype) for m in members]).mean(dim=0)


def pool_then_calibrate(member_val_logits: Sequence, val_labels) -> PooledEnsemble:
    """Fit the ensemble's single temperature on the pooled validation logits."""
    pooled = pooled_logits(member_val_logits)
    check_labels(val_labels, pooled.shape[0], pooled.shape[1])
    return PooledEnsemble(fit_temperature(pooled, val_labels), len(member_val_logits))


def ensemble_subsets(members: int, size: int, count: int, seed: int = 0) -> list[tuple[int, ...]]:
    """``count`` distinct random subsets of ``size`` of ``range(members)`` (all, if fewer exist)."""
    if not 1 <= size <= members:
        raise ValueError(f"ensemble size must be in [1, {members}], got {size}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if math.comb(members, size) <= count:
        return list(combinations(range(members), size))
    rng = np.random.default_rng(seed)
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < count:
        chosen.add(tuple(sorted(int(i) for i in rng.choice(members, size, replace=False))))
    return sorted(chosen)


@dataclass(frozen=True)
class EnsemblePrediction:
    """One fitted ensemble scored on one split: its members, temperature and logits."""

    members: tuple[str, ...]
    temperature: float
    logits: torch.Tensor
    labels: np.ndarray
    dataset: str
    split: str

    @property
    def size(self) -> int:
        return len(self.members)


def deep_ensembles(profile: str | Profile | None = None, split: str = "test"):
    """Every pool-then-calibrate ensemble of the profile, scored on ``split``.

    Returns a list of ``EnsemblePrediction`` (sizes in order, subsets within a size sorted).
    Member logits come from the bank, which trains the replicas on first use.
    """
    settings = profiles.get(profile)
    b = settings.baselines
    if b is None:
        raise ValueError(f"profile {settings.name!r} defines no baselines")
    dataset = settings.ensemble_dataset
    names = b.ensemble_members
    val = [bank.logits(dataset, m, "val", settings) for m in names]
    scored = [bank.logits(dataset, m, split, settings) for m in names]
    val_labels, labels = val[0][1], scored[0][1]
    for m, (_, y), (_, t) in zip(names, val, scored, strict=True):
        if not (np.array_equal(y, val_labels) and np.array_equal(t, labels)):
            raise ValueError(f"ensemble member {m} was evaluated on different labels")
    predictions = []
    for size in b.ensemble_sizes:
        for subset in ensemble_subsets(len(names), size, b.ensemble_subsets, settings.seed):
            ensemble = pool_then_calibrate([val[i][0] for i in subset], val_labels)
            predictions.append(
                EnsemblePrediction(
                    members=tuple(names[i] for i in subset),
                    temperature=ensemble.temperature,
                    logits=ensemble.combine([scored[i][0] for i in subset]),
                    labels=labels,
                    dataset=dataset,
                    split=split,
                )
            )
    return predictions
