"""Figures for docs/RESULTS.md and the model cards.

    python -m core.eval.figures sketch2photo [--data DIR --photo-left] [--out DIR]
    python -m core.eval.figures horse2zebra [--holdout]
    python -m core.eval.figures faces

Writes sketch2photo_sketches.png (the project's own drawings | what the model sees | output) and,
with --data, sketch2photo_val_outputs.png (the outputs for val edge maps) - both committed - and
runs/figures/sketch2photo_val.png (val edges | output | truth), which stays out of git because
it shows dataset images: render it locally to compare with the truth.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torchvision.utils import make_grid, save_image

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


def val_grids(pipe: Sketch2PhotoPipeline, data: Path, photo_left: bool, out_dir: Path, n: int = 24) -> list[Path]:
    """sketch2photo_val.png: val edges | output | truth (shows dataset images: look, never commit);
    sketch2photo_val_outputs.png: the outputs alone (the model's pixels only, committable)."""
    ds = PairedDataset(data, crop_size=pipe.image_size, augment=False, photo_left=photo_left, input_mode="edges")
    idx = torch.linspace(0, len(ds) - 1, n).round().long().tolist()
    tiles, outputs = [], []
    for i in idx:
        item = ds[i]
        y = pipe.run(item["A"][None])[0]
        tiles += [_rgb(item["A"]), _rgb(y), _rgb(item["B"])]
        outputs.append(_rgb(y))
    local = ROOT / "runs" / "figures"  # git-ignored: this one holds dataset pixels
    local.mkdir(parents=True, exist_ok=True)
    paths = [local / "sketch2photo_val.png", out_dir / "sketch2photo_val_outputs.png"]
    save_image(make_grid(torch.stack(tiles), nrow=6, padding=2, pad_value=1.0), paths[0])
    save_image(make_grid(torch.stack(outputs), nrow=8, padding=2, pad_value=1.0), paths[1])
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
    p.add_argument("name", choices=["sketch2photo", "horse2zebra", "faces"])
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--photo-left", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    p.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--holdout", action="store_true", help="horse2zebra: also the held-out photos (local only)")
    args = p.parse_args(argv)
    setup_threads()
    spec = get_spec(args.name)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.name == "horse2zebra":
        return horse2zebra_figures(spec, args)
    if args.name == "faces":
        return faces_figures(spec, args)
    pipe = Sketch2PhotoPipeline.from_checkpoint(args.checkpoint or spec.checkpoint_dir, precision=args.precision)
    args.out.mkdir(parents=True, exist_ok=True)
    path = sketch_grid(pipe, args.out / "sketch2photo_sketches.png")
    label(path, "drawing | what the model sees | output   (pairs of rows: thin and thick strokes)")
    print(path)
    if args.data:
        full, outputs = val_grids(pipe, args.data, args.photo_left, args.out)
        label(full, "val edges | output | truth   (x2 per row)")
        label(outputs, "outputs for 24 val edge maps (evenly spaced: shoes, then handbags)")
        print(full, "(contains dataset images: do not commit)")
        print(outputs)


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
    print(ff.samples(pipe, args.out / "faces_samples.png"))
    print(ff.walks(pipe, args.out / "faces_walks.png"))
    if face_arithmetic.has_checkpoints():
        arith = face_arithmetic.FaceArithmetic(pipe, face_attributes.load())
        print(ff.arithmetic(arith, args.out / "faces_arithmetic.png"))
        print(ff.directions(arith, args.out / "faces_directions.png"))


if __name__ == "__main__":
    main()
