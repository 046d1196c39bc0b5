"""U-Net generator (Isola et al. 2017, "Image-to-Image Translation with Conditional GANs")."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from .layers import NORMS, check_choice, init_weights, norm_layer

UPSAMPLES = ("transpose", "resize")


@dataclass(frozen=True)
class UNetConfig:
    """Shape of a U-Net generator.

    The input side must be divisible by 2**num_downs; with num_downs=7 a 128px input reaches a
    1x1 bottleneck, as the paper's 256px/8-level net does. Channels double per level from
    base_channels up to max_channels. "resize" upsampling (nearest + 3x3 conv) has 9/16 of the
    parameters of a 4x4 transposed conv and no checkerboard artefacts.
    """

    in_channels: int = 1
    out_channels: int = 3
    base_channels: int = 32
    max_channels: int = 256
    num_downs: int = 7
    norm: str = "batch"
    dropout: float = 0.5
    upsample: str = "resize"

    def __post_init__(self) -> None:
        check_choice("norm", self.norm, NORMS)
        check_choice("upsample", self.upsample, UPSAMPLES)
        if self.num_downs < 2:
            raise ValueError("num_downs must be >= 2")
        if min(self.in_channels, self.out_channels, self.base_channels) < 1:
            raise ValueError("channel counts must be positive")


def _up(cfg: UNetConfig, in_ch: int, out_ch: int) -> nn.Module:
    if cfg.upsample == "transpose":
        return nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_ch, out_ch, 3, padding=1))


class UNetGenerator(nn.Module):
    """Maps x [B, in_channels, H, W] in [-1, 1] to y [B, out_channels, H, W] in [-1, 1] (tanh).

    H and W must be multiples of 2**num_downs.
    """

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = cfg = config
        chans = [min(cfg.base_channels * 2**i, cfg.max_channels) for i in range(cfg.num_downs)]
        self.downs = nn.ModuleList()
        prev = cfg.in_channels
        for i, ch in enumerate(chans):
            layers: list[nn.Module] = []
            if i > 0:
                layers.append(nn.LeakyReLU(0.2))
            layers.append(nn.Conv2d(prev, ch, 4, stride=2, padding=1, bias=cfg.norm != "batch" or i == 0))
            # No norm on the first layer (paper) nor the bottleneck (a 1x1 map would be zeroed).
            if 0 < i < cfg.num_downs - 1:
                layers.append(norm_layer(cfg.norm, ch))
            self.downs.append(nn.Sequential(*layers))
            prev = ch
        self.ups = nn.ModuleList()
        for i in reversed(range(cfg.num_downs)):
            in_ch = chans[i] if i == cfg.num_downs - 1 else chans[i] * 2
            if i == 0:
                self.ups.append(nn.Sequential(nn.ReLU(), _up(cfg, in_ch, cfg.out_channels), nn.Tanh()))
                continue
            out_ch = chans[i - 1]
            layers = [nn.ReLU(), _up(cfg, in_ch, out_ch), norm_layer(cfg.norm, out_ch)]
            # Dropout in the three innermost decoder levels, as in the paper (its only noise source).
            if cfg.dropout > 0 and i >= cfg.num_downs - 3:
                layers.append(nn.Dropout(cfg.dropout))
            self.ups.append(nn.Sequential(*layers))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()  # the bottleneck feeds the first up block directly
        for up in self.ups:
            x = up(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        return x


# Phase sums of a 3 x 3 conv after 2x nearest upsampling, per axis: output pixel 2m sees x[m-1] through
# tap 0 and x[m] through taps 1 + 2; pixel 2m+1 sees x[m] through taps 0 + 1 and x[m+1] through tap 2.
# A 4 x 4 stride-2 transposed conv gives those four coefficients as taps 3, 1 (even) and 2, 0 (odd).
_PHASES = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
_TRANSPOSE_TAPS = [3, 1, 2, 0]


def resize_from_transpose(weight: torch.Tensor) -> torch.Tensor:
    """A trained ConvTranspose2d(4, stride 2, padding 1) weight [in, out, 4, 4] -> the Conv2d weight
    [out, in, 3, 3] of the nearest-upsample + 3x3 conv ("resize") closest to it in least squares
    over its four output phases. The two agree exactly where the transposed conv treats even and odd
    output pixels alike; what they differ by is its checkerboard (Odena et al. 2016), which the
    resize-conv cannot make."""
    pinv = torch.linalg.pinv(_PHASES.double())  # [3, 4]
    k = weight.double()[..., _TRANSPOSE_TAPS, :][..., _TRANSPOSE_TAPS]  # [in, out, 4, 4] in phase order
    w = torch.einsum("ai,bj,...ij->...ab", pinv, pinv, k)  # pinv (x) pinv applied on both axes
    return w.transpose(0, 1).to(weight.dtype).contiguous()


def transpose_from_resize(weight: torch.Tensor) -> torch.Tensor:
    """A resize-conv's Conv2d weight [out, in, 3, 3] -> the ConvTranspose2d(4, stride 2, padding 1)
    weight [in, out, 4, 4] that computes exactly the same (each output phase's two taps per axis are
    sums of the 3x3 taps, so both phases come from one kernel: no checkerboard)."""
    phase = torch.einsum("ia,jb,xyab->xyij", _PHASES.to(weight.dtype), _PHASES.to(weight.dtype), weight)
    # _TRANSPOSE_TAPS is its own inverse (3 <-> 0), so the same indexing maps phases back to taps.
    return phase[..., _TRANSPOSE_TAPS, :][..., _TRANSPOSE_TAPS].transpose(0, 1).contiguous()


def as_transposed(G: UNetGenerator) -> UNetGenerator:
    """A U-Net with resize-conv upsampling -> the same function computed by 4x4 stride-2 transposed
    convs (`transpose_from_resize`): 4 multiply-adds per output pixel and channel pair instead of
    the 3x3 conv's 9 at the upsampled size, so it serves faster. Outputs agree to float rounding."""
    return _with_upsample(G, "transpose", transpose_from_resize)


