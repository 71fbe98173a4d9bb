"""duolib: the helper package of the Asymmetric Duos book.

The public API (see the book's method page for definitions)::

    T = fit_temperature(val_logits, val_labels)
    duo = fit_duo(large_val, small_val, val_labels)
    pred, unc = predict(large_test, small_test, duo, mode="weighted", uncertainty="softmax")
    evaluate(duo.combine(large_test, small_test), test_labels)
    logits, labels = bank.logits("glyphs", "resnet18_32px", "val", profile="demo")
"""

from . import (
    bank,
    baselines,
    cache,
    comparisons,
    data,
    ensembles,
    experiments,
    members,
    metrics,
    plots,
    profiles,
    throughput,
    train,
    zoo,
)
from .calibrate import fit_temperature
from .duo import MODES, Duo, fit_duo, predict
from .metrics import evaluate
from .paper_scale import to_paper_scale

__all__ = [
    "MODES",
    "Duo",
    "bank",
    "baselines",
    "cache",
    "comparisons",
    "data",
    "ensembles",
    "evaluate",
    "experiments",
    "fit_duo",
    "fit_temperature",
    "members",
    "metrics",
    "plots",
    "predict",
    "profiles",
    "throughput",
    "to_paper_scale",
    "train",
    "zoo",
]
__version__ = "0.1.0"
