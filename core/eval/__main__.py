"""CLI: python -m core.eval NAME --data DIR [--json FILE] [--photo-left] [--checkpoint DIR].

Prints one JSON dict of metrics and writes the same dict to FILE.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..checkpoint import is_checkpoint
from ..device import setup_threads
from ..registry import REGISTRY, get_spec
from . import attributes, cyclegan, faces, pix2pix

EVALUATORS = {"pix2pix": pix2pix.evaluate, "cyclegan": cyclegan.evaluate, "dcgan": faces.evaluate,
              "attributes": attributes.evaluate}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.eval", description="Evaluate a registry model.")
    p.add_argument("name", choices=sorted(REGISTRY))
    p.add_argument("--data", type=Path, required=True,
                   help="evaluation folder: pairs for sketch2photo, testA/ + testB/ for horse2zebra")
    p.add_argument("--json", type=Path, help="also write the metrics here")
    p.add_argument("--checkpoint", type=Path, help="default: checkpoints/NAME")
    p.add_argument("--photo-left", action="store_true",
                   help="pairs are photo|edges (../shared/data order) instead of the official edges|photo")
    p.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    p.add_argument("--limit", type=int, help="evaluate only the first N items")
    args = p.parse_args(argv)

    setup_threads()
    spec = get_spec(args.name)
    if spec.task not in EVALUATORS:
        p.error(f"no evaluator for {spec.name} ({spec.task}) yet")
    checkpoint = args.checkpoint or spec.checkpoint_dir
    if not is_checkpoint(checkpoint):
        p.error(f"no checkpoint in {checkpoint} (train first: python -m core.train {spec.name})")
    if not args.data.is_dir():
        p.error(f"--data {args.data} is not a folder")
    t0 = time.time()
    metrics = EVALUATORS[spec.task](spec, args.data, checkpoint,
                                    photo_left=args.photo_left, precision=args.precision, limit=args.limit)
    metrics = {k: (round(v, 5) if isinstance(v, float) else v) for k, v in metrics.items()}
    metrics["precision"] = args.precision
    metrics["seconds"] = round(time.time() - t0, 1)
    text = json.dumps(metrics, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
