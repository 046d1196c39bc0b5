"""SSIM (torchmetrics), PSNR and L1 between outputs and their own targets."""
from __future__ import annotations

import torch
from torchmetrics.image import StructuralSimilarityIndexMeasure

from .pixels import l1, psnr


class PairedMetrics:
    """SSIM, PSNR (dB, the mean over images) and L1 between outputs and targets, [B, 3, H, W] in [0, 1]."""

    def __init__(self):
        self.ssim = StructuralSimilarityIndexMeasure(data_range=1.0, sync_on_compute=False)
        self.psnr_sum, self.l1_sum, self.n = 0.0, 0.0, 0

    def add(self, output: torch.Tensor, target: torch.Tensor) -> None:
        output, target = output.float().clamp(0, 1), target.float().clamp(0, 1)
        self.ssim.update(output, target)
        self.psnr_sum += float(psnr(output, target).sum())
        self.l1_sum += float(l1(output, target).sum())
        self.n += len(output)

    def compute(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {"ssim": float(self.ssim.compute()), "psnr": self.psnr_sum / n, "l1": self.l1_sum / n}
