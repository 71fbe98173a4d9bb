"""The baselines' combination rules: deep ensembles (pool, then calibrate) and greedy soups.

* ``pool_then_calibrate`` (Rahaman & Thiery 2021, as the paper's Section 5.6 says): average the
  members' logits, then fit one temperature on the pooled validation logits.
* ``greedy_soup`` (Wortsman et al. 2022): sort fine-tuned ingredients by validation accuracy,
  start from the best, add each next one to the weight average and keep it only if validation
  accuracy does not drop. By construction the soup is never worse on validation than its best
  ingredient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_labels, check_scores
from .calibrate import fit_temperature


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


def average_state_dicts(states: Sequence[dict]) -> dict:
    """Uniform average of parameters (integer buffers such as BatchNorm counters: the first's)."""
    if not states:
        raise ValueError("no state dicts to average")
    keys = states[0].keys()
    for state in states[1:]:
        if state.keys() != keys:
            raise ValueError("state dicts of different architectures cannot be averaged")
    averaged = {}
    for key in keys:
        values = [state[key] for state in states]
        if values[0].is_floating_point():
            averaged[key] = torch.stack([v.float() for v in values]).mean(0).to(values[0].dtype)
        else:
            averaged[key] = values[0].clone()
    return averaged


@dataclass(frozen=True)
class Soup:
    state: dict
    ingredients: tuple[int, ...]  # indices into the list given to greedy_soup, in order added
    val_accuracy: float


def greedy_soup(states: Sequence[dict], val_accuracy: Callable[[dict], float]) -> Soup:
    """Wortsman et al.'s greedy soup; ``val_accuracy(state)`` scores a state dict on val."""
    if not states:
        raise ValueError("a soup needs at least one ingredient")
    scores = [val_accuracy(state) for state in states]
    order = np.argsort(scores, kind="stable")[::-1]
    chosen = [int(order[0])]
    best = scores[chosen[0]]
    for index in order[1:]:
        candidate = chosen + [int(index)]
        accuracy = val_accuracy(average_state_dicts([states[i] for i in candidate]))
        if accuracy >= best:
            chosen, best = candidate, accuracy
    return Soup(average_state_dicts([states[i] for i in chosen]), tuple(chosen), best)