def as_resize(G: UNetGenerator) -> UNetGenerator:
    """A U-Net with transposed-conv upsampling -> the closest one with resize-convs
    (`resize_from_transpose` at every decoder level): the same net without its checkerboard."""
    return _with_upsample(G, "resize", resize_from_transpose)


def _up_conv(level: nn.Sequential) -> nn.Module:
    """A decoder level's upsampling conv: ConvTranspose2d, or the Conv2d after the nearest Upsample."""
    up = level[1]
    return up[1] if isinstance(up, nn.Sequential) else up


@torch.no_grad()
def _with_upsample(G: UNetGenerator, upsample: str, convert) -> UNetGenerator:
    """G as it is if it already upsamples by `upsample`; else a twin that does, with every other
    weight and buffer copied and each up conv's weight through `convert`. Leaves the random state alone."""
    if G.config.upsample == upsample:
        return G
    with torch.random.fork_rng(devices=[]):  # building the twin initialises weights it then overwrites
        twin = UNetGenerator(replace(G.config, upsample=upsample))
    missing, unexpected = twin.load_state_dict(G.state_dict(), strict=False)
    for src, dst in zip(G.ups, twin.ups, strict=True):
        _up_conv(dst).weight.copy_(convert(_up_conv(src).weight))
        _up_conv(dst).bias.copy_(_up_conv(src).bias)
    # Nothing but the up convs may differ: ups.N.1.* (transposed) and ups.N.1.1.* (inside Upsample + Conv2d).
    up_keys = {f"ups.{i}.1.{inner}{p}" for i in range(len(G.ups)) for inner in ("", "1.") for p in ("weight", "bias")}
    if set(missing) | set(unexpected) != up_keys:
        raise ValueError(f"unexpected state: missing {missing}, unexpected {unexpected}")
    return twin.train(G.training)
