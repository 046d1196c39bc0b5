"""Differentiable augmentation for GANs trained on small datasets (Zhao et al. 2020, "DiffAugment").

The same random colour shifts, translations and cutouts are applied to every image the
discriminator sees, real or fake, in both the D and the G step. D can then no longer memorise the
few thousand training faces, and because the ops are differentiable G still gets its gradient
through them. Images are [B, C, H, W] in [-1, 1]; each image gets its own random parameters.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); '' -> (). Raises ValueError on unknown ops."""
    ops = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in ops if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment ops {unknown}; known: {', '.join(POLICIES)}")
    return ops


def _rand(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return torch.empty(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype).uniform_(low, high)


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per image."""
    x = x + _rand(x, -0.5, 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * _rand(x, 0.0, 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _rand(x, 0.5, 1.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ratio x its size (whole pixels), filling with zeros."""
    b, _, h, w = x.shape
    shift = torch.stack([torch.randint(-int(w * ratio), int(w * ratio) + 1, (b,), device=x.device),
                         torch.randint(-int(h * ratio), int(h * ratio) + 1, (b,), device=x.device)], 1)
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=torch.float32)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, :, 2] = -2.0 * shift.float() / torch.tensor([w, h], device=x.device)  # normalised coords
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Whole-pixel shifts land exactly on pixel centres, so nearest sampling is an exact copy.
    return F.grid_sample(x.float(), grid, mode="nearest", padding_mode="zeros", align_corners=False).to(x.dtype)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ratio x the image size at a random place in each image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio), int(w * ratio)
    top = torch.randint(0, h - ch + 1, (b, 1, 1), device=x.device)
    left = torch.randint(0, w - cw + 1, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


_OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, ops: tuple[str, ...]) -> torch.Tensor:
    """Apply `ops` (from parse_policy) in order; () returns x unchanged."""
    for op in ops:
        x = _OPS[op](x)
    return x
