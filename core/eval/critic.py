"""Do the shipped discriminators tell the shipped generator's outputs from real photos? Before a
tab draws a PatchGAN's verdicts over a picture, the verdicts should mean something.

    python -m core.eval.critic sketch2photo [--data DIR --photo-left] [--checkpoint DIR] [--json F]
    python -m core.eval.critic horse2zebra [--checkpoint DIR] [--json F]

For each critic: mean realness (0..1, core.pipelines.critic) of real photos and of generated ones,
the share of patches judged real in each, and the AUC of the image's mean realness as a real-vs-
generated score (0.5: no better than a coin; 1: always right). sketch2photo: the val pairs (the
dataset's edge map with the real photo vs with our photo); horse2zebra: the held-out photos of
each domain vs the other domain's photos translated into it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.classification import binary_auroc

from ..data.paired import PairedDataset
from ..pipelines.horse2zebra import HorseZebraPipeline
from ..pipelines.sketch2photo import Sketch2PhotoPipeline
from ..registry import get_spec
from .cyclegan import test_files
from .report import report as write_report


def _summary(real: list[np.ndarray], fake: list[np.ndarray]) -> dict[str, float]:
    score = [m.mean() for m in real] + [m.mean() for m in fake]
    label = [1] * len(real) + [0] * len(fake)
    return {"realness_real": float(np.mean([m.mean() for m in real])),
            "realness_fake": float(np.mean([m.mean() for m in fake])),
            "real_patches_of_real": float(np.mean([(m > 0.5).mean() for m in real])),
            "real_patches_of_fake": float(np.mean([(m > 0.5).mean() for m in fake])),
            "auc": float(binary_auroc(torch.tensor(score, dtype=torch.float64), torch.tensor(label))), "n_real": len(real), "n_fake": len(fake)}


def sketch2photo(checkpoint: Path, data: Path, photo_left: bool, limit: int | None) -> dict:
    pipe = Sketch2PhotoPipeline.from_checkpoint(checkpoint)
    ds = PairedDataset(data, crop_size=pipe.image_size, augment=False, photo_left=photo_left,
                       input_mode=get_spec("sketch2photo").data.options["input_mode"])
    real, fake = [], []
    for i in range(min(len(ds), limit or len(ds))):
        item = ds[i]
        x, y = item["A"][None], item["B"][None]
        real.append(pipe.judge(x, y))
        fake.append(pipe.judge(x, pipe.run(x)))
    return {"D": _summary(real, fake)}


def horse2zebra(checkpoint: Path, limit: int | None, max_side: int = 256) -> dict:
    spec = get_spec("horse2zebra")
    pipe = HorseZebraPipeline.from_checkpoint(checkpoint)
    out = {}
    for domain, own, other, direction in (("zebra", "B", "A", "horse → zebra"), ("horse", "A", "B", "zebra → horse")):
        real = [pipe.judge(pipe.prepare(f, max_side)[0], domain) for f in test_files(spec, None, own)[:limit]]
        fake = [pipe.judge(pipe.run(pipe.prepare(f, max_side)[0], direction)[0], domain)
                for f in test_files(spec, None, other)[:limit]]
        out[f"{domain} critic"] = _summary(real, fake)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["sketch2photo", "horse2zebra"])
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--data", type=Path, help="sketch2photo: pairs (default: the registry's val pairs)")
    ap.add_argument("--photo-left", action="store_true", help="pairs are photo|edges (../shared/data order)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    checkpoint = args.checkpoint or get_spec(args.model).checkpoint_dir
    if args.model == "sketch2photo":
        spec = get_spec("sketch2photo")
        data, photo_left = (args.data, args.photo_left) if args.data else (spec.data.val, spec.data.options["photo_left"])
        report = sketch2photo(checkpoint, data, photo_left, args.limit)
    else:
        report = horse2zebra(checkpoint, args.limit)
    write_report(report, args.json)


if __name__ == "__main__":
    main()
