"""Is checkpoint B's FD_eff really lower than A's on the val pairs, or a draw of the items? (figures go to docs)

    python bench/sketch2photo_paired_bootstrap.py A B [--data DIR] [--inputs edges] [--resamples 1000] [--json FILE]

Both sketch2photo checkpoints translate the same items (eval mode, fp32 weights, as `python -m core.eval
sketch2photo --precision fp32`), their outputs and the photos go through the same fp32 EfficientNet-Lite0
features, then the items are resampled with replacement (the same indices for photos, A and B) and both
FDs are recomputed on each resample. Reported: both FDs on the whole set, the difference B - A, its 95 %
bootstrap interval and the share of resamples in which B is lower. A paired test: both models face the
same items, so the spread of the items themselves cancels out of the difference.

FD here is computed in closed form from the centred feature matrices (n items x 1,280): the trace term
tr sqrt(S1 S2) is the nuclear norm of X1 X2^T / (n - 1), an n x n matrix, so a resample costs one
small SVD; on the whole set it matches torchmetrics' FD (`fd_check_torchmetrics_a`). The photos go
through the features once; A's batches come from core.eval.pix2pix.val_outputs, B sees the same inputs.
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import torch  # noqa: E402

from bench.common import emit  # noqa: E402
from core.data.paired import PairedDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval.pix2pix import val_outputs  # noqa: E402
from core.metrics.distribution import DistributionMetrics  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.pipelines.sketch2photo import Sketch2PhotoPipeline  # noqa: E402
from core.registry import SHARED_DATA, get_spec  # noqa: E402


def frechet(x: torch.Tensor, y: torch.Tensor) -> float:
    """FD between feature sets x [n, d] and y [m, d] (float64), via the nuclear norm (n, m << d)."""
    xc, yc = x - x.mean(0), y - y.mean(0)
    trace_cov = (xc * xc).sum() / (len(x) - 1) + (yc * yc).sum() / (len(y) - 1)
    cross = torch.linalg.svdvals(xc @ yc.T).sum() / ((len(x) - 1) * (len(y) - 1)) ** 0.5
    return float(((x.mean(0) - y.mean(0)) ** 2).sum() + trace_cov - 2 * cross)


def features_of(images: torch.Tensor, feats: EfficientNetFeatures) -> torch.Tensor:
    """[B, 3, S, S] in [-1, 1] -> their features [B, 1280], float64."""
    return feats((images * 0.5 + 0.5).clamp(0, 1)).double()


def all_features(pipes: list[Sketch2PhotoPipeline], ds: PairedDataset, n: int, feats: EfficientNetFeatures
                 ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(the photos' features, each pipe's outputs' features), [n, 1280] float64 each; the photos once."""
    real, fakes = [], [[] for _ in pipes]
    with torch.inference_mode():
        for _, real_A, real_B, fake_B in val_outputs(pipes[0], ds, n):
            real.append(features_of(real_B, feats))
            fakes[0].append(features_of(fake_B, feats))
            for pipe, fake in zip(pipes[1:], fakes[1:]):
                fake.append(features_of(pipe.run(real_A), feats))
    return torch.cat(real), [torch.cat(f) for f in fakes]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a", type=Path, help="checkpoint A (the baseline)")
    ap.add_argument("b", type=Path, help="checkpoint B (the candidate)")
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "edges2shoes_handbags" / "val")
    ap.add_argument("--inputs", choices=["edges", "drawing"], default="edges")
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    spec = get_spec("sketch2photo")
    pipes = [Sketch2PhotoPipeline.from_checkpoint(c, precision="fp32") for c in (args.a, args.b)]
    if pipes[0].image_size != pipes[1].image_size:
        ap.error(f"A works at {pipes[0].image_size} px, B at {pipes[1].image_size}: compare at one size")
    ds = PairedDataset(args.data, crop_size=pipes[0].image_size, augment=False, photo_left=True,
                       input_mode=spec.data.options.get("input_mode", "rgb"), inputs=args.inputs)
    n = min(len(ds), args.limit)
    feats = EfficientNetFeatures(precision="fp32")
    real, (fake_a, fake_b) = all_features(pipes, ds, n, feats)
    check = DistributionMetrics(feats)
    check.add_features(real=real, fake=fake_a)
    gen = torch.Generator().manual_seed(0)
    diffs = []
    for _ in range(args.resamples):
        idx = torch.randint(0, n, (n,), generator=gen)
        diffs.append(frechet(real[idx], fake_b[idx]) - frechet(real[idx], fake_a[idx]))
    diffs_t = torch.tensor(diffs)
    lo, hi = torch.quantile(diffs_t, torch.tensor([0.025, 0.975], dtype=diffs_t.dtype)).tolist()
    fd_a, fd_b = frechet(real, fake_a), frechet(real, fake_b)
    emit({"a": str(args.a), "b": str(args.b), "inputs": args.inputs, "n": n, "features_precision": "fp32",
          "fd_a": round(fd_a, 3), "fd_b": round(fd_b, 3),
          "fd_check_torchmetrics_a": round(check.compute()["fd_eff"], 3),
          "diff_b_minus_a": round(fd_b - fd_a, 3), "resamples": args.resamples,
          "diff_ci95": [round(lo, 3), round(hi, 3)], "diff_mean": round(float(diffs_t.mean()), 3),
          "share_b_lower": round(float((diffs_t < 0).double().mean()), 4)}, args.json)


if __name__ == "__main__":
    main()
