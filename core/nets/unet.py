"""U-Net generator (Isola et al. 2017, "Image-to-Image Translation with Conditional GANs")."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from .layers import NORMS, check_choice, init_weights, norm_layer

UPSAMPLES = ("transpose", "resize", "bilinear")


@dataclass(frozen=True)
class UNetConfig:
    """Shape of a U-Net generator.

    The input side must be divisible by 2**num_downs; with num_downs=7 a 128px input reaches a
    1x1 bottleneck, as the paper's 256px/8-level net does. Channels double per level from
    base_channels up to max_channels. "resize" upsampling (nearest + 3x3 conv) has 9/16 of the
    parameters of a 4x4 transposed conv and no checkerboard artefacts; "bilinear" (2x bilinear + 3x3
    conv) neither, nor the 2x2 blocks nearest upsampling lets the net draw edges along.
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
    mode = "nearest" if cfg.upsample == "resize" else "bilinear"
    return nn.Sequential(nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(in_ch, out_ch, 3, padding=1))


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


# Per axis, the weight a 3-tap conv (w0, w1, w2) after 2x upsampling puts on the inputs x[m-1], x[m], x[m+1]
# at output pixel 2m (rows 0-2) and 2m+1 (rows 3-5). Nearest: pixel 2m sees x[m-1] through w0 and x[m]
# through w1 + w2. Bilinear (align_corners=False): upsampled pixel 2m is 0.25 x[m-1] + 0.75 x[m], 2m+1 is
# 0.75 x[m] + 0.25 x[m+1] (exact away from the border, where it repeats the edge pixel).
_PHASES = {
    "resize": torch.tensor([[1.0, 0, 0], [0, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1]]),
    "bilinear": torch.tensor([[0.75, 0.25, 0], [0.25, 0.75, 0.75], [0, 0, 0.25],
                              [0.25, 0, 0], [0.75, 0.75, 0.25], [0, 0.25, 0.75]]),
}
# A 4 x 4 stride-2 transposed conv (padding 1) weighs the same six by its taps 3, 1, - and -, 2, 0 (tap 4
# stands for "none": a zero appended to the kernel). _TAP_ROWS is the converse: tap t sits in row _TAP_ROWS[t].
_TRANSPOSE_TAPS = [3, 1, 4, 4, 2, 0]
_TAP_ROWS = [5, 1, 4, 0]


def resize_from_transpose(weight: torch.Tensor, upsample: str = "resize") -> torch.Tensor:
    """A trained ConvTranspose2d(4, stride 2, padding 1) weight [in, out, 4, 4] -> the Conv2d weight
    [out, in, 3, 3] of the upsample ("resize": nearest; "bilinear") + 3x3 conv closest to it in least
    squares over the weights each output phase puts on its inputs. With nearest the two agree exactly
    where the transposed conv treats even and odd output pixels alike; what they differ by is its
    checkerboard (Odena et al. 2016), which the resize-conv cannot make."""
    pinv = torch.linalg.pinv(_PHASES[upsample].double())  # [3, 6]
    k = nn.functional.pad(weight.double(), (0, 1, 0, 1))[..., _TRANSPOSE_TAPS, :][..., _TRANSPOSE_TAPS]  # [in, out, 6, 6]
    w = torch.einsum("ai,bj,...ij->...ab", pinv, pinv, k)  # pinv (x) pinv applied on both axes
    return w.transpose(0, 1).to(weight.dtype).contiguous()


def transpose_from_resize(weight: torch.Tensor) -> torch.Tensor:
    """A resize-conv's (nearest + 3x3) Conv2d weight [out, in, 3, 3] -> the ConvTranspose2d(4, stride 2,
    padding 1) weight [in, out, 4, 4] that computes exactly the same (each output phase's two taps per
    axis are sums of the 3x3 taps, so both phases come from one kernel: no checkerboard)."""
    phases = _PHASES["resize"].to(weight.dtype)
    rows = torch.einsum("ia,jb,xyab->xyij", phases, phases, weight)  # [out, in, 6, 6]
    return rows[..., _TAP_ROWS, :][..., _TAP_ROWS].transpose(0, 1).contiguous()


def as_transposed(G: UNetGenerator) -> UNetGenerator:
    """A U-Net with resize-conv (nearest) upsampling -> the same function computed by 4x4 stride-2
    transposed convs (`transpose_from_resize`): 4 multiply-adds per output pixel and channel pair
    instead of the 3x3 conv's 9 at the upsampled size, so it serves faster. Outputs agree to float
    rounding. A bilinear U-Net has no such twin (its border differs) and is refused."""
    if G.config.upsample == "bilinear":
        raise ValueError("a bilinear U-Net has no exact transposed-conv twin")
    return _with_upsample(G, "transpose", transpose_from_resize)


def as_resize(G: UNetGenerator, upsample: str = "resize") -> UNetGenerator:
    """A U-Net with transposed-conv upsampling -> the closest one that upsamples by `upsample`
    ("resize": nearest, or "bilinear") + 3x3 conv (`resize_from_transpose` at every decoder level):
    the same net without its checkerboard. A resize-conv U-Net goes through its exact transposed twin."""
    if upsample not in ("resize", "bilinear"):
        raise ValueError(f"upsample must be 'resize' or 'bilinear', not {upsample!r}")
    if G.config.upsample not in ("transpose", upsample):
        G = as_transposed(G)
    return _with_upsample(G, upsample, lambda w: resize_from_transpose(w, upsample))


def _up_conv(level: nn.Sequential) -> nn.Module:
    """A decoder level's upsampling conv: ConvTranspose2d, or the Conv2d after the Upsample."""
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
