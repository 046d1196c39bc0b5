"""Figures for docs/RESULTS.md and the model cards.

    python -m core.eval.figures sketch2photo [--data DIR --photo-left] [--out DIR]
    python -m core.eval.figures horse2zebra [--holdout]
    python -m core.eval.figures faces
    python -m core.eval.figures colorization [--data DIR] [--baseline DIR] [--out DIR]

Writes sketch2photo_sketches.png (the project's own drawings | what the model sees | output),
sketch2photo_losses.png (the drawings through the L1-only, cGAN-only and shipped generators, when
the ablations are shipped) and, with --data, sketch2photo_val_outputs.png and
sketch2photo_val_drawing_outputs.png (the outputs for val edge maps and for their drawing-like
sketches) - all committed - and runs/figures/sketch2photo_val*.png (inputs | output | truth), which
stay out of git because they show dataset images (and sketches cut from them): render them locally.
colorization writes runs/figures/colorization_val.png (grey | L2 baseline | ours | truth; held-out
photos, or DIR's): dataset pixels too, so its default --out is runs/figures.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torchvision.utils import make_grid, save_image

from ..checkpoint import is_checkpoint
from ..data.images import pil_to_tensor
from ..data.paired import PairedDataset
from ..data.sketches import DRAWINGS, draw
from ..device import setup_threads
from ..pipelines.sketch2photo import Sketch2PhotoPipeline
from ..registry import ROOT, get_spec


def _rgb(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] tensor [C, H, W] -> [3, H, W] in [0, 1]."""
    return (x.float().expand(3, -1, -1) * 0.5 + 0.5).clamp(0, 1)


def sketch_grid(pipe: Sketch2PhotoPipeline, out: Path) -> Path:
    """One row per drawing and stroke width: drawing | model input | output."""
    tiles = []
    for name in DRAWINGS:
        for width in (3, 10):
            im = draw(name, size=512, width=width, seed=width)
            x = pipe.prepare(im)
            y = pipe.run(x)[0]
            small = im.resize((pipe.image_size,) * 2, Image.LANCZOS)
            tiles += [pil_to_tensor(small), _rgb(x[0]), _rgb(y)]
    save_image(make_grid(torch.stack(tiles), nrow=6, padding=2, pad_value=1.0), out)
    return out


def loss_grid(pipes: dict[str, Sketch2PhotoPipeline], out: Path) -> Path:
    """The lecture's comparison: one row per drawing (4 px strokes): drawing | each pipe's output,
    in the order of `pipes` (label -> pipeline), all on the same model input."""
    tiles = []
    first = next(iter(pipes.values()))
    for seed, name in enumerate(DRAWINGS):
        im = draw(name, size=512, width=4, seed=seed)
        x = first.prepare(im)
        tiles.append(pil_to_tensor(im.resize((first.image_size,) * 2, Image.LANCZOS)))
        tiles += [_rgb(pipe.run(x)[0]) for pipe in pipes.values()]
    save_image(make_grid(torch.stack(tiles), nrow=1 + len(pipes), padding=2, pad_value=1.0), out)
    return out


def val_grids(pipe: Sketch2PhotoPipeline, data: Path, photo_left: bool, out_dir: Path, n: int = 24) -> list[Path]:
    """sketch2photo_val.png: val edges | output | truth (shows dataset images: look, never commit);
    sketch2photo_val_outputs.png: the outputs alone (the model's pixels only, committable)."""
    paths = []
    for inputs, suffix in (("edges", ""), ("drawing", "_drawing")):
        ds = PairedDataset(data, crop_size=pipe.image_size, augment=False, photo_left=photo_left,
                           input_mode="edges", inputs=inputs)
        idx = torch.linspace(0, len(ds) - 1, n).round().long().tolist()
        tiles, outputs = [], []
        for i in idx:
            item = ds[i]
            y = pipe.run(item["A"][None])[0]
            tiles += [_rgb(item["A"]), _rgb(y), _rgb(item["B"])]
            outputs.append(_rgb(y))
        local = ROOT / "runs" / "figures"  # git-ignored: this one holds dataset pixels
        local.mkdir(parents=True, exist_ok=True)
        pair = [local / f"sketch2photo_val{suffix}.png", out_dir / f"sketch2photo_val{suffix}_outputs.png"]
        save_image(make_grid(torch.stack(tiles), nrow=6, padding=2, pad_value=1.0), pair[0])
        save_image(make_grid(torch.stack(outputs), nrow=8, padding=2, pad_value=1.0), pair[1])
        paths += pair
    return paths


