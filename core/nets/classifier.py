"""A small CNN for multi-label face attributes at 64x64."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import init_weights, vgg_stages


@dataclass(frozen=True)
class AttributeNetConfig:
    """image [B, in_channels, S, S] -> one logit per attribute [B, num_outputs]."""

    in_channels: int = 3
    num_outputs: int = 40
    base_channels: int = 32
    num_stages: int = 4
    dropout: float = 0.2

    def __post_init__(self) -> None:
        if min(self.in_channels, self.num_outputs, self.base_channels, self.num_stages) < 1:
            raise ValueError("all sizes must be positive")


class AttributeNet(nn.Module):
    def __init__(self, config: AttributeNetConfig):
        super().__init__()
        self.config = cfg = config
        self.features, cin = vgg_stages(cfg.in_channels, cfg.base_channels, cfg.num_stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(cfg.dropout),
                                  nn.Linear(cin, cfg.num_outputs))
        init_weights(self)
        nn.init.kaiming_normal_(self.head[-1].weight)  # the logits need a sensible scale from step 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_channels, S, S] in [-1, 1] -> logits [B, num_outputs]."""
        return self.head(self.features(x))
