"""PSNR and SSIM inside a hole (inpainting): how close a fill is to the truth where it was missing."""
from __future__ import annotations

import torch


def hole_psnr(a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """PSNR (dB) over the hole's pixels of each image: a, b [B, C, H, W] in [0, 1], hole [B, 1, H, W]
    0/1 (1 = hole) -> [B]. The MSE is floored at 1e-10 (identical fills give 100 dB), as in
    core.metrics.pixels.psnr."""
    hole = hole.float()
    se = ((a.float() - b.float()) ** 2 * hole).flatten(1).sum(1)
    mse = se / (hole.flatten(1).sum(1) * a.shape[1]).clamp_min(1.0)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def hole_ssim(a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """SSIM (torchmetrics, Gaussian window 11, sigma 1.5) averaged over the hole's pixels of each
    image: a, b [B, C, H, W] in [0, 1], hole [B, 1, H, W] 0/1 -> [B]. The SSIM map is computed on the
    whole images, so windows at the hole's edge also see the known pixels around it."""
    # imported here: torchmetrics costs 3.5 s of CPU to import, which every `import core.train` paid
    from torchmetrics.functional.image import structural_similarity_index_measure

    _, ssim_map = structural_similarity_index_measure(a.float().clamp(0, 1), b.float().clamp(0, 1), data_range=1.0,
                                                      reduction="none", return_full_image=True)
    hole = hole.float().expand_as(ssim_map)
    return (ssim_map * hole).flatten(1).sum(1) / hole.flatten(1).sum(1).clamp_min(1.0)