def label(path: Path, text: str) -> None:
    """Add a caption strip on top of an image file."""
    im = Image.open(path).convert("RGB")
    canvas = Image.new("RGB", (im.width, im.height + 18), "white")
    canvas.paste(im, (0, 18))
    ImageDraw.Draw(canvas).text((4, 3), text, fill="black")
    canvas.save(path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m core.eval.figures")
    p.add_argument("name", choices=["sketch2photo", "horse2zebra", "faces", "faces_v2", "colorization",
                                    "colorization_cls", "colorization_cgan", "colorization_eff"])
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--photo-left", action="store_true")
    p.add_argument("--out", type=Path, help="default: docs/img (colorization: runs/figures)")
    p.add_argument("--baseline", type=Path, help="colorization: the L2 baseline (default: checkpoints/colorization_l2)")
    p.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--holdout", action="store_true", help="horse2zebra: also the held-out photos (local only)")
    args = p.parse_args(argv)
    setup_threads()
    spec = get_spec(args.name)
    args.out = args.out or ROOT / ("runs/figures" if spec.task == "colorization" else "docs/img")
    args.out.mkdir(parents=True, exist_ok=True)
    if spec.task == "colorization":
        return colorization_figures(spec, args)
    if args.name == "horse2zebra":
        return horse2zebra_figures(spec, args)
    if args.name in ("faces", "faces_v2"):
        return faces_figures(spec, args)
    pipe = Sketch2PhotoPipeline.from_checkpoint(args.checkpoint or spec.checkpoint_dir, precision=args.precision)
    args.out.mkdir(parents=True, exist_ok=True)
    path = sketch_grid(pipe, args.out / "sketch2photo_sketches.png")
    label(path, "drawing | what the model sees | output   (pairs of rows: thin and thick strokes)")
    print(path)
    ablations = {title: get_spec(name) for title, name in
                 (("L1 only", "sketch2photo_l1"), ("cGAN only", "sketch2photo_cgan"))}
    if all(is_checkpoint(s.checkpoint_dir) for s in ablations.values()):
        pipes = {title: Sketch2PhotoPipeline.from_checkpoint(s.checkpoint_dir, precision=args.precision)
                 for title, s in ablations.items()}
        path = loss_grid({**pipes, "L1 + cGAN": pipe}, args.out / "sketch2photo_losses.png")
        label(path, "drawing | L1 only | cGAN only | L1 + cGAN   (same model input)")
        print(path)
    if args.data:
        full, outputs, drawn_full, drawn_outputs = val_grids(pipe, args.data, args.photo_left, args.out)
        label(full, "val edges | output | truth   (x2 per row)")
        label(outputs, "outputs for 24 val edge maps (evenly spaced: shoes, then handbags)")
        label(drawn_full, "drawing-like val sketches | output | truth   (x2 per row)")
        label(drawn_outputs, "outputs for the drawing-like sketches of the same 24 val items")
        print(full, drawn_full, "(contain dataset images: do not commit)")
        print(outputs, drawn_outputs)


def horse2zebra_figures(spec, args) -> None:
    from ..pipelines.horse2zebra import HorseZebraPipeline
    from .figures_h2z import holdout_grid, painted_grid

    pipe = HorseZebraPipeline.from_checkpoint(args.checkpoint or spec.checkpoint_dir, precision=args.precision)
    path = painted_grid(pipe, args.out / "horse2zebra_painted.png")
    label(path, "painted in code: horse | zebra | back to horse (last row: zebra | horse | back to zebra)")
    print(path)
    if args.holdout:
        local = ROOT / "runs" / "figures"
        local.mkdir(parents=True, exist_ok=True)
        path = holdout_grid(pipe, spec, local / "horse2zebra_holdout.png")
        label(path, "held-out: horse | zebra | back (x2 per row), then zebra | horse | back")
        print(path, "(contains dataset images: do not commit)")


def faces_figures(spec, args) -> None:
    from ..pipelines import face_arithmetic, face_attributes
    from ..pipelines.faces import FacesPipeline
    from . import figures_faces as ff

    pipe = FacesPipeline.from_checkpoint(args.checkpoint or spec.checkpoint_dir)
    print(ff.samples(pipe, args.out / f"{spec.name}_samples.png"))
    print(ff.walks(pipe, args.out / f"{spec.name}_walks.png"))
    if is_checkpoint(get_spec("face_attributes").checkpoint_dir):
        arith = face_arithmetic.FaceArithmetic(pipe, face_attributes.load(), **face_arithmetic.exemplar_rules(spec.name))
        print(ff.arithmetic(arith, args.out / f"{spec.name}_arithmetic.png"))
        print(ff.directions(arith, args.out / f"{spec.name}_directions.png"))


def colorization_figures(spec, args) -> None:
    from ..pipelines.colorization import ColorizationPipeline
    from .colorization import val_grid

    pipes = {}
    baseline = args.baseline or get_spec("colorization_l2").checkpoint_dir
    if is_checkpoint(baseline):
        pipes["L2"] = ColorizationPipeline.from_checkpoint(baseline, precision=args.precision)
    pipes["ours"] = ColorizationPipeline.from_checkpoint(args.checkpoint or spec.checkpoint_dir, precision=args.precision)
    path = val_grid(pipes, spec, args.data, args.out / f"{spec.name}_val.png")
    label(path, f"grey | {' | '.join(pipes)} ({spec.name}) | truth   (held-out photos unless --data)")
    print(path, "(contains dataset images: do not commit)")


if __name__ == "__main__":
    main()
