"""A moving average of a net's weights (Polyak averaging; for GANs: Yazici et al. 2019), the net a run
ships when its task asks for one. Batch-norm statistics are copied from the trained net at every
update (as StyleGAN2-ADA does): they describe activations, which the averaged weights barely move."""
from __future__ import annotations

import copy

import torch
from torch import nn

from .config import knob


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


def ema_decay_knob():
    """The `ema_decay` knob of a task that takes AveragedG (off by default)."""
    return knob(0.0, 0.0, 0.99999, help="a moving average of G's weights is the shipped G (and the one sampled and "
                                        "evaluated live); 0 = off, G itself")


class AveragedG:
    """For a Task whose params have `ema_decay`: with ema_decay > 0, G gets a moving average
    ("G_ema"), which is the G that ships, is sampled and is evaluated live. Call `start_average`
    once G exists and `update_average(step)` after each optimiser step of G."""

    def start_average(self) -> None:
        if self.params.ema_decay > 0:
            self.nets["G_ema"] = make_ema(self.nets["G"])

    def update_average(self, step: int) -> None:
        if "G_ema" in self.nets:
            update_ema(self.nets["G_ema"], self.nets["G"], self.params.ema_decay, step)

    @property
    def G_shown(self) -> nn.Module:
        """The G that ships, is sampled and evaluated live: the moving average when there is one."""
        return self.nets.get("G_ema", self.nets["G"])

    def shipped_nets(self) -> dict[str, nn.Module]:
        return {name: self.G_shown if name == "G" else self.nets[name] for name in self.spec.shipped}

    def warm_start(self, states) -> list[str]:
        """As Task.warm_start; a warm start from a G without an average (a shipped checkpoint) starts
        the average at that G."""
        copied = super().warm_start(states)
        if "G_ema" in self.nets and "G" in states and "G_ema" not in states:
            self.nets["G_ema"].load_state_dict(states["G"])
        return copied
