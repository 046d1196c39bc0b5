"""Evaluate a paired translation model (sketch2photo) on a folder of side-by-side pairs."""
from __future__ import annotations

from pathlib import Path

import torch

from ..data.paired import PairedDataset
from ..metrics.distribution import DistributionMetrics
from ..metrics.features import EfficientNetFeatures
from ..metrics.paired import PairedMetrics
from ..pipelines.sketch2photo import Sketch2PhotoPipeline


def evaluate(spec, data: Path, checkpoint: Path, photo_left: bool = False, precision: str = "bf16",
             limit: int | None = None, batch_size: int = 16, features: EfficientNetFeatures | None = None,
             **_) -> dict[str, float]:
    """Translate every A of `data` and compare with its B.

    Returns fd_eff / kid_eff (outputs vs targets as sets), ssim, psnr (dB) and l1 (mean absolute
    error on the [0, 1] scale), plus n. Inputs are the un-augmented edge maps at the model size.
    `features`: the FD/KID feature extractor (default: EfficientNetFeatures()).
    """
    pipe = Sketch2PhotoPipeline.from_checkpoint(checkpoint, precision=precision)
    ds = PairedDataset(data, crop_size=pipe.image_size, augment=False,
                       photo_left=photo_left, input_mode=spec.data.options.get("input_mode", "rgb"))
    n = min(len(ds), limit) if limit else len(ds)
    dist, paired = DistributionMetrics(features), PairedMetrics()
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            items = [ds[i] for i in range(start, min(n, start + batch_size))]
            real_B = torch.stack([it["B"] for it in items])
            fake_B = pipe.run(torch.stack([it["A"] for it in items]))
            out, target = fake_B * 0.5 + 0.5, real_B * 0.5 + 0.5
            dist.add(real=target, fake=out.clamp(0, 1))
            paired.add(out, target)
    return {**dist.compute(), **paired.compute(), "n": n, "features_precision": dist.features.precision}
