"""duolib: the helper package of the Asymmetric Duos book.

The public API (see the book's method page for definitions)::

    T = fit_temperature(val_logits, val_labels)
    duo = fit_duo(large_val, small_val, val_labels)
    pred, unc = predict(large_test, small_test, duo, mode="weighted", uncertainty="softmax")
    evaluate(duo.combine(large_test, small_test), test_labels)
    logits, labels = bank.logits("glyphs", "resnet18_32px", "val", profile="demo")

Modules, in the order data flows: ``profiles`` and ``cache``; ``data``, ``zoo`` (with
``architectures``, ``flops``, ``members``); ``train``; ``bank`` (the logit bank, the seam);
``calibrate``, ``duo``, ``uncertainty``, ``metrics`` (with its metric registry); ``baselines``
(soups, ensembles, IVON, Laplace); ``experiments`` (the results table), ``claims`` (bootstrap
and the claim table), ``tables`` (the paper's tables), ``plots``, ``throughput``; ``chapter``
(the chapters' computed sentences, figures and notes); ``estimate`` (GPU time from FLOPs);
``cli`` (``python -m duolib``: one fit per call, for clusters);
``reference`` (the released code's definitions, for comparison) and ``fidelity`` (each
difference between the paper, its released code and duolib, measured on the bank);
``sidekick`` (which sidekick to choose: pair statistics and ``recommend_sidekick``).
"""

from . import (
    bank,
    baselines,
    cache,
    chapter,
    claims,
    cli,
    data,
    estimate,
    experiments,
    fidelity,
    members,
    metrics,
    plots,
    profiles,
    reference,
    sidekick,
    tables,
    throughput,
    train,
    zoo,
)
from .calibrate import fit_temperature
from .duo import MODES, Duo, fit_duo, predict
from .metrics import METRICS, evaluate, to_paper_scale
from .sidekick import recommend as recommend_sidekick

__all__ = [
    "METRICS",
    "MODES",
    "Duo",
    "bank",
    "baselines",
    "cache",
    "chapter",
    "claims",
    "cli",
    "data",
    "estimate",
    "evaluate",
    "experiments",
    "fidelity",
    "fit_duo",
    "fit_temperature",
    "members",
    "metrics",
    "plots",
    "predict",
    "profiles",
    "recommend_sidekick",
    "reference",
    "sidekick",
    "tables",
    "throughput",
    "to_paper_scale",
    "train",
    "zoo",
]
__version__ = "0.1.0"
