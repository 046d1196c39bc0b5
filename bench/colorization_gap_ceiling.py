"""How much of the semantic gap can a colorization win back, and what does the classifier need?

    python bench/colorization_gap_ceiling.py [--data DIR] [--limit N] [--json FILE]

The semantic test of `python -m core.eval colorization` (EfficientNet-Lite0's top-1 on a photo's
colour version, kept on a colorization of its grey version; gap_recovered = (acc - acc_gray) /
(1 - acc_gray)) applied to the truth's own colours, spoilt in known ways, on the held-out photos
(default) at the models' 128 px: no model runs. Each row is what a colorizer that made exactly that
error would score:
- the truth's ab at a lower resolution (the nets predict at half resolution; 16 / 8 px keep only the
  colour layout; 1 px is one tint per photo);
- the truth's ab with its saturation scaled (sepia-like when < 1), or its hue turned by a fixed
  angle (right layout and saturation, wrong hue).
A goal above the rows a colorizer can realistically reach (say, the right layout at 16 px with a
30-degree hue error) is one the test itself puts out of reach. Per-folder figures too.
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.data import colour  # noqa: E402
from core.data.colour_photos import PhotoDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval.colorization import eval_files, folder_label  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.metrics.semantic import gap_recovered  # noqa: E402
from core.registry import get_spec  # noqa: E402

SIZE = 128  # the colorization models' input side


def _at_resolution(side: int):
    def spoil(ab: torch.Tensor) -> torch.Tensor:
        return colour.upsample_ab(F.adaptive_avg_pool2d(ab, side), *ab.shape[-2:])
    return spoil


def _saturation(scale: float):
    return lambda ab: ab * scale


def _hue(degrees: float):
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))

    def spoil(ab: torch.Tensor) -> torch.Tensor:
        a, b = ab[:, :1], ab[:, 1:]
        return torch.cat([c * a - s * b, s * a + c * b], 1)
    return spoil


VARIANTS = {
    "truth": lambda ab: ab,
    "grey": torch.zeros_like,
    "ab at 64 px (the nets' output side)": _at_resolution(64),
    "ab at 16 px": _at_resolution(16),
    "ab at 8 px": _at_resolution(8),
    "ab at 1 px (one tint per photo)": _at_resolution(1),
    "saturation x 0.5": _saturation(0.5),
    "saturation x 0.75": _saturation(0.75),
    "hue + 30 degrees": _hue(30),
    "hue + 60 degrees": _hue(60),
    "hue + 90 degrees": _hue(90),
    "ab at 16 px, hue + 30 degrees": lambda ab: _hue(30)(_at_resolution(16)(ab)),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="a folder of colour photos (default: the held-out 5 %%)")
    ap.add_argument("--limit", type=int, help="N photos evenly spaced through the set")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    setup_threads()
    ds = PhotoDataset(eval_files(get_spec("colorization"), args.data), crop_size=SIZE, augment=False)
    n = min(args.limit or len(ds), len(ds))
    order = torch.linspace(0, len(ds) - 1, n).round().long().tolist()
    feats = EfficientNetFeatures(precision="fp32")  # as the eval: bf16 flips borderline decisions
    hits = {name: [] for name in VARIANTS}
    labels = [folder_label(ds.files[i].path) for i in order]
    with torch.inference_mode():
        for start in range(0, n, 32):
            rgb = torch.stack([ds[i]["image"] for i in order[start:start + 32]]) * 0.5 + 0.5
            L, ab = colour.rgb_to_lab(rgb)
            top = feats.logits(colour.lab_to_rgb(L, ab)).argmax(1)
            for name, spoil in VARIANTS.items():
                hits[name].append(feats.logits(colour.lab_to_rgb(L, spoil(ab).clamp(-1, 1))).argmax(1) == top)
    hits = {name: torch.cat(h).float() for name, h in hits.items()}
    result = {"n": n, "size": SIZE, "features_precision": feats.precision,
              "rows": {name: _figures(h, hits["grey"]) for name, h in hits.items()},
              "by_folder": {}}
    for label in sorted(set(labels)):
        keep = torch.tensor([lab == label for lab in labels])
        result["by_folder"][label] = {name: _figures(h[keep], hits["grey"][keep]) for name, h in hits.items()}
    emit(result, args.json)
    return 0


def _figures(hits: torch.Tensor, grey_hits: torch.Tensor) -> dict[str, float | None]:
    acc, gap = float(hits.mean()), gap_recovered(float(grey_hits.mean()), float(hits.mean()))
    return {"n": len(hits), "acc": round(acc, 4), "gap_recovered": None if gap is None else round(gap, 4)}


if __name__ == "__main__":
    raise SystemExit(main())
