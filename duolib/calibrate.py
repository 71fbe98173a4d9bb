"""Temperature scaling (Guo et al. 2017): one scalar that minimises validation NLL."""

from __future__ import annotations

import warnings

from ._checks import check_labels, check_scores, warn_if_probabilities
from .logit_weights import W_MAX, fit_weights

# A weight (inverse temperature) below this means the logits carry no usable information
# about the labels: scaling them towards zero (a uniform prediction) is what minimises NLL.
_MIN_WEIGHT = 1e-6
# What fit_temperature returns for logits that carry no information: the uniform prediction.
UNIFORM_TEMPERATURE = 1 / _MIN_WEIGHT


def fit_temperature(logits, labels) -> float:
    """The temperature ``T > 0`` minimising the NLL of ``softmax(logits / T)`` on (logits, labels).

    Solved exactly by Newton's method on the inverse temperature ``1/T`` (the NLL is convex in
    it). Calibrated logits are ``logits / T``.

    Raises ``ValueError`` on bad input. When the optimum is ``1/T = 0`` -- the logits are
    unrelated to (or anti-correlated with) the labels: misaligned labels, or a model at chance
    such as a randomly initialised one -- it warns and returns ``1 / 1e-6``: the (nearly)
    uniform prediction that minimises the NLL, as a Duo gives a useless member weight 0.
    """
    logits_t = check_scores(logits, "logits")
    warn_if_probabilities(logits_t, "logits")
    labels_t = check_labels(labels, logits_t.shape[0], logits_t.shape[1])
    fit = fit_weights([logits_t], labels_t, lower=0.0, upper=W_MAX)
    inverse_temperature = float(fit.weights[0])
    if inverse_temperature < _MIN_WEIGHT:
        warnings.warn(
            "validation NLL is minimised by a uniform prediction (inverse temperature 0): the "
            "logits carry no information about these labels (are logits and labels aligned? "
            f"is the model at chance?); returning T = {1 / _MIN_WEIGHT:g}",
            UserWarning,
            stacklevel=2,
        )
        inverse_temperature = _MIN_WEIGHT
    return 1.0 / inverse_temperature
