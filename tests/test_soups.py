"""Model soups: the greedy rule on toy states, and soups of real fine-tuning trials."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import duolib as dl
from duolib import bank, train
from duolib.baselines import soups


def _linear_states(num, seed=0):
    rng = np.random.default_rng(seed)
    return [
        {
            "weight": torch.tensor(rng.normal(size=(3, 4)), dtype=torch.float32),
            "count": torch.tensor(7),
        }
        for _ in range(num)
    ]


def test_greedy_soup_never_worse_than_its_best_ingredient():
    states = _linear_states(6)
    target = torch.ones(3, 4)

    def val_accuracy(state):  # any score works: closeness of the weights to a target
        return float(-((state["weight"] - target) ** 2).sum())

    soup = soups.greedy_soup(states, val_accuracy)
    best_single = max(val_accuracy(s) for s in states)
    assert soup.val_accuracy >= best_single
    assert soup.val_accuracy == pytest.approx(val_accuracy(soup.state))
    assert soup.ingredients[0] == int(np.argmax([val_accuracy(s) for s in states]))
    expected = torch.stack([states[i]["weight"] for i in soup.ingredients]).mean(0)
    assert torch.allclose(soup.state["weight"], expected)
    assert int(soup.state["count"]) == 7  # integer buffers are not averaged


def test_greedy_soup_rejects_an_ingredient_that_hurts():
    good = {"w": torch.tensor([1.0])}
    also_good = {"w": torch.tensor([1.2])}
    bad = {"w": torch.tensor([-5.0])}

    def score(state):
        return float(-abs(state["w"] - 1.1))

    soup = soups.greedy_soup([bad, good, also_good], score)
    assert set(soup.ingredients) == {1, 2}
    assert float(soup.state["w"]) == pytest.approx(1.1)
    with pytest.raises(ValueError, match="different architectures"):
        soups.average_state_dicts([good, {"v": torch.tensor([1.0])}])


def test_greedy_soup_is_no_worse_on_validation_than_its_best_ingredient(smoke_cache):
    model, meta = soups.soup_model("lenet:greedy_soup", "smoke")
    best = max(t["val_accuracy"] for t in meta["trials"])
    assert meta["val_accuracy"] >= best
    assert meta["ingredients"][0] == int(np.argmax([t["val_accuracy"] for t in meta["trials"]]))
    logits, labels = train.predict_logits(model, dl.data.load("glyphs", "val", "smoke"))
    assert train.accuracy(logits, labels) == pytest.approx(meta["val_accuracy"])
    uniform = bank.meta("glyphs", "lenet:uniform_soup", "test", "smoke")
    assert uniform["soup_ingredients"] == list(range(len(meta["trials"])))
