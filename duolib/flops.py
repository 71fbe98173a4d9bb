"""Counting a model's multiply-accumulates per image with ``torch.utils.flop_counter``.

torchvision's weight metadata reports "GFLOPS" that are in fact giga multiply-accumulates
(ResNet-50: 4.089), the convention of most papers, including this one (FLOPs balance 0.05 for
ResNet-50 + MNASNet0.75). ``torch.utils.flop_counter`` counts a multiply-add as 2 FLOPs, so we
halve its count to stay on torchvision's scale.
"""

from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode


def count_gflops(model: torch.nn.Module, input_size: tuple[int, int, int]) -> float:
    """Giga multiply-accumulates of one forward pass on one image of shape ``input_size``."""
    model = model.eval()
    example = torch.zeros(1, *input_size)
    counter = FlopCounterMode(display=False)
    # Attention must run as plain matrix products to be counted: the fused CPU kernels of
    # scaled_dot_product_attention and nn.MultiheadAttention's inference fast path (taken under
    # no_grad) are invisible to the counter. Hence the math backend and autograd left on.
    with sdpa_kernel(SDPBackend.MATH), counter:
        model(example)
    return counter.get_total_flops() / 2 / 1e9


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
