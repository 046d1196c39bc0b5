"""Small building blocks shared by the nets."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NORMS = ("batch", "instance", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """Return a 2D normalisation layer.

    Instance norm is affine-free as in pix2pix/CycleGAN; "none" gives an identity (used where a
    norm would see a 1x1 map and zero it out).
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; expected one of {NORMS}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {choices}")


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """DCGAN/pix2pix initialisation: conv weights ~ N(0, gain), norm weights ~ N(1, gain)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def encode_decode(x, stem: nn.Module, downs: nn.ModuleList, middle: nn.Module, ups: nn.ModuleList):
    """The U-shaped body of the colorization and inpainting nets: x -> stem -> downs (each level's
    output kept) -> middle on the deepest -> for each level from the bottom up, the result upsampled
    (bilinear) to that level's size, concatenated with it and passed through ups[i]. Returns the
    features at the stem's resolution (before the net's own head)."""
    skips = [stem(x)]
    for down in downs:
        skips.append(down(skips[-1]))
    y = middle(skips.pop())
    for i in reversed(range(len(ups))):
        skip = skips[i]
        y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        y = ups[i](torch.cat([y, skip], 1))
    return y


def vgg_stages(in_channels: int, base_channels: int, num_stages: int) -> tuple[nn.Sequential, int]:
    """Stages of two 3x3 conv + batch norm + ReLU, then 2x max pooling; channels base, 2 base, 4 base,
    ... (the attribute classifier's and the face-text encoder's body). Returns (body, channels out)."""
    layers: list[nn.Module] = []
    cin = in_channels
    for i in range(num_stages):
        cout = base_channels * 2**i
        layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
                   nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
                   nn.MaxPool2d(2)]
        cin = cout
    return nn.Sequential(*layers), cin
