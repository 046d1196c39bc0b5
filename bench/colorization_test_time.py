"""Test-time levers on the semantic test: the input scale the net sees, and a mirror average.

    python bench/colorization_test_time.py [--checkpoint DIR] [--sizes 128,160,192,224] [--json FILE]

The colorizer's encoder is EfficientNet-Lite0, pre-trained on ImageNet at 224 px, then fine-tuned at
128 px; the eval classifier sees the 128 px photos resized to 224. Does the net find more of the
semantics when its grey input is upsampled towards the pre-training scale (its ab is then resized
back to the photo), and does averaging its ab with that of the mirrored photo help? Each variant is
scored as `python -m core.eval colorization` scores the model without hints (same held-out photos,
128 px, fp32 classifier): top-1 kept, gap_recovered, colourfulness ratio, PSNR. No training; the
checkpoint's own decoding (its temperature, bf16 where the CPU has it) is used throughout.
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.colorization_temperature import score_variants  # noqa: E402
from bench.common import emit  # noqa: E402
from core.data.colour_photos import PhotoDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval.colorization import eval_files  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.pipelines.colorization import ColorizationPipeline  # noqa: E402
from core.registry import ROOT, get_spec  # noqa: E402


def colorize(pipe: ColorizationPipeline, L: torch.Tensor, size: int, mirror: bool) -> torch.Tensor:
    """L [B, 1, S, S] in [-1, 1] -> ab [B, 2, size / 2, size / 2]: the net run on L resized to size x size
    (and, with `mirror`, the mean of its ab and the un-mirrored ab of the mirrored input)."""
    x = L if size == L.shape[-1] else F.interpolate(L, size=(size, size), mode="bilinear", align_corners=False)
    ab = pipe.run(x)
    if mirror:
        ab = (ab + pipe.run(x.flip(-1)).flip(-1)) / 2
    return ab


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=ROOT / "checkpoints" / "colorization")
    ap.add_argument("--model", default="colorization", help="the registry entry whose held-out photos to use")
    ap.add_argument("--sizes", default="128,160,192,224", help="input sides (multiples of 32)")
    ap.add_argument("--limit", type=int, help="N photos evenly spaced through the set (default: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    setup_threads()
    pipe = ColorizationPipeline.from_checkpoint(args.checkpoint)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if any(s % pipe.multiple for s in sizes):
        ap.error(f"--sizes must be multiples of {pipe.multiple}")
    ds = PhotoDataset(eval_files(get_spec(args.model), None), crop_size=pipe.image_size, augment=False)
    n_all = len(ds)
    order = torch.linspace(0, n_all - 1, min(args.limit, n_all)).round().long().tolist() if args.limit else range(n_all)
    variants = {f"{s} px{' + mirror' if m else ''}": lambda L, s=s, m=m: colorize(pipe, L, s, m)
                for s in sizes for m in (False, True)}
    scores = score_variants(variants, ds, list(order), EfficientNetFeatures(precision="fp32"))  # as the eval
    n, acc_gray = len(order), next(iter(scores.values()))["acc_gray"]
    rows = {k: {f: v[f] for f in ("acc_ours", "gap_recovered", "colourfulness_ratio", "psnr_rgb")} for k, v in scores.items()}
    ck = args.checkpoint.resolve()
    emit({"checkpoint": str(ck.relative_to(ROOT)) if ck.is_relative_to(ROOT) else str(ck), "n": n,
          "photo_size": pipe.image_size, "precision": str(pipe.dtype), "acc_gray": acc_gray, "variants": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
