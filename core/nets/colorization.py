"""Colorization generator: a U-Net from lightness and colour hints to ab (Zhang, Isola & Efros 2016,
"Colorful Image Colorization"; Zhang et al. 2017, "Real-Time User-Guided Image Colorization").

Input [B, 4, H, W]: L in [-1, 1], the hint map's a and b (normalised ab, 0 where no hint) and its
0/1 mask. The net predicts at half resolution, as Zhang's (a quarter there): colour is
low-frequency, and the pipeline puts it on the full-resolution L anyway. Two heads:
- "regression": ab [B, 2, H/2, W/2] in [-1, 1] (tanh; x ab_scale = ab units);
- "classification": logits [B, num_bins, H/2, W/2] over quantised ab bins, decoded by the
  annealed mean (`decode`). The bin centres (ab units, int) and the training data's bin
  distribution are buffers, so a checkpoint needs no data at inference.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import NORMS, check_choice, encode_decode, init_weights, norm_layer

HEADS = ("regression", "classification")
# "none": the net's own encoder (trained from scratch); "efficientnet_lite0": an ImageNet body as the
# encoder (core/nets/lite_encoder.py; its weights come from the training task).
BACKBONES = ("none", "efficientnet_lite0")


@dataclass(frozen=True)
class ColorizationNetConfig:
    """Channels double per level from base_channels up to max_channels; the stem halves the
    input, each of the num_downs levels halves it again, so the input side must be a multiple of
    2**(num_downs + 1) (32 for 4). `dilated_blocks` residual blocks with dilation 2 at the
    bottleneck widen the receptive field (Zhang's conv5/conv6). `num_bins` is Q of the
    classification head (0 for regression). With a `backbone`, the encoder is that network (input
    sides multiples of 32; base_channels, num_downs and dilated_blocks unused) and the decoder's
    widths are max_channels at stride 16, half that at 8, 96 at 4 and head_channels at 2."""

    in_channels: int = 4
    base_channels: int = 32
    max_channels: int = 256
    num_downs: int = 4
    dilated_blocks: int = 2
    head: str = "regression"
    num_bins: int = 0
    head_channels: int = 64
    ab_scale: float = 110.0  # ab units per unit of the normalised ab (core.data.colour.AB_SCALE)
    norm: str = "batch"
    backbone: str = "none"
    # With a backbone: how many decoder levels, from the output's (stride 2) up, read the hint map. 1: the
    # last only, average-pooled (a hint reaches a 3x3 neighbourhood there and the backbone's zero-started
    # hint stem must learn the rest). More: each level gets the hints pooled to its size, normalised by the
    # mask, so a one-pixel hint keeps its colour in a coarse cell and a stride-16 level spreads it widely.
    hint_levels: int = 1
    # With a backbone: the width of a small encoder trained from scratch on (L, hints) beside it (0: none). Its
    # features at strides 2, 4, 8 and 16 (widths x1, x2, x4, x4) join the decoder's skips. The ImageNet body,
    # fine-tuned gently, barely learns to carry hints (docs/RESULTS.md); the from-scratch net, whose encoder
    # sees L and the hints from its first layer, learns to spread a hint over its region.
    hint_branch: int = 0

    def __post_init__(self) -> None:
        check_choice("head", self.head, HEADS)
        check_choice("backbone", self.backbone, BACKBONES)
        check_choice("norm", self.norm, NORMS)
        if self.num_downs < 1 or self.dilated_blocks < 0:
            raise ValueError("num_downs must be >= 1 and dilated_blocks >= 0")
        if min(self.in_channels, self.base_channels, self.head_channels) < 1:
            raise ValueError("channel counts must be positive")
        if self.hint_branch < 0 or (self.hint_branch and self.backbone == "none"):
            raise ValueError("hint_branch must be >= 0, and only goes with a backbone")
        if not 1 <= self.hint_levels <= 4:
            raise ValueError("hint_levels must be 1..4 (the backbone decoder's levels)")
        if (self.head == "classification") != (self.num_bins > 0):
            raise ValueError("num_bins > 0 goes with (and only with) the classification head")

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this."""
        return 32 if self.backbone != "none" else 2 ** (self.num_downs + 1)


def _conv(in_ch: int, out_ch: int, norm: str, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 conv -> norm -> ReLU (the conv has no bias before a batch norm)."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride, padding=dilation, dilation=dilation,
                                   bias=norm != "batch"),
                         norm_layer(norm, out_ch), nn.ReLU(inplace=True))


