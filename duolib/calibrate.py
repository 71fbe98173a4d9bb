"""Temperature scaling (Guo et al. 2017): one scalar that minimises validation NLL."""

from __future__ import annotations

from ._checks import check_labels, check_scores, warn_if_probabilities
from .logit_weights import W_MAX, fit_weights

# A weight (inverse temperature) below this means the logits carry no usable information
# about the labels: scaling them towards zero (a uniform prediction) is what minimises NLL.
_MIN_WEIGHT = 1e-6


def fit_temperature(logits, labels) -> float:
    """The temperature ``T > 0`` minimising the NLL of ``softmax(logits / T)`` on (logits, labels).

    Solved exactly by Newton's method on the inverse temperature ``1/T`` (the NLL is convex in
    it). Calibrated logits are ``logits / T``.

    Raises ``ValueError`` on bad input, and when the optimum is ``1/T = 0``: that happens only when
    the logits are unrelated to (or anti-correlated with) the labels, usually a sign that logits
    and labels are misaligned.
    """
    logits_t = check_scores(logits, "logits")
    warn_if_probabilities(logits_t, "logits")
    labels_t = check_labels(labels, logits_t.shape[0], logits_t.shape[1])
    fit = fit_weights([logits_t], labels_t, lower=0.0, upper=W_MAX)
    inverse_temperature = float(fit.weights[0])
    if inverse_temperature < _MIN_WEIGHT:
        raise ValueError(
            "validation NLL is minimised by a uniform prediction (inverse temperature 0): the "
            "logits carry no information about these labels; are logits and labels aligned?"
        )
    return 1.0 / inverse_temperature
