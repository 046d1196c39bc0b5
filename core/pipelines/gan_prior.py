"""Semantic inpainting with a GAN prior (Yeh et al. 2017, "Semantic Image Inpainting with Deep
Generative Models"): search the faces GAN's latent space for the face that best matches the known
pixels; its pixels fill the hole (the caller blends them in, as Yeh et al. do with Poisson blending).

- Contextual loss: L1 between G(z) and the photo over the known pixels, each weighted by the share of
  hole pixels in its 7 x 7 neighbourhood (Yeh's weighting: the pixels around the hole decide what
  goes in it), plus a floor `context` so that the rest of the face still counts.
- Prior: Yeh et al. add the GAN discriminator's loss; the shipped faces GAN has none (docs/DESIGN.md,
  "Faces GAN"), so z is put back on the shell |z| = sqrt(D) after every step, where N(0, I) keeps
  its samples and the generator was trained (core.pipelines.faces.on_shell).
- `restarts` random starts per image are optimised together in one batch (Adam on z); each image
  keeps the start with the lowest contextual loss.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..device import autocast
from .faces import on_shell

Progress = Callable[[int, int], None]  # (steps done, steps in all)
STEPS, RESTARTS, LR = 200, 4, 0.05


def contextual_weights(hole: torch.Tensor, window: int = 7, context: float = 0.1) -> torch.Tensor:
    """hole [B, 1, H, W] (1 = hole) -> weights [B, 1, H, W]: 0 in the hole; on a known pixel, the
    share of hole pixels among its window x window neighbours, at least `context`."""
    hole = hole.float()
    near = F.avg_pool2d(hole, window, stride=1, padding=window // 2, count_include_pad=False)
    return (1 - hole) * near.clamp_min(context)


def prior_fill(G: torch.nn.Module, z_dim: int, image: torch.Tensor, hole: torch.Tensor, steps: int = STEPS,
               restarts: int = RESTARTS, lr: float = LR, seed: int = 0, dtype: torch.dtype = torch.float32,
               progress: Progress | None = None) -> torch.Tensor:
    """The faces GAN's best match to the known pixels.

    G: z [N, z_dim] -> faces [N, 3, g, g] in [-1, 1] (eval mode; its weights are only read, never
    given gradients, so a pipeline serving other tabs can share it); image [B, 3, H, W] in [0, 1],
    hole [B, 1, H, W] (1 = hole); dtype: torch.bfloat16 computes under autocast (where it is native).
    Returns G(z*) [B, 3, H, W] in [0, 1] (resized when H != g), float32 on the CPU.
    """
    device = next(G.parameters()).device
    b = len(image)
    gen = torch.Generator().manual_seed(seed)
    z = on_shell(torch.randn(b * restarts, z_dim, generator=gen)).to(device).requires_grad_(True)
    with torch.no_grad():
        g = G(z[:1].detach()).shape[-1]
    target = F.interpolate(image.float(), size=(g, g), mode="bilinear", antialias=True, align_corners=False) * 2 - 1
    holes = F.interpolate(hole.float(), size=(g, g), mode="area") > 0  # every GAN pixel the hole touches
    weights = contextual_weights(holes).to(device).repeat_interleave(restarts, 0)
    target = target.to(device).repeat_interleave(restarts, 0)
    opt = torch.optim.Adam([z], lr=lr)
    losses = torch.zeros(b * restarts)
    for step in range(1, steps + 1):
        with autocast(device, dtype):
            out = G(z)
        per_start = ((out.float() - target).abs() * weights).flatten(1).sum(1) / weights.flatten(1).sum(1)
        (grad,) = torch.autograd.grad(per_start.sum(), z)
        z.grad = grad
        opt.step()
        with torch.no_grad():
            z.copy_(on_shell(z))
        losses = per_start.detach().cpu()
        if progress is not None and (step % 10 == 0 or step == steps):
            progress(step, steps)
    best = losses.view(b, restarts).argmin(1) + torch.arange(b) * restarts
    with torch.no_grad():
        faces = G(z.detach()[best.to(device)]).float().cpu()
    faces = (faces * 0.5 + 0.5).clamp(0, 1)
    if faces.shape[-2:] != image.shape[-2:]:
        faces = F.interpolate(faces, size=image.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
    return faces


__all__ = ["LR", "RESTARTS", "STEPS", "Progress", "contextual_weights", "prior_fill"]
