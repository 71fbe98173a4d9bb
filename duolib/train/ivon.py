"""IVON (Shen et al. 2024, the ``ivon-opt`` package): the variational optimizer of Appendix F."""

from __future__ import annotations

import ivon


def ivon_optimizer(model, train_size: int, lr: float, weight_decay: float, hess_init=0.1, rt=None):
    """IVON (Shen et al. 2024, the ``ivon-opt`` package) over every parameter of ``model``.

    The effective sample size is the training set size, as the ivon-opt README recommends.
    """
    return ivon.IVON(
        model.parameters(),
        lr=lr,
        ess=train_size,
        weight_decay=weight_decay,
        hess_init=hess_init,
        sync=rt is not None and rt.world_size > 1,
    )
