"""Model soups (Wortsman et al. 2022) of a model's fine-tuning trials: the paper's Section 5.5.

The ingredients are the first ``profile.baselines.soup_ingredients`` trials of the
architecture's LP-FT search (``duolib.train.finetune_trials``: the same search space as the zoo,
more trials, all from the same linear-probed start; the zoo's own trials are the first of them).

* Greedy soup: sort the ingredients by validation accuracy, start from the best, add each next
  one to the weight average and keep it only if validation accuracy does not drop. By
  construction the soup is never worse on validation than its best ingredient.
* Uniform soup: the average of every ingredient.

The entry point is ``soup_model``; the bank holds soups as ``"arch:greedy_soup"`` /
``"arch:uniform_soup"`` (this module registers their builder with ``duolib.bank``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import bank, data, members, profiles, train, zoo
from ..profiles import Profile

SOUPS = ("greedy_soup", "uniform_soup")


def average_state_dicts(states: Sequence[dict]) -> dict:
    """Uniform average of parameters (integer buffers such as BatchNorm counters: the first's)."""
    if not states:
        raise ValueError("no state dicts to average")
    keys = states[0].keys()
    for state in states[1:]:
        if state.keys() != keys:
            raise ValueError("state dicts of different architectures cannot be averaged")
    averaged = OrderedDict()
    # Module versions (torchvision's MNASNet refuses a state dict without them).
    averaged._metadata = getattr(states[0], "_metadata", None)
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


def greedy_soup(
    states: Sequence[dict], val_accuracy: Callable[[dict], float], strict: bool = False
) -> Soup:
    """Wortsman et al.'s greedy soup; ``val_accuracy(state)`` scores a state dict on val.

    An ingredient is kept when the soup's validation accuracy does not drop (``>=``, the
    default) or, with ``strict=True``, only when it rises (``>``: the rule of the paper's
    released code and of mlfoundations/model-soups).
    """
    if not states:
        raise ValueError("a soup needs at least one ingredient")
    scores = [val_accuracy(state) for state in states]
    order = np.argsort(scores, kind="stable")[::-1]
    chosen = [int(order[0])]
    best = scores[chosen[0]]
    for index in order[1:]:
        candidate = chosen + [int(index)]
        accuracy = val_accuracy(average_state_dicts([states[i] for i in candidate]))
        if accuracy > best or (accuracy == best and not strict):
            chosen, best = candidate, accuracy
    return Soup(average_state_dicts([states[i] for i in chosen]), tuple(chosen), best)


def soup_model(
    name: str,
    profile: str | Profile | None = None,
    dataset: str | None = None,
    rt=None,
    strict: bool = False,
):
    """(model, metadata) of the soup ``name`` (``"arch:greedy_soup"`` or ``"arch:uniform_soup"``).

    ``strict``: the greedy soup keeps an ingredient only when validation accuracy rises (the
    released code's rule; see ``greedy_soup``). The bank's soups use the default.

    The metadata holds every ingredient's hyperparameters and validation accuracy, the indices
    the soup kept, and wall times: pretraining, LP, the sum of all ingredients' fine-tuning, and
    the souping itself.
    """
    member = members.parse(name)
    if member.method not in SOUPS:
        raise ValueError(f"{name!r} is not a soup; expected arch:greedy_soup or arch:uniform_soup")
    settings = profiles.get(profile)
    if settings.baselines is None:
        raise ValueError(f"profile {settings.name!r} defines no baselines")
    dataset = dataset or settings.baseline_dataset
    rt = rt or train.runtime()
    ingredient_name = members.Member(member.architecture, member.replica).name
    trials = train.finetune_trials(
        ingredient_name, settings, dataset, count=settings.baselines.soup_ingredients, rt=rt
    )
    val_set = data.load(dataset, "val", settings, preprocessing=zoo.preprocessing(name))
    batch_size = settings.recipe_for(dataset).eval_batch_size
    model = zoo.build(member.architecture, len(val_set.classes))
    states = [torch.load(Path(t["directory"]) / "model.pt", map_location="cpu") for t in trials]

    def val_accuracy(state: dict) -> float:
        model.load_state_dict(state)
        logits, labels = train.predict_logits(model, val_set, batch_size, rt=rt)
        return train.accuracy(logits, labels)

    start = time.perf_counter()
    if member.method == "greedy_soup":
        soup = greedy_soup(states, val_accuracy, strict=strict)
        state, ingredients, val_acc = soup.state, soup.ingredients, soup.val_accuracy
    else:
        state, ingredients = average_state_dicts(states), tuple(range(len(states)))
        val_acc = val_accuracy(state)
    model.load_state_dict(state)
    meta = {
        "model": name,
        "pretraining": trials[0]["pretraining"],
        "pretrain_seconds": trials[0]["pretrain_seconds"],
        "lp_seconds": trials[0]["lp_seconds"],
        "ft_seconds": sum(t["seconds"] for t in trials),
        "soup_seconds": time.perf_counter() - start,
        "trials": trials,
        "ingredients": list(ingredients),
        "val_accuracy": val_acc,
    }
    return model.eval(), meta


@bank.register_builder("greedy_soup")
@bank.register_builder("uniform_soup")
def _bank_builder(name: str, settings: Profile, dataset: str, rt):
    return soup_model(name, settings, dataset, rt)