class _DilatedBlock(nn.Module):
    def __init__(self, ch: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(_conv(ch, ch, norm, dilation=2), _conv(ch, ch, norm, dilation=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ColorizationNet(nn.Module):
    """x [B, in_channels, H, W] -> head output at [H/2, W/2] (see the module docstring)."""

    def __init__(self, config: ColorizationNetConfig):
        super().__init__()
        self.config = cfg = config
        if cfg.backbone != "none":
            self._build_on_backbone(cfg)
        else:
            self._build_own(cfg)
        n_out = 2 if cfg.head == "regression" else cfg.num_bins
        self.head = nn.Conv2d(self.head_in, n_out, 1)
        init_weights(self)
        if cfg.backbone != "none":
            nn.init.zeros_(self.encoder.hint_stem.weight)  # hints start as no change to the stem
        if cfg.head == "regression":
            nn.init.normal_(self.head.weight, 0.0, 1e-3)  # start near grey, the mean colour
        if cfg.head == "classification":
            # Centres in ab units (int: exact in any checkpoint); the empirical share of the training
            # pixels per bin (before smoothing), filled by the training task from its data.
            self.register_buffer("bin_centres", torch.zeros(cfg.num_bins, 2, dtype=torch.int16))
            self.register_buffer("bin_prior", torch.zeros(cfg.num_bins))

    def _build_own(self, cfg: ColorizationNetConfig) -> None:
        chans = [min(cfg.base_channels * 2**i, cfg.max_channels) for i in range(cfg.num_downs + 1)]
        self.stem = nn.Sequential(_conv(cfg.in_channels, chans[0], cfg.norm, stride=2),
                                  _conv(chans[0], chans[0], cfg.norm))
        self.downs = nn.ModuleList(nn.Sequential(_conv(chans[i - 1], chans[i], cfg.norm, stride=2),
                                                 _conv(chans[i], chans[i], cfg.norm))
                                   for i in range(1, cfg.num_downs + 1))
        self.middle = nn.Sequential(*[_DilatedBlock(chans[-1], cfg.norm) for _ in range(cfg.dilated_blocks)])
        # One conv per decoder level: the encoder does the recognising; the decoder places colour.
        outs = chans[:-1]
        outs[0] = max(outs[0], cfg.head_channels)
        prev = [chans[i + 1] if i == cfg.num_downs - 1 else outs[i + 1] for i in range(cfg.num_downs)]
        self.ups = nn.ModuleList(_conv(prev[i] + chans[i], outs[i], cfg.norm) for i in range(cfg.num_downs))
        self.head_in = outs[0]

    def _build_on_backbone(self, cfg: ColorizationNetConfig) -> None:
        from .lite_encoder import LiteEncoder

        self.encoder = LiteEncoder(cfg.in_channels - 1)
        skips = self.encoder.channels  # strides 2, 4, 8, 16, 32
        widths = [cfg.head_channels, 96, cfg.max_channels // 2, cfg.max_channels]  # strides 2..16
        below = widths[1:] + [skips[-1]]
        # At stride 2 (the output's resolution) the hint map comes in again, so a hint is placed exactly.
        extra = [cfg.in_channels - 1 if i < cfg.hint_levels else 0 for i in range(4)]
        widths_b = [cfg.hint_branch * m for m in (1, 2, 4, 4)] if cfg.hint_branch else []  # strides 2..16
        ins = [cfg.in_channels] + widths_b[:-1]
        self.branch = nn.ModuleList(nn.Sequential(_conv(ins[i], w, cfg.norm, stride=2), _conv(w, w, cfg.norm))
                                    for i, w in enumerate(widths_b))  # empty without a hint branch
        extra = [e + w for e, w in zip(extra, widths_b)] + extra[len(widths_b):]
        self.ups = nn.ModuleList(_conv(below[i] + skips[i] + extra[i], widths[i], cfg.norm) for i in range(4))
        self.head_in = widths[0]

    def _decode_backbone(self, x: torch.Tensor) -> torch.Tensor:
        L, hints = x[:, :1], x[:, 1:]
        feats = self.encoder(L, hints)
        branch = self._branch_features(x)
        y = feats[-1]
        for i in reversed(range(4)):
            skip = feats[i]
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            parts = [y, skip] + ([self._pooled_hints(hints, skip.shape[-2:])] if i < self.config.hint_levels else [])
            parts += [branch[i]] if branch else []
            y = self.ups[i](torch.cat(parts, 1))
        return y

    def _branch_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(L, hints) [B, in_channels, H, W] -> the hint branch's features at strides 2, 4, 8, 16 ([] without one)."""
        feats = []
        for stage in self.branch:
            x = stage(x)
            feats.append(x)
        return feats

    def _pooled_hints(self, hints: torch.Tensor, size: torch.Size) -> torch.Tensor:
        """Hint map [B, 3, H, W] (ab where hinted, 0 elsewhere; 0/1 mask) -> [B, 3, h, w]: average-pooled
        (hint_levels 1), or each cell's mean hinted ab and a 0/1 "any hint here" mask (more levels)."""
        pooled = F.adaptive_avg_pool2d(hints, size)
        if self.config.hint_levels == 1:
            return pooled
        share = pooled[:, -1:]
        ab = torch.where(share > 0, pooled[:, :-1] / share.clamp_min(1e-6), torch.zeros_like(pooled[:, :-1]))
        return torch.cat([ab, (share > 0).to(hints.dtype)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.backbone != "none":
            features = self._decode_backbone(x)
        else:
            features = encode_decode(x, self.stem, self.downs, self.middle, self.ups)
        y = self.head(features)
        return torch.tanh(y) if self.config.head == "regression" else y

    def decode(self, out: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
        """Head output -> ab [B, 2, h, w] normalised (float32). Regression: as it is.
        Classification: the annealed mean (Zhang 2016): softmax(logits / T) . centres; T = 1 is
        the mean (desaturated), T -> 0 the mode (vivid, patchy); 0.38 is the paper's compromise."""
        if self.config.head == "regression":
            return out.float()
        b, q, h, w = out.shape
        # One row of Q logits per pixel (free for channels_last output), softmax over the row, then
        # a [N, Q] x [Q, 2] product: far faster than a softmax across channels plus an einsum.
        rows = out.permute(0, 2, 3, 1).reshape(-1, q).float()
        probs = torch.softmax(rows / max(temperature, 1e-4), dim=1)
        ab = probs @ (self.bin_centres.float() / self.config.ab_scale)  # [N, 2]
        return ab.reshape(b, h, w, 2).permute(0, 3, 1, 2)
