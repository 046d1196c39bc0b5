"""A run's hyper-parameters (checked) and the presets the tab offers."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .losses import LOSSES, check_loss

# Bounds of what a person (or a script) may set; the tab's sliders use the same numbers.
LR_RANGE = (1e-5, 1e-2)
D_STEPS_RANGE = (1, 10)
NOISE_DIM_RANGE = (1, 16)
BATCH_RANGE = (16, 512)
HIDDEN_RANGE = (8, 256)
OPTIMIZERS = ("adam", "rmsprop")


@dataclass(frozen=True)
class Settings:
    """One run's knobs. d_steps: discriminator updates per generator update. clip: WGAN's weight
    clipping bound (0: none); gp: WGAN-GP's lambda (0: none); spectral: spectral norm on D."""

    loss: str = "nonsaturating"
    lr_G: float = 1e-3
    lr_D: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    optimizer: str = "adam"
    d_steps: int = 1
    noise_dim: int = 2
    batch: int = 256
    hidden: int = 64
    layers: int = 3
    clip: float = 0.0
    gp: float = 0.0
    spectral: bool = False

    def __post_init__(self) -> None:
        check_loss(self.loss)
        for name, (lo, hi) in (("lr_G", LR_RANGE), ("lr_D", LR_RANGE)):
            _check_number(name, getattr(self, name), lo, hi)
        for name, (lo, hi) in (("d_steps", D_STEPS_RANGE), ("noise_dim", NOISE_DIM_RANGE), ("batch", BATCH_RANGE),
                               ("hidden", HIDDEN_RANGE), ("layers", (1, 6))):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
            _check_number(name, value, lo, hi)
        for name, lo, hi in (("beta1", 0.0, 0.999), ("beta2", 0.0, 0.9999), ("clip", 0.0, 10.0), ("gp", 0.0, 100.0)):
            _check_number(name, getattr(self, name), lo, hi)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {self.optimizer!r}")

    def changed(self, **kwargs) -> "Settings":
        return replace(self, **kwargs)


def _check_number(name: str, value, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], not {value:g}")


# The presets (name -> (settings, one line for the tab)), chosen on the ring of 8 Gaussians by
# experiment (bench/gan_playground.py; figures in docs/results/gan_playground.json, docs/RESULTS.md):
# - nonsaturating: a strong D (5 steps per G step, twice G's learning rate, batches of 64) makes G
#   collapse onto 1-3 modes (seeds 0-4) with almost all of its points on them; the same loss with
#   the default D (1 step, lr 1e-3, batch 256) covers 6-8 of 8, so the preset is the lesson's case;
# - wgan_gp: 3 critic steps, lr 1e-3, betas (0.5, 0.9), lambda 0.1 (as in the paper's toy code):
#   8/8 after 500-1,000 steps; 5 critic steps got there no sooner per step and cost 5/3 as much;
# - hinge: spectral norm (with nets.SN_GAIN) and the plain settings: 8/8 after 1,000-1,500 steps;
# - wgan: the paper's RMSprop 5e-5 and clip 0.01 moved nothing in 2,000 steps; 2e-4 and 0.05 do,
#   slowly (3 modes by step 2,000): the point of WGAN-GP;
# - minimax and lsgan: the default D; minimax starts slowly, LSGAN settles on 2-4 modes.
PRESETS: dict[str, tuple[Settings, str]] = {
    "nonsaturating": (Settings("nonsaturating", lr_D=2e-3, d_steps=5, batch=64),
                      "a strong D (5 steps per G step, twice G's learning rate): G collapses onto a few modes."),
    "minimax": (Settings("minimax"), "the original loss: G's gradient vanishes where D is sure, so it starts slowly."),
    "lsgan": (Settings("lsgan"), "least squares instead of log losses."),
    "wgan": (Settings("wgan", lr_G=2e-4, lr_D=2e-4, optimizer="rmsprop", d_steps=5, clip=0.05),
             "a Wasserstein critic kept Lipschitz by clipping its weights: slow."),
    "wgan_gp": (Settings("wgan_gp", beta2=0.9, d_steps=3, gp=0.1),
                "a Wasserstein critic kept Lipschitz by a gradient penalty: covers every mode."),
    "hinge": (Settings("hinge", spectral=True), "spectral norm on D's layers: covers every mode."),
}
assert set(PRESETS) == set(LOSSES)
