"""Faces figures (all model outputs, committable): samples, walks, arithmetic, attribute sliders."""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw

from ..pipelines.face_arithmetic import PRESETS, FaceArithmetic
from ..pipelines.faces import FacesPipeline, strip, tile

T = 96  # tile size in the figures


def samples(pipe: FacesPipeline, out: Path, n: int = 64) -> Path:
    """Faces for seeds 0..n-1 (the latent walk tab's seeds)."""
    tile(pipe.images(pipe.zs(range(n)), T), 8).save(out)
    return out


def walks(pipe: FacesPipeline, out: Path, pairs=((11, 42), (3, 8), (100, 101), (7, 1000)), steps: int = 9) -> Path:
    """One slerp walk per row, and the first pair again as a straight line (lerp) for comparison."""
    rows = [(f"slerp {a} -> {b}", pipe.walk(pipe.z(a), pipe.z(b), steps, "slerp")) for a, b in pairs]
    a, b = pairs[0]
    rows.append((f"lerp {a} -> {b}", pipe.walk(pipe.z(a), pipe.z(b), steps, "lerp")))
    return _rows([(name, strip(pipe.images(z, T))) for name, z in rows], out)


def arithmetic(arith: FaceArithmetic, out: Path, seeds=(0, 1)) -> Path:
    """Per preset and draw, as in the paper's figure: the exemplars A (3) | B (3) | C (3) on top, each
    concept's mean face under its middle exemplar and the result A - B + C at the end of that line;
    the 3x3 noise grid beside it. A preset whose exemplars the classifier cannot find gets no row."""
    rows = []
    for preset in PRESETS.values():
        for seed in seeds:
            try:
                exemplars = arith.draw(preset, seed)
            except LookupError as e:
                print(f"{preset.name}: {e}")
                continue
            res = arith.combine(exemplars, seed=seed)
            faces = [arith.faces.images(res.exemplars[k], T) for k in "ABC"]
            means = arith.faces.images(res.mean_faces(), T)
            top = strip([*faces[0], _gap(), *faces[1], _gap(), *faces[2], _gap(), _blank()])
            bottom = strip([_blank(), means[0], _blank(), _gap(), _blank(), means[1], _blank(), _gap(),
                            _blank(), means[2], _blank(), _gap(), arith.faces.images(res.result, T)[0]])
            line = _above(top, bottom)
            grid = tile(arith.faces.images(res.grid, 64), 3)  # native 64 px tiles
            rows.append((f"{preset.name} = {preset.result_label} (draw {seed})", _beside(line, grid)))
    return _rows(rows, out)


def directions(arith: FaceArithmetic, out: Path, seeds=(7, 21), amounts=(-2, -1, 0, 1, 2)) -> Path:
    """Rows: a face moved along each attribute direction by the given amounts."""
    rows = []
    for seed in seeds:
        z = arith.faces.z(seed)
        for name in arith.available_directions():
            try:
                d = arith.direction(name)
            except LookupError:  # the GAN makes too few such faces (e.g. hats) to find one
                continue
            rows.append((f"seed {seed}: {name} {amounts}", strip(arith.faces.images(
                torch.stack([z + a * d for a in amounts]), T))))
    return _rows(rows, out)


def _gap() -> Image.Image:
    return Image.new("RGB", (T // 4, T), "white")


def _blank() -> Image.Image:
    return Image.new("RGB", (T, T), "white")


def _above(a: Image.Image, b: Image.Image) -> Image.Image:
    out = Image.new("RGB", (max(a.width, b.width), a.height + 4 + b.height), "white")
    out.paste(a, (0, 0))
    out.paste(b, (0, a.height + 4))
    return out


def _beside(a: Image.Image, b: Image.Image) -> Image.Image:
    out = Image.new("RGB", (a.width + 16 + b.width, max(a.height, b.height)), "white")
    out.paste(a, (0, 0))
    out.paste(b, (a.width + 16, 0))
    return out


def _rows(rows: list[tuple[str, Image.Image]], out: Path) -> Path:
    """Stack captioned rows vertically (a note instead when there is nothing to show)."""
    if not rows:
        rows = [("nothing to show: see the messages above", Image.new("RGB", (320, 1), "white"))]
    width = max(im.width for _, im in rows)
    height = sum(im.height + 16 for _, im in rows)
    canvas = Image.new("RGB", (width, height), "white")
    draw, y = ImageDraw.Draw(canvas), 0
    for caption, im in rows:
        draw.text((2, y + 2), caption.replace("−", "-"), fill="black")  # PIL's default font has no U+2212
        canvas.paste(im, (0, y + 16))
        y += im.height + 16
    canvas.save(out)
    return out
