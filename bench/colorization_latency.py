"""Time of the colorization tab on this machine: the model alone, and whole requests.

    python bench/colorization_latency.py [--repeats 20] [--checkpoint DIR] [--json FILE]

- model_{side}px_{precision}: the network on a square L of that side (the tab feeds it the photo
  at a 128 px long side; 256 is the issue's yardstick);
- upload_{side}px: a whole request for a fresh photo (decoding, Lab at full resolution, the model,
  ab upsampled onto the photo's own L, back to RGB), with no cache hit: every call gets new pixels;
- hint_{side}px: a request for the same photo with one more hint (its L comes from the cache).
Uses the shipped checkpoint when there is one, else a freshly initialised net of the registry's
architecture (the same arithmetic, so the same time).
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import DTYPES, emit, machine, timed  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.nets import build_net  # noqa: E402
from core.pipelines.colorization import ColorizationPipeline, has_checkpoint  # noqa: E402
from core.registry import get_spec  # noqa: E402


def _pipeline(precision: str, checkpoint: Path | None = None) -> ColorizationPipeline:
    spec = get_spec("colorization")
    if checkpoint is not None or has_checkpoint():
        pipe = ColorizationPipeline.from_checkpoint(checkpoint or spec.checkpoint_dir, device="cpu", precision=precision)
    else:
        pipe = ColorizationPipeline(build_net(spec.nets["G"]), 128, torch.device("cpu"))
    # The dtype is forced, so that a CPU without native bf16 shows why it is served fp32.
    pipe.dtype = DTYPES[precision]
    pipe.G.to(pipe.dtype)
    return pipe


def _photos(side: int, n: int) -> list[Image.Image]:
    """n different photos of side x side (3:4 would do as well): smooth noise, no two alike."""
    rng = np.random.default_rng(side)
    return [Image.fromarray(rng.integers(0, 256, (side // 8, side // 8, 3), dtype=np.uint8)).resize(
        (side, side), Image.BICUBIC) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--checkpoint", type=Path, help="a candidate's checkpoint (default: the shipped one)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    weights = str(args.checkpoint) if args.checkpoint else "shipped" if has_checkpoint() else "random init"
    report = {**machine(), "weights": weights}
    for precision in ("bf16", "fp32"):
        pipe = _pipeline(precision, args.checkpoint)
        for side in (128, 256):
            L = torch.rand(1, 1, side, side) * 2 - 1
            report[f"model_{side}px_{precision}"] = timed(lambda: pipe.run(L), args.repeats)
    pipe = _pipeline("bf16" if machine().get("native_bf16") else "fp32", args.checkpoint)
    report["served_precision"] = str(pipe.dtype).replace("torch.", "")
    for side in (256, 1024, 2048):
        photos = iter(_photos(side, args.repeats + 5))
        report[f"upload_{side}px"] = timed(lambda: pipe(next(photos)), args.repeats)
        photo, hints = _photos(side, 1)[0], []

        def one_more_hint():
            hints.append((len(hints) % side, side // 2, (40, 90, 200)))
            del hints[:-8]  # stay under MAX_HINTS
            return pipe(photo, hints)

        report[f"hint_{side}px"] = timed(one_more_hint, args.repeats)
    emit(report, args.json)


if __name__ == "__main__":
    main()
