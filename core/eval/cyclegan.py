"""Evaluate horse2zebra: does the classifier see zebras, is the cycle faithful, how close are the
fakes to real zebras. DIR holds testA/ (horses) and testB/ (zebras); without DIR, the registry
data's held-out part (10% of each folder, by file-name hash, never trained on) is used."""
from __future__ import annotations

from pathlib import Path

from ..data.images import list_images
from ..data.unpaired import collect_files
from ..metrics.distribution import DistributionMetrics
from ..metrics.features import EfficientNetFeatures, resize_to_input
from ..metrics.pixels import psnr
from ..pipelines.horse2zebra import HorseZebraPipeline

ZEBRA, SORREL = 340, 339  # ImageNet classes; "sorrel" is ImageNet's horse


def test_files(spec, data: Path | None, domain: str) -> list[Path]:
    """testA/testB of DIR, or the held-out split of the registry's folders when data is None."""
    if data is not None:
        return list_images(Path(data) / f"test{domain}")
    return collect_files(spec.data.options[domain], "val", spec.data.options.get("holdout", 0.1))


def evaluate(spec, data: Path | None, checkpoint: Path, precision: str = "bf16", limit: int | None = None,
             max_side: int = 256, features: EfficientNetFeatures | None = None, **_) -> dict[str, float]:
    """Returns zebra_rate (translated horses the classifier scores zebra > sorrel), horse_rate
    (the reverse for translated zebras), the same rates on the untranslated inputs (baselines),
    fd_eff / kid_eff (translated horses vs real zebras) and cycle_psnr (A -> B -> A, dB).
    `features`: the classifier and FD/KID feature extractor. By default it runs fp32 (channels_last):
    the rates are decisions at a threshold, which bf16 autocast flips for a few borderline images
    (FD_eff barely moves: docs/results/features_speed.json)."""
    pipe = HorseZebraPipeline.from_checkpoint(checkpoint, precision=precision)
    feats = features or EfficientNetFeatures(precision="fp32")
    dist = DistributionMetrics(feats)
    out: dict[str, list[float]] = {"zebra": [], "horse": [], "zebra_in": [], "horse_in": [], "psnr": []}
    for domain, direction in (("A", "horse → zebra"), ("B", "zebra → horse")):
        files = test_files(spec, data, domain)[:limit]
        for path in files:
            x, _ = pipe.prepare(path, max_side)
            y, rec = pipe.run(x, direction)
            x01, y01 = (x * 0.5 + 0.5).clamp(0, 1), (y * 0.5 + 0.5).clamp(0, 1)
            (fx, lx), (fy, ly) = (feats.features_and_logits(resize_to_input(v)) for v in (x01, y01))
            if domain == "A":
                out["zebra"].append(float(ly[0, ZEBRA] > ly[0, SORREL]))
                out["zebra_in"].append(float(lx[0, ZEBRA] > lx[0, SORREL]))
                out["psnr"].append(float(psnr((rec * 0.5 + 0.5).clamp(0, 1), x01)))
                dist.add_features(fake=fy)
            else:
                out["horse"].append(float(ly[0, SORREL] > ly[0, ZEBRA]))
                out["horse_in"].append(float(lx[0, SORREL] > lx[0, ZEBRA]))
                dist.add_features(real=fx)
    mean = lambda v: sum(v) / len(v) if v else float("nan")  # noqa: E731
    return {"zebra_rate": mean(out["zebra"]), "horse_rate": mean(out["horse"]),
            "zebra_rate_of_inputs": mean(out["zebra_in"]), "horse_rate_of_inputs": mean(out["horse_in"]),
            **dist.compute(), "cycle_psnr": mean(out["psnr"]), "n_A": len(out["zebra"]), "n_B": len(out["horse"]),
            "features_precision": feats.precision}
