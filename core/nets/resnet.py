"""ResNet generator (Johnson et al. 2016, as used by CycleGAN, Zhu et al. 2017)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import NORMS, check_choice, init_weights, norm_layer


@dataclass(frozen=True)
class ResnetConfig:
    """c7s1-k, two stride-2 downsamplings, num_blocks residual blocks, two upsamplings, c7s1-out.

    The paper uses 6 blocks at 128 px and 9 at 256 px. Fully convolutional: any input whose
    sides are multiples of 4 works (trained on crops, run on whole photos).
    """

    in_channels: int = 3
    out_channels: int = 3
    base_channels: int = 32
    num_blocks: int = 6
    norm: str = "instance"

    def __post_init__(self) -> None:
        check_choice("norm", self.norm, NORMS)
        if self.num_blocks < 0 or self.base_channels < 1:
            raise ValueError("num_blocks must be >= 0 and base_channels >= 1")


class _ResBlock(nn.Module):
    def __init__(self, ch: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), norm_layer(norm, ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), norm_layer(norm, ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """x [B, in_channels, H, W] in [-1, 1] -> [B, out_channels, H, W] in [-1, 1]; H, W % 4 == 0."""

    def __init__(self, config: ResnetConfig):
        super().__init__()
        self.config = cfg = config
        c = cfg.base_channels
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(cfg.in_channels, c, 7),
                                   norm_layer(cfg.norm, c), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(c * mult, c * mult * 2, 3, stride=2, padding=1), norm_layer(cfg.norm, c * mult * 2),
                       nn.ReLU(True)]
        layers += [_ResBlock(c * 4, cfg.norm) for _ in range(cfg.num_blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(c * mult, c * mult // 2, 3, stride=2, padding=1, output_padding=1),
                       norm_layer(cfg.norm, c * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, cfg.out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    multiple = 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
