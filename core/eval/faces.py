"""Evaluate the faces GAN: FD_eff / KID_eff of generated samples against a folder of faces."""
from __future__ import annotations

from pathlib import Path

import torch

from ..checkpoint import load_checkpoint
from ..data.faces import FaceDataset
from ..device import inference_dtype, pick_device
from .metrics import DistributionMetrics


def evaluate(spec, data: Path, checkpoint: Path, precision: str = "bf16", limit: int | None = None,
             samples: int = 5000, batch_size: int = 250, seed: int = 0, **_) -> dict[str, float]:
    """FD_eff and KID_eff between `samples` generated faces (fixed seed) and the faces in `data`
    (cut and resized exactly like the training images; at most `limit` of them)."""
    device = pick_device("auto")
    nets, _ = load_checkpoint(checkpoint)
    G = nets["G"].to(device=device, dtype=inference_dtype(device, precision)).eval()
    opts = spec.data.options
    ds = FaceDataset(data, augment=False, crop_fraction=opts.get("crop_fraction", 0.72),
                     center_y=opts.get("center_y", 0.55))
    n_real = min(len(ds), limit) if limit else len(ds)
    dist = DistributionMetrics()
    with torch.inference_mode():
        for start in range(0, n_real, batch_size):
            real = torch.stack([ds[i]["image"] for i in range(start, min(n_real, start + batch_size))])
            dist.add(real=real * 0.5 + 0.5)
        gen = torch.Generator().manual_seed(seed)
        for start in range(0, samples, batch_size):
            z = torch.randn(min(batch_size, samples - start), G.config.z_dim, generator=gen)
            fake = G(z.to(device, next(G.parameters()).dtype)).float().cpu()
            dist.add(fake=(fake * 0.5 + 0.5).clamp(0, 1))
    return {**dist.compute(), "n_fake": samples, "n_real": n_real}
