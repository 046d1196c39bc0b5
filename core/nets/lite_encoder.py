"""An EfficientNet-Lite0 body as a U-Net encoder for the colorization net (Larsson, Maire &
Shakhnarovich 2016, "Learning Representations for Automatic Colorization": a classification net's
features name the object, which decides its colour).

The architecture comes from `efficientnet_lite_pytorch` (built here without weights: nets do no
I/O); the training task copies the ImageNet weights in (`core.metrics.features.lite0_state`) and
fine-tunes them, and the checkpoint then holds the whole net. Its classifier head (conv_head, fc) is
dropped: only the blocks' features are used.
"""
from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

# The ImageNet statistics the backbone's weights expect (RGB in [0, 1]).
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def _lite0() -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints
        net = EfficientNet.from_name("efficientnet-lite0")
    for name in ("_conv_head", "_bn1", "_avg_pooling", "_dropout", "_fc"):
        delattr(net, name)
    return net


class LiteEncoder(nn.Module):
    """(L [B, 1, H, W] in [-1, 1], hints [B, hint_channels, H, W]) -> the features at strides 2, 4, 8,
    16 and 32 (channels `self.channels`: 16, 24, 40, 112, 320), H and W multiples of 32.

    L goes in as a grey RGB picture with the ImageNet normalisation; the hints enter through a conv
    added to the stem's (zero at first, so the pretrained features start unchanged)."""

    def __init__(self, hint_channels: int):
        super().__init__()
        self.body = _lite0()
        stem = self.body._conv_stem
        self.hint_stem = nn.Conv2d(hint_channels, stem.out_channels, 3, stride=2, padding=1, bias=False)
        nn.init.zeros_(self.hint_stem.weight)
        # The block after which each resolution ends (its output is that stride's skip feature).
        strides = [block._depthwise_conv.stride[0] for block in self.body._blocks] + [2]
        self.taps = [i for i in range(len(self.body._blocks)) if strides[i + 1] == 2]
        self.channels = [self.body._blocks[i]._project_conv.out_channels for i in self.taps]
        self.register_buffer("grey_mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("grey_std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, L: torch.Tensor, hints: torch.Tensor) -> list[torch.Tensor]:
        grey = ((L + 1.0) * 0.5 - self.grey_mean) / self.grey_std  # [B, 3, H, W] by broadcasting
        net = self.body
        x = net._swish(net._bn0(net._conv_stem(grey) + self.hint_stem(hints)))
        feats = []
        for i, block in enumerate(net._blocks):
            x = block(x)  # no drop-connect: a short fine-tune
            if i in self.taps:
                feats.append(x)
        return feats


__all__ = ["LiteEncoder"]
