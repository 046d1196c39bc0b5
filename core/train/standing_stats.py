"""Standing statistics (Brock et al. 2019): batch-norm running statistics recomputed for a net's
current weights, as a plain mean over a few batches, when the ones it carries describe other weights
(a moving average of G; a G whose upsampling convs were just converted)."""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


@torch.no_grad()
def standing_statistics(net: nn.Module, inputs: Iterable[torch.Tensor]) -> int:
    """Reset every BatchNorm's running statistics in `net` and set them to the plain mean over the
    batches `net(x)` sees for x in `inputs` (dropout off, as when served). Leaves `net` in eval mode
    with its momenta as they were. Returns the number of batches (0 = no batch norm: nothing done)."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative (plain) average
    net.train()
    for m in net.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.eval()
    n = 0
    try:
        for x in inputs:
            net(x)
            n += 1
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
        net.eval()
    return n
