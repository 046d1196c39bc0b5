"""A moving average of a net's weights (Polyak averaging; for GANs: Yazici et al. 2019), the net a run
ships when its task asks for one. Batch-norm statistics are copied from the trained net at every
update (as StyleGAN2-ADA does): they describe activations, which the averaged weights barely move."""
from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(net: nn.Module) -> nn.Module:
    """A frozen copy of `net` in eval mode, to be updated by `update_ema`."""
    ema = copy.deepcopy(net).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


def ema_decay_at(decay: float, step: int) -> float:
    """The decay used at `step` (1-based): min(decay, (1 + step) / (10 + step)), so early on, when the
    average would be mostly the random start, it follows the net (until step ~ 10 / (1 - decay))."""
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, decay: float, step: int, copy_buffers: bool = True) -> None:
    """ema <- d * ema + (1 - d) * net for every parameter (d = ema_decay_at(decay, step)); buffers
    (batch-norm running statistics) copied from `net` unless `copy_buffers` is False (a task that
    recomputes them for the averaged weights, as the faces DCGAN does when it ships)."""
    d = ema_decay_at(decay, step)
    for p_ema, p in zip(ema.parameters(), net.parameters(), strict=True):
        p_ema.lerp_(p.detach().to(p_ema.dtype), 1 - d)
    if copy_buffers:
        for b_ema, b in zip(ema.buffers(), net.buffers(), strict=True):
            b_ema.copy_(b)
