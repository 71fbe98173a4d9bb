"""Non-negative weights of a sum of logit matrices, fitted by negative log-likelihood.

Temperature scaling (one member) and the Duo (two members) are both the problem

    minimise_w  NLL(w) = mean_i [ logsumexp_c( sum_j w_j X_j[i, c] ) - sum_j w_j X_j[i, y_i] ]
    subject to  0 <= w_j <= W_MAX,

which is convex in ``w`` (a log-sum-exp of linear functions minus a linear function). With only
one or two unknowns, Newton's method with the exact gradient and Hessian solves it to machine
precision in a handful of passes over the data. Two tricks keep it fast on 50,000 x 1,000 logits:

* the passes are chunked over rows, so no temporary ever has the size of the full matrix, and
* Newton first converges on a fixed random subsample of rows, then polishes on all rows, where
  (starting so close) it needs one or two full passes to reach the full-data optimum.

Bounds are handled by a projected Newton step (Bertsekas 1982): a weight sitting at a bound with
the gradient pushing outward is held there, the others take a Newton step. This is how a useless
sidekick gets a weight of exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._checks import row_chunks

# Upper bound on a weight (a temperature of 1/1000). Only reached when the validation set is
# perfectly separated, where the NLL keeps falling as the logits are scaled up forever.
W_MAX = 1e3
SUBSAMPLE_ROWS = 4096
# A weight at a bound is freed only when the gradient pulls it inside by more than rounding
# noise, and directions of the Hessian below its rounding noise (relative to its largest
# eigenvalue) are not moved along: so a member with no effect (constant logits) keeps its
# weight of exactly 0. The gradient's noise grows with the member's logits, so its tolerance is
# per unit of the member's largest |logit| (at least 1). The float32 values are measured noise
# with a margin: a constant member's gradient came out at up to 1.4e-7 per unit (2.3e-6 for
# logits of -16.6), its curvature at up to 5e-6 of the largest; with the former absolute 1e-10
# Newton freed such a weight and moved it (to 0.41 on torch 2.11, to 1.6e-9 here).
GRADIENT_TOL = {torch.float32: 2e-6, torch.float64: 1e-10}
HESSIAN_RCOND = {torch.float32: 1e-5, torch.float64: 1e-10}
# Newton decrement (half of it is the predicted NLL decrease of a full Newton step): below
# DECREMENT_TOL we are at the optimum; below FINAL_DECREMENT one more step gets there.
DECREMENT_TOL = 1e-20
FINAL_DECREMENT = 1e-8
# Relative rounding noise of an NLL computed in float32 chunks (measured: a few 1e-9 on
# 1,500 x 10 logits scaled to +-30), with a margin; float64 input uses float64 throughout.
VALUE_NOISE = {torch.float32: 1e-7, torch.float64: 1e-13}
MAX_NEWTON_STEPS = 100


@dataclass(frozen=True)
class WeightFit:
    weights: np.ndarray
    nll: float
    newton_steps: int


def nll_and_derivatives(members, labels, weights, derivatives: bool = True):
    """NLL of ``sum_j w_j X_j`` with its gradient and Hessian in ``w`` (or the NLL alone).

    ``members`` is a list of (N, K) float tensors on one device, ``labels`` an int64 tensor.
    Each chunk is computed in the members' precision (at least float32) with a max-shifted
    exponent, and per-row results are accumulated in float64: from float32 logits the NLL is
    accurate to about 1e-8 (a float64 pass would cost twice the time of the whole fit).
    """
    num_members = len(members)
    num_rows = members[0].shape[0]
    device = members[0].device
    dtype = torch.promote_types(members[0].dtype, torch.float32)
    w = [float(v) for v in weights]
    labels = labels.to(device)
    pairs = [(j, k) for j in range(num_members) for k in range(j, num_members)]
    # Per-row results, reduced in float64 after the loop (few small ops inside it).
    row_loss = torch.empty(num_rows, dtype=dtype, device=device)
    norm = torch.empty(num_rows, dtype=dtype, device=device)
    first = torch.empty(num_rows, num_members, dtype=dtype, device=device)
    second = torch.empty(num_rows, len(pairs), dtype=dtype, device=device)
    for rows in row_chunks(num_rows):
        xs = [m[rows].to(dtype) for m in members]
        idx = labels[rows][:, None]
        combined = xs[0] * w[0]
        for x, wj in zip(xs[1:], w[1:], strict=True):
            combined.add_(x, alpha=wj)
        row_max = combined.amax(dim=1, keepdim=True)
        true_combined = combined.gather(1, idx)
        exp = combined.sub_(row_max).exp_()  # in place: combined is not needed any more
        norm[rows] = exp.sum(dim=1)
        row_loss[rows] = (row_max - true_combined)[:, 0]
        if not derivatives:
            continue
        weighted = [exp * x for x in xs]  # p_c X_j[c], up to the row's normaliser
        for j, wx in enumerate(weighted):
            first[rows, j] = wx.sum(dim=1)
        for p, (j, k) in enumerate(pairs):
            second[rows, p] = torch.linalg.vecdot(weighted[j], xs[k], dim=1)
    norm64 = norm.to(torch.float64)
    value = float((row_loss.to(torch.float64) + norm64.log()).mean())
    if not derivatives:
        return value
    true_logits = torch.stack([m.gather(1, labels[:, None])[:, 0] for m in members], dim=1)
    expected = first.to(torch.float64) / norm64[:, None]  # E_p[X_j] per row
    grad = (expected - true_logits.to(torch.float64)).mean(dim=0)
    expected_products = second.to(torch.float64) / norm64[:, None]  # E_p[X_j X_k] per row
    hess = torch.empty(num_members, num_members, dtype=torch.float64, device=device)
    for p, (j, k) in enumerate(pairs):
        covariance = (expected_products[:, p] - expected[:, j] * expected[:, k]).mean()
        hess[j, k] = hess[k, j] = covariance
    return value, grad.cpu().numpy(), hess.cpu().numpy()


def _newton(members, labels, w, lower, upper, max_steps):
    """Projected Newton with backtracking; returns (w, nll, steps).

    Once the Newton decrement is below FINAL_DECREMENT, the next full step lands within about
    its square of the optimal NLL (quadratic convergence): that step is taken and only its NLL
    is computed, which saves a pass of derivatives over the data.
    """
    value, grad, hess = nll_and_derivatives(members, labels, w)
    noise = VALUE_NOISE[torch.promote_types(members[0].dtype, torch.float32)]
    # Any float32 member brings float32 rounding into the derivatives.
    precision = torch.float64 if all(m.dtype == torch.float64 for m in members) else torch.float32
    rcond = HESSIAN_RCOND[precision]
    gradient_tol = GRADIENT_TOL[precision] * np.array(
        [max(1.0, float(m.abs().max())) for m in members]
    )
    steps = 0
    for steps in range(1, max_steps + 1):  # noqa: B007 (steps is reported)
        # Weights at a bound stay there unless the gradient pulls them inside (by more than
        # rounding noise: a member with no effect must keep its weight of exactly 0).
        held = ((w <= lower) & (grad > -gradient_tol)) | ((w >= upper) & (grad < gradient_tol))
        free = ~held
        if not free.any():
            break
        g_free = grad[free]
        h_free = hess[np.ix_(free, free)]
        # The pseudo-inverse keeps the step defined when members are collinear (identical
        # members) or a member has no curvature at all (constant logits): directions that do
        # not change the NLL are not moved along.
        direction = np.zeros_like(w)
        direction[free] = -np.linalg.pinv(h_free, rcond=rcond, hermitian=True) @ g_free
        decrement = -float(g_free @ direction[free])  # Newton decrement squared
        if decrement < 0:  # numerically indefinite: fall back to steepest descent
            direction[free] = -g_free
            decrement = float(g_free @ g_free)
        if decrement <= DECREMENT_TOL:
            break
        if decrement <= FINAL_DECREMENT:
            # Inside Newton's region of quadratic convergence one full step lands within about
            # decrement^2 of the optimal NLL, far below what float32 sums can resolve; comparing
            # values there would only compare rounding noise, so the step is taken (with a guard
            # against a gross failure) and only its NLL is computed.
            candidate = np.clip(w + direction, lower, upper)
            new_value = nll_and_derivatives(members, labels, candidate, derivatives=False)
            if new_value <= value + noise * max(1.0, abs(value)):
                w, value = candidate, new_value
            break
        step = 1.0
        while True:
            candidate = np.clip(w + step * direction, lower, upper)
            new_value, new_grad, new_hess = nll_and_derivatives(members, labels, candidate)
            # Armijo condition along the projected arc, with room for float32 rounding.
            slope = float(grad @ (candidate - w))
            if new_value <= value + 1e-4 * slope + noise * max(1.0, abs(value)):
                break
            step *= 0.5
            if step < 1e-12:
                return w, value, steps
        w, value, grad, hess = candidate, new_value, new_grad, new_hess
    return w, value, steps


def fit_weights(members, labels, lower=0.0, upper=W_MAX, init=None, seed: int = 0) -> WeightFit:
    """Minimise NLL over non-negative member weights (members and labels already checked)."""
    num_members = len(members)
    num_rows = members[0].shape[0]
    lower_arr = np.full(num_members, float(lower))
    upper_arr = np.full(num_members, float(upper))
    w = np.full(num_members, 1.0) if init is None else np.asarray(init, dtype=np.float64)
    w = np.clip(w, lower_arr, upper_arr)
    total_steps = 0
    if num_rows > 2 * SUBSAMPLE_ROWS:
        generator = np.random.default_rng(seed)
        rows = torch.as_tensor(
            np.sort(generator.choice(num_rows, SUBSAMPLE_ROWS, replace=False)),
            device=members[0].device,
        )
        sub_members = [m.index_select(0, rows) for m in members]
        sub_labels = labels.index_select(0, rows.cpu())
        w, _, total_steps = _newton(
            sub_members, sub_labels, w, lower_arr, upper_arr, MAX_NEWTON_STEPS
        )
    w, value, steps = _newton(members, labels, w, lower_arr, upper_arr, MAX_NEWTON_STEPS)
    return WeightFit(weights=w, nll=value, newton_steps=total_steps + steps)
