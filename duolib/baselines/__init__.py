"""The paper's baselines, one module and one entry point each (Sections 5.5-5.6, Appendix F).

* ``soups.soup_model``: greedy and uniform soups of a model's fine-tuning trials;
* ``ensembles.deep_ensembles``: pool-then-calibrate deep ensembles of replicas or checkpoints;
* ``ivon.ivon_predictive``: IVON's sampled posterior predictive;
* ``laplace.laplace_predictive``: last-layer KFAC Laplace with a sampled predictive.

Importing this package registers the soups' builder with the logit bank.
"""

from . import ensembles, ivon, laplace, soups
from .ensembles import deep_ensembles, pool_then_calibrate
from .ivon import ivon_predictive
from .laplace import LAPLACE_LOG10_GRID, laplace_predictive
from .soups import SOUPS, greedy_soup, soup_model

__all__ = [
    "LAPLACE_LOG10_GRID",
    "SOUPS",
    "deep_ensembles",
    "ensembles",
    "greedy_soup",
    "ivon",
    "ivon_predictive",
    "laplace",
    "laplace_predictive",
    "pool_then_calibrate",
    "soup_model",
    "soups",
]
