"""DCGAN generator and discriminator (Radford et al. 2016) at 64x64, with optional spectral norm."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .layers import NORMS, check_choice, init_weights, norm_layer


@dataclass(frozen=True)
class DCGANGeneratorConfig:
    """z [B, z_dim] ~ N(0, I) -> image [B, out_channels, 64, 64]; channels 8c, 4c, 2c, c."""

    z_dim: int = 100
    base_channels: int = 64
    out_channels: int = 3

    def __post_init__(self) -> None:
        if min(self.z_dim, self.base_channels, self.out_channels) < 1:
            raise ValueError("z_dim, base_channels and out_channels must be positive")


@dataclass(frozen=True)
class DCGANDiscriminatorConfig:
    """image [B, in_channels, 64, 64] -> logit [B]; channels c, 2c, 4c, 8c."""

    in_channels: int = 3
    base_channels: int = 64
    norm: str = "none"
    spectral: bool = True

    def __post_init__(self) -> None:
        check_choice("norm", self.norm, NORMS)


class DCGANGenerator(nn.Module):
    def __init__(self, config: DCGANGeneratorConfig):
        super().__init__()
        self.config = cfg = config
        c = cfg.base_channels
        chans = [cfg.z_dim, 8 * c, 4 * c, 2 * c, c]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(chans, chans[1:])):
            stride, pad = (1, 0) if i == 0 else (2, 1)
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(c, cfg.out_channels, 4, 2, 1), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, z_dim] -> images [B, out_channels, 64, 64] in [-1, 1]."""
        return self.model(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    def __init__(self, config: DCGANDiscriminatorConfig):
        super().__init__()
        self.config = cfg = config
        wrap = spectral_norm if cfg.spectral else (lambda m: m)
        c = cfg.base_channels
        chans = [cfg.in_channels, c, 2 * c, 4 * c, 8 * c]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(chans, chans[1:])):
            layers.append(wrap(nn.Conv2d(cin, cout, 4, 2, 1, bias=i == 0 or cfg.norm != "batch")))
            if i > 0:
                layers.append(norm_layer(cfg.norm, cout))
            layers.append(nn.LeakyReLU(0.2, True))
        layers.append(wrap(nn.Conv2d(8 * c, 1, 4, 1, 0)))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_channels, 64, 64] in [-1, 1] -> logits [B]."""
        return self.model(x).flatten()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_channels, 64, 64] -> the last hidden layer [B, 8c, 4, 4] (what the logit reads;
        the VAE-GAN's reconstruction is judged there, Larsen et al. 2016)."""
        return self.model[:-1](x)
