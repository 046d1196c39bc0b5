"""Is colorization checkpoint B really better than A on the same photos, or a draw of the photos?

    python bench/colorization_paired.py A B [--data DIR] [--precision bf16] [--resamples 2000] [--json FILE]

Both checkpoints colour the same photos as `python -m core.eval colorization` does (the held-out photos
by default, or every photo of DIR; 128 px centre views; hints seeded by the photo's index), and each
photo gets, per model: whether the fp32 classifier keeps its colour verdict (the semantic test) and the
PSNR of the RGB result with 0, 1, 5 and 20 true hints. Reported, per model and for B - A:
- the gap recovered, with McNemar's exact test on the photos where exactly one model keeps the verdict
  (two-sided binomial p on the discordant pairs);
- the mean PSNRs and, for every figure, a 95 % paired-bootstrap interval of B - A and the share of
  resamples in which B is better (the same photo indices for A and B, so the photos' own spread cancels).
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.data.colour_photos import PhotoDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval.colorization import HINT_COUNTS, eval_files, per_photo  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.metrics.semantic import gap_recovered  # noqa: E402
from core.pipelines.colorization import ColorizationPipeline  # noqa: E402
from core.registry import get_spec  # noqa: E402

FIGURES = ("psnr_rgb", *(f"psnr_rgb_hints_{k}" for k in HINT_COUNTS))


def photo_rows(pipes: list[ColorizationPipeline], ds: PhotoDataset, feats: EfficientNetFeatures
               ) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """(grey keeps the verdict [n] bool, per pipe {"hit": [n] bool, psnr figure: [n] dB}), from the
    eval's own per-photo figures (core.eval.colorization.per_photo)."""
    grey, out = [], [{k: [] for k in ("hit", *FIGURES)} for _ in pipes]
    keys = {"hit": "hit", "psnr_rgb": "psnr_rgb", **{f"psnr_rgb_hints_{k}": f"hints_{k}/psnr_rgb" for k in HINT_COUNTS}}
    with torch.inference_mode():
        for shared, rows in per_photo([pipe.run for pipe in pipes], ds, range(len(ds)), feats):
            grey.append(shared["hit_gray"])
            for row, collected in zip(rows, out):
                for mine, theirs in keys.items():
                    collected[mine].append(row[theirs])
    return torch.cat(grey), [{k: torch.cat(v) for k, v in rows.items()} for rows in out]


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p: the chance of a split at least this uneven among the discordant pairs
    if either model were equally likely to be the one that keeps the verdict."""
    n, k = a_only + b_only, min(a_only, b_only)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def compare(grey: torch.Tensor, a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], resamples: int) -> dict:
    """The report's figures from per_photo's rows for A and B."""
    n = len(grey)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, n, (resamples, n), generator=g)

    def gap(hits: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        acc_gray = grey.float()[rows].mean(-1) if rows is not None else grey.float().mean()
        acc = hits.float()[rows].mean(-1) if rows is not None else hits.float().mean()
        return (acc - acc_gray) / (1 - acc_gray).clamp_min(1e-9)

    def interval(diff: torch.Tensor, whole: float) -> dict[str, float]:
        lo, hi = torch.quantile(diff.double(), torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
        return {"b_minus_a": round(whole, 4), "ci95": [round(lo, 4), round(hi, 4)],
                "share_b_better": round(float((diff > 0).double().mean()), 4)}

    a_only, b_only = int((a["hit"] & ~b["hit"]).sum()), int((b["hit"] & ~a["hit"]).sum())
    report = {"n": n, "acc_gray": round(float(grey.float().mean()), 5),
              "gap_recovered": {"a": round(gap_recovered(float(grey.float().mean()), float(a["hit"].float().mean())), 5),
                                "b": round(gap_recovered(float(grey.float().mean()), float(b["hit"].float().mean())), 5),
                                **interval(gap(b["hit"], idx) - gap(a["hit"], idx),
                                           float(gap(b["hit"]) - gap(a["hit"]))),
                                "photos_only_a_keeps": a_only, "photos_only_b_keeps": b_only,
                                "mcnemar_p": round(mcnemar_p(a_only, b_only), 5)}}
    for key in FIGURES:
        diff = b[key].double() - a[key].double()
        report[key] = {"a": round(float(a[key].double().mean()), 4), "b": round(float(b[key].double().mean()), 4),
                       **interval(diff[idx].mean(-1), float(diff.mean()))}
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path, help="checkpoint folder A (e.g. the shipped one)")
    ap.add_argument("b", type=Path, help="checkpoint folder B (the candidate)")
    ap.add_argument("--model", default="colorization", help="the registry entry whose held-out photos to use")
    ap.add_argument("--data", type=Path, help="a folder of colour photos instead of the held-out ones")
    ap.add_argument("--precision", choices=("bf16", "fp32"), default="bf16", help="the nets' (the classifier: fp32)")
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    setup_threads()
    pipes = [ColorizationPipeline.from_checkpoint(c, precision=args.precision) for c in (args.a, args.b)]
    if pipes[0].image_size != pipes[1].image_size:
        ap.error(f"the checkpoints were trained at {pipes[0].image_size} and {pipes[1].image_size} px")
    ds = PhotoDataset(eval_files(get_spec(args.model), args.data), crop_size=pipes[0].image_size, augment=False)
    grey, (a, b) = photo_rows(pipes, ds, EfficientNetFeatures(precision="fp32"))
    emit({"a": str(args.a), "b": str(args.b), "data": str(args.data or "held-out"), "precision": args.precision,
          **compare(grey, a, b, args.resamples)}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
