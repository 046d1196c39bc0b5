"""Which annealed-mean temperature serves the semantic test best? Tuned on one half, reported on the other.

    python bench/colorization_temperature.py [--checkpoint DIR] [--temperatures 0.1,0.2,...] [--json FILE]

The classification models decode ab as softmax(logits / T) . bin centres (Zhang 2016): T = 1 is the
mean of the plausible colours (desaturated), T -> 0 the most likely one (vivid, patchy); 0.38 is the
paper's choice and the checkpoints' default. This sweeps T on the even-numbered held-out photos (the
tuning half) without hints, measuring the eval's figures (`python -m core.eval colorization`: acc /
gap_recovered, colourfulness ratio, PSNR), then measures the best tuning T and the checkpoint's own
on the odd-numbered half, which the choice never saw. "Best" is the highest gap among the
temperatures whose colourfulness stays within 20 % of the truth's (the issue's colour goal: a
greyer decoding can win agreement, since the classifier forgives paleness more than a wrong hue).
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.data.colour_photos import PhotoDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval.colorization import eval_files, per_photo  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.metrics.semantic import gap_recovered  # noqa: E402
from core.pipelines.colorization import ColorizationPipeline  # noqa: E402
from core.registry import ROOT, get_spec  # noqa: E402

MIN_COLOURFULNESS = 0.8  # outputs' colourfulness / the truth's, at least (issue 14: within 20 %)


def measure(pipe: ColorizationPipeline, ds: PhotoDataset, indices: list[int], temperatures: list[float],
            feats: EfficientNetFeatures) -> dict[float, dict[str, float]]:
    """Per T: acc (top-1 kept), gap_recovered, colourfulness_ratio and psnr_rgb on ds[indices], no hints."""
    return score_variants({t: lambda L, t=t: pipe.run(L, temperature=t) for t in temperatures}, ds, indices, feats)


def score_variants(variants: dict, ds: PhotoDataset, indices: list[int], feats: EfficientNetFeatures) -> dict:
    """The eval's figures without hints (core.eval.colorization.per_photo) for each way of colouring,
    {key: fn(L [B, 1, S, S]) -> ab at any size}, on ds[indices]: {key: {"acc_gray", "acc_ours",
    "gap_recovered", "colourfulness_ratio", "psnr_rgb", "n"}}."""
    colourers = [lambda L, hints, f=f: f(L) for f in variants.values()]
    sums = {k: {"hit": 0.0, "colourfulness": 0.0, "psnr_rgb": 0.0} for k in variants}
    gray_hits, truth_colour = 0.0, 0.0
    with torch.inference_mode():
        for shared, rows in per_photo(colourers, ds, indices, feats, hint_counts=()):
            gray_hits += float(shared["hit_gray"].sum())
            truth_colour += float(shared["colourfulness_truth"].sum())
            for k, row in zip(variants, rows):
                for figure in sums[k]:
                    sums[k][figure] += float(row[figure].float().sum())
    n, acc_gray = len(indices), gray_hits / len(indices)
    return {k: {"acc_gray": round(acc_gray, 4), "acc_ours": round(s["hit"] / n, 4),
                # where the grey versions always agree there is no gap to win: 0 for the ranking
                "gap_recovered": round(gap_recovered(acc_gray, s["hit"] / n) or 0.0, 4),
                "colourfulness_ratio": round(s["colourfulness"] / max(truth_colour, 1e-6), 4),
                "psnr_rgb": round(s["psnr_rgb"] / n, 3), "n": n} for k, s in sums.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=ROOT / "checkpoints" / "colorization")
    ap.add_argument("--model", default="colorization", help="the registry entry whose held-out photos to use")
    ap.add_argument("--temperatures", default="0.1,0.2,0.3,0.38,0.5,0.7,1.0")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    setup_threads()
    pipe = ColorizationPipeline.from_checkpoint(args.checkpoint)
    if pipe.G.config.head != "classification":
        ap.error("temperature only matters for a classification head")
    ds = PhotoDataset(eval_files(get_spec(args.model), None), crop_size=pipe.image_size, augment=False)
    feats = EfficientNetFeatures(precision="fp32")  # as the eval
    temperatures = sorted({float(t) for t in args.temperatures.split(",")} | {pipe.temperature})
    tune = measure(pipe, ds, list(range(0, len(ds), 2)), temperatures, feats)
    colourful = [t for t in temperatures if tune[t]["colourfulness_ratio"] >= MIN_COLOURFULNESS] or [pipe.temperature]
    best = max(colourful, key=lambda t: (tune[t]["gap_recovered"], -abs(t - pipe.temperature)))
    report_ts = sorted({best, pipe.temperature})
    held = measure(pipe, ds, list(range(1, len(ds), 2)), report_ts, feats)
    emit({"checkpoint": str(args.checkpoint), "default_temperature": pipe.temperature,
          "min_colourfulness_ratio": MIN_COLOURFULNESS, "best_on_tuning_half": best,
          "tuning_half": {str(t): v for t, v in tune.items()},
          "report_half": {str(t): v for t, v in held.items()}}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
