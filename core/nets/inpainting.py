"""Inpainting generator: an encoder-decoder with dilated convolutions at the bottleneck (Pathak et al.
2016, "Context Encoders"; the dilated middle of Iizuka et al. 2017, "Globally and Locally
Consistent Image Completion").

Input [B, 4, H, W]: the masked image in [-1, 1] (hole pixels set to 0) and the hole mask (1 = hole,
0 = known). Output [B, 3, H, W] in [-1, 1] (tanh): a whole image; the caller keeps the known pixels
and takes only the hole from it (the composite). The encoder halves the input num_downs times; the
dilated convolutions there (dilations 2, 4, 8, 2, ...) reach across a face at 64 px, so a centre
hole is filled from the whole context; the decoder upsamples (bilinear + 3x3 conv) with the
encoder's features at each level (U-Net skips: the known pixels' detail reaches the hole's edge).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import NORMS, check_choice, encode_decode, init_weights, norm_layer


@dataclass(frozen=True)
class InpaintingNetConfig:
    """Channels double per level from base_channels up to max_channels; the input side must be a
    multiple of 2**num_downs. `dilated_layers` 3x3 convs at the bottleneck, dilation
    2**(1 + i % 3)."""

    in_channels: int = 4
    out_channels: int = 3
    base_channels: int = 32
    max_channels: int = 128
    num_downs: int = 2
    dilated_layers: int = 4
    norm: str = "batch"

    def __post_init__(self) -> None:
        check_choice("norm", self.norm, NORMS)
        if self.num_downs < 1 or self.dilated_layers < 0:
            raise ValueError("num_downs must be >= 1 and dilated_layers >= 0")
        if min(self.in_channels, self.out_channels, self.base_channels, self.max_channels) < 1:
            raise ValueError("channel counts must be positive")

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this."""
        return 2 ** self.num_downs


def _conv(in_ch: int, out_ch: int, norm: str, stride: int = 1, dilation: int = 1, kernel: int = 3) -> nn.Sequential:
    """conv -> norm -> ReLU (no bias before a batch norm)."""
    pad = dilation * (kernel // 2)
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, padding=pad, dilation=dilation,
                                   bias=norm != "batch"),
                         norm_layer(norm, out_ch), nn.ReLU(inplace=True))


class InpaintingNet(nn.Module):
    """x [B, in_channels, H, W] (masked image, mask) -> image [B, out_channels, H, W] in [-1, 1]."""

    def __init__(self, config: InpaintingNetConfig):
        super().__init__()
        self.config = cfg = config
        chans = [min(cfg.base_channels * 2**i, cfg.max_channels) for i in range(cfg.num_downs + 1)]
        self.stem = _conv(cfg.in_channels, chans[0], cfg.norm, kernel=5)
        self.downs = nn.ModuleList(nn.Sequential(_conv(chans[i - 1], chans[i], cfg.norm, stride=2),
                                                 _conv(chans[i], chans[i], cfg.norm))
                                   for i in range(1, cfg.num_downs + 1))
        self.middle = nn.Sequential(*[_conv(chans[-1], chans[-1], cfg.norm, dilation=2 ** (1 + i % 3))
                                      for i in range(cfg.dilated_layers)])
        # Level i of the decoder: the level below, upsampled, beside the encoder's level i.
        self.ups = nn.ModuleList(_conv(chans[i + 1] + chans[i], chans[i], cfg.norm) for i in range(cfg.num_downs))
        self.head = nn.Conv2d(chans[0], cfg.out_channels, 3, padding=1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.head(encode_decode(x, self.stem, self.downs, self.middle, self.ups)))
