"""PatchGAN discriminator (Isola et al. 2017): classifies overlapping patches as real or fake."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .layers import NORMS, check_choice, init_weights, norm_layer


@dataclass(frozen=True)
class PatchGANConfig:
    """With num_layers=3 each output logit sees a 70x70 input patch (the paper's default)."""

    in_channels: int = 4
    base_channels: int = 64
    num_layers: int = 3
    norm: str = "batch"
    spectral: bool = False

    def __post_init__(self) -> None:
        check_choice("norm", self.norm, NORMS)
        if self.num_layers < 1:
            raise ValueError("num_layers must be >= 1")


def receptive_field(num_layers: int) -> int:
    """Input patch side seen by one output logit (70 for num_layers=3)."""
    rf = 1
    # Walk back from the output: two stride-1 4x4 convs, then num_layers stride-2 4x4 convs.
    for stride in [1, 1] + [2] * num_layers:
        rf = (rf - 1) * stride + 4
    return rf


class PatchGANDiscriminator(nn.Module):
    """Maps x [B, in_channels, H, W] in [-1, 1] to logits [B, 1, H/2**num_layers - 2, ...]."""

    def __init__(self, config: PatchGANConfig):
        super().__init__()
        self.config = cfg = config
        wrap = spectral_norm if cfg.spectral else (lambda m: m)
        layers: list[nn.Module] = [wrap(nn.Conv2d(cfg.in_channels, cfg.base_channels, 4, 2, 1)), nn.LeakyReLU(0.2)]
        ch = cfg.base_channels
        for i in range(1, cfg.num_layers + 1):
            out = cfg.base_channels * min(2**i, 8)
            stride = 2 if i < cfg.num_layers else 1
            layers += [
                wrap(nn.Conv2d(ch, out, 4, stride, 1, bias=cfg.norm != "batch")),
                norm_layer(cfg.norm, out),
                nn.LeakyReLU(0.2),
            ]
            ch = out
        layers.append(wrap(nn.Conv2d(ch, 1, 4, 1, 1)))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The logits (as forward) and the hidden activations [B, C_i, H_i, W_i] after each LeakyReLU,
        first layer first: what pix2pixHD's feature-matching loss compares on real and fake pairs."""
        features = []
        for layer in self.model:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                features.append(x)
        return x, features
