"""CLI: python -m core.eval NAME --data DIR [--json FILE] [--photo-left] [--checkpoint DIR].
colorization*: --data DIR (a folder of colour photos) is optional; without it, the held-out split.
inpainting, faces_v2, face_text: --data DIR (a folder of face images) is optional; without it, the held-out faces.
text_edit: python -m core.eval text_edit [options of core.eval.text_edit] (no data: the shipped models;
--data DIR or --holdout: real face photos inverted through faces_v2, --faces faces_v2: its generated faces).

Prints one JSON dict of metrics and writes the same dict to FILE.
"""
from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

from ..checkpoint import is_checkpoint
from ..device import pick_device, resolve_precision, setup_threads
from ..metrics.features import EfficientNetFeatures
from ..registry import REGISTRY, get_spec
from . import attributes, colorization, cyclegan, face_text, faces, faces_v2, inpainting, pix2pix
from .report import report

EVALUATORS = {"pix2pix": pix2pix.evaluate, "cyclegan": cyclegan.evaluate, "dcgan": faces.evaluate,
              "attributes": attributes.evaluate, "colorization": colorization.evaluate,
              "inpainting": inpainting.evaluate, "vaegan": faces_v2.evaluate, "face_text": face_text.evaluate}
DEFAULT_HOLDOUT = ("colorization", "inpainting", "vaegan", "face_text")  # tasks whose eval without --data uses the registry's held-out split


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["text_edit"]:  # not a model of its own: the faces GAN, the classifier and the sentence encoder
        from . import text_edit
        return text_edit.main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m core.eval", description="Evaluate a registry model.")
    p.add_argument("name", choices=sorted(REGISTRY), help="a registry model, or text_edit (its own options)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data", type=Path,
                       help="evaluation folder: pairs for sketch2photo, testA/ + testB/ for horse2zebra, "
                            "face images for faces / face_attributes, colour photos for colorization*")
    where.add_argument("--holdout", action="store_true",
                       help="horse2zebra: the held-out 10%% of the registry's folders (never trained on); "
                            "faces: the last 10%% of its folder (faces_v2's held-out faces); "
                            "colorization*: the held-out 5%% (also the default without --data)")
    p.add_argument("--json", type=Path, help="also write the metrics here")
    p.add_argument("--checkpoint", type=Path, help="default: checkpoints/NAME")
    p.add_argument("--photo-left", action="store_true",
                   help="pairs are photo|edges (../shared/data order) instead of the official edges|photo")
    p.add_argument("--precision", choices=["bf16", "fp32"],
                   help="inference weights (default: what the model's pipeline serves with)")
    p.add_argument("--features-precision", choices=["bf16", "fp32"],
                   help="the FD/KID features (EfficientNet-Lite0); default: the evaluator's own (bf16 where the CPU "
                        "has it natively, for some); fp32 compares with figures from a CPU without native bf16")
    p.add_argument("--limit", type=int, help="evaluate only the first N items")
    p.add_argument("--inputs", choices=["edges", "drawing"],
                   help="sketch2photo: the dataset's edge maps (default) or drawing-like sketches made from them")
    p.add_argument("--paper-test", action="store_true",
                   help="sketch2photo*: run G as the pix2pix paper tests it (each image alone, BatchNorm on its own "
                        "statistics, dropout on; junyanz's test.py without --eval) instead of in eval mode as the app")
    p.add_argument("--dropout-seed", type=int, default=0,
                   help="with --paper-test: which draw of G's test-time dropout (0, 1, ...); the recipe's figure is "
                        "the mean over draws")
    p.add_argument("--classifier", type=Path,
                   help="faces: the attribute classifier that judges (default: checkpoints/face_attributes)")
    p.add_argument("--skip-prior", action="store_true",
                   help="inpainting: leave out the slow GAN-prior method (its figures do not depend on the net: "
                        "to re-measure a new net, keep the prior's from an earlier run)")
    args = p.parse_args(argv)

    setup_threads()
    spec = get_spec(args.name)
    if args.data is None and not args.holdout and spec.task not in DEFAULT_HOLDOUT:
        p.error("one of the arguments --data --holdout is required")
    if spec.task not in EVALUATORS:
        p.error(f"no evaluator for {spec.name} ({spec.task}) yet")
    checkpoint = args.checkpoint or spec.checkpoint_dir
    if not is_checkpoint(checkpoint):
        p.error(f"no checkpoint in {checkpoint} (train first: python -m core.train {spec.name})")
    if args.holdout and spec.task not in ("cyclegan", "dcgan", *DEFAULT_HOLDOUT):
        p.error("--holdout is for horse2zebra, faces, colorization and inpainting; give --data DIR")
    if args.data is not None and not args.data.is_dir():
        p.error(f"--data {args.data} is not a folder")
    t0 = time.time()
    evaluator = EVALUATORS[spec.task]
    precision = args.precision or inspect.signature(evaluator).parameters.get("precision")
    precision = getattr(precision, "default", precision)
    extra = {"precision": args.precision} if args.precision else {}
    if args.classifier is not None:
        if spec.task not in ("dcgan", "vaegan"):
            p.error("--classifier is for faces")
        if not is_checkpoint(args.classifier):
            p.error(f"no checkpoint in {args.classifier}")
        extra["classifier"] = args.classifier
    if args.skip_prior:
        if spec.task != "inpainting":
            p.error("--skip-prior is for inpainting")
        extra["run_prior"] = False
    if args.features_precision is not None:
        if "features" not in inspect.signature(evaluator).parameters:
            p.error(f"--features-precision: {spec.name}'s evaluator picks its own features")
        extra["features"] = EfficientNetFeatures(precision=args.features_precision)
    if args.inputs is not None:
        if spec.task != "pix2pix":
            p.error("--inputs is for sketch2photo")
        extra["inputs"] = args.inputs
    if args.paper_test:
        if spec.task != "pix2pix":
            p.error("--paper-test is for sketch2photo")
        extra["paper_test"] = True
        extra["dropout_seed"] = args.dropout_seed
    elif args.dropout_seed:
        p.error("--dropout-seed goes with --paper-test")
    data = args.data
    if args.holdout and spec.task == "dcgan":  # the last 10 % of its folder: faces v2's held-out faces (the DCGAN
        data, extra["split"] = spec.data.train, "val"  # trained on all of them), to compare the two on equal terms
    metrics = evaluator(spec, data, checkpoint, photo_left=args.photo_left, limit=args.limit, **extra)
    metrics = {k: (round(v, 5) if isinstance(v, float) else v) for k, v in metrics.items()}
    if isinstance(precision, str):
        metrics["precision"] = resolve_precision(pick_device(), precision)  # what ran, not what was asked
    metrics["seconds"] = round(time.time() - t0, 1)
    report(metrics, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
