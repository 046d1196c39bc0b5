"""Pixel metrics in plain torch: PSNR and L1 per image (the one PSNR of the project)."""
from __future__ import annotations

import torch


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """PSNR in dB of each image of a batch [B, C, H, W] (or one image [C, H, W] -> a 0-d tensor).
    `data_range` is max - min of the scale (1 for [0, 1], 2 for [-1, 1]); identical images give
    100 dB (the MSE is floored at 1e-10 of the range squared), not infinity."""
    dims = tuple(range(1, a.dim())) if a.dim() == 4 else tuple(range(a.dim()))
    mse = ((a.float() - b.float()) ** 2).mean(dim=dims) / data_range ** 2
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of each image of a batch [B, C, H, W] -> [B]."""
    return (a.float() - b.float()).abs().mean(dim=tuple(range(1, a.dim())))


def colourfulness(images: torch.Tensor) -> torch.Tensor:
    """Hasler & Suesstrunk (2003) colourfulness of each image [B, 3, H, W] in [0, 1] -> [B].

    On the 0-255 scale: rg = R - G, yb = (R + G) / 2 - B, M = std(rg, yb) + 0.3 * mean(rg, yb)
    (each the root of the two squared terms). Grey images score 0; the authors' "quite colourful"
    starts near 45, "highly colourful" near 60. A pale, sepia-ish output scores far below its photo.
    """
    x = images.float() * 255.0
    r, g, b = x[:, 0].flatten(1), x[:, 1].flatten(1), x[:, 2].flatten(1)
    rg, yb = r - g, 0.5 * (r + g) - b
    std = torch.sqrt(rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False))
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return std + 0.3 * mean


def object_share(images: torch.Tensor, paper: float = 0.85) -> torch.Tensor:
    """Share of each image [B, 3, H, W] in [0, 1] that is not near-white paper (some channel below
    `paper`) -> [B]. The shoe and bag photos stand on white; a "pale ghost" output (a washed-out
    object that fades into the paper) covers far less of the frame than its photo."""
    return (images.float().amin(dim=1) < paper).float().flatten(1).mean(dim=1)


def interior_fill(images: torch.Tensor, interiors: torch.Tensor, pale: float = 0.75) -> tuple[torch.Tensor, torch.Tensor]:
    """How solidly each output fills the drawing it was made from.

    images [B, 3, H, W] in [0, 1]; interiors [B, H, W] bool, the area inside the drawn outline
    (`core.data.sketches.outline_interior`). Returns (filled [B]: share of the interior that is not
    pale, i.e. some channel below `pale`; chroma [B]: mean max - min channel of those pixels on the
    0-255 scale, 0 where none). A "pale ghost" (an outline filled with near-white) scores a low
    `filled`; a grey object a low `chroma`; a photo of a shoe or bag fills its outline (> 0.9).
    """
    lo, hi = images.float().amin(dim=1), images.float().amax(dim=1)
    solid = (lo < pale) & interiors
    inside = interiors.flatten(1).sum(dim=1).clamp_min(1)
    filled = solid.flatten(1).sum(dim=1) / inside
    chroma = ((hi - lo) * solid).flatten(1).sum(dim=1) / solid.flatten(1).sum(dim=1).clamp_min(1) * 255
    return filled, chroma
