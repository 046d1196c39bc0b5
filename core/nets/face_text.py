"""The image half of a small image-text model for faces (issue 16, the text-score edit): a CNN that
maps a 64 px face into the sentence encoder's space (all-MiniLM-L6-v2, 384-d), trained contrastively
against frozen sentence embeddings of captions (CLIP's recipe with the text tower frozen and
pretrained, as in LiT, Zhai et al. 2022). The text-score edit follows its gradient back to a latent, so
everything here is differentiable with respect to the input image."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .layers import init_weights, vgg_stages


@dataclass(frozen=True)
class FaceTextNetConfig:
    """image [B, in_channels, S, S] in [-1, 1] -> unit vector [B, embed_dim].

    Stages of two 3x3 conv + batch norm + ReLU, then 2x max pooling (the attribute classifier's
    body: channels base, 2 base, 4 base, ...), global average pooling and a learned two-layer
    projection into the text space. `init_temperature`: CLIP's initial softmax temperature (0.07);
    the learned one is kept in the net as `logit_scale` = log(1 / temperature)."""

    in_channels: int = 3
    base_channels: int = 32
    num_stages: int = 4
    hidden: int = 512
    embed_dim: int = 384
    dropout: float = 0.1
    init_temperature: float = 0.07

    def __post_init__(self) -> None:
        if min(self.in_channels, self.base_channels, self.num_stages, self.hidden, self.embed_dim) < 1:
            raise ValueError("all sizes must be positive")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout must be in [0, 1)")
        if not 0 < self.init_temperature <= 1:
            raise ValueError("init_temperature must be in (0, 1]")


# CLIP clips the learned logit scale at 100 (temperature 0.01) so that training stays stable.
MAX_LOGIT_SCALE = math.log(100.0)


class FaceTextNet(nn.Module):
    def __init__(self, config: FaceTextNetConfig):
        super().__init__()
        self.config = cfg = config
        self.features, cin = vgg_stages(cfg.in_channels, cfg.base_channels, cfg.num_stages)
        self.project = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(cfg.dropout),
                                     nn.Linear(cin, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / cfg.init_temperature)))
        init_weights(self)
        for m in self.project:  # the projection needs a sensible scale from step 1 (N(0, 0.02) is too small)
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_channels, S, S] in [-1, 1] -> unit-length embeddings [B, embed_dim] (float32)."""
        return F.normalize(self.project(self.features(x)).float(), dim=-1)

    def scale(self) -> torch.Tensor:
        """The learned logit scale exp(logit_scale) (1 / temperature), clipped at 100 as in CLIP."""
        return self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
