"""Example line drawings the project draws itself (no dataset images in the repo).

Each drawing is a set of strokes given as control points on a 0..1 square, traced through a
Catmull-Rom spline with a little hand wobble, black on white, like a drawing made in the canvas.
"""
from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]


def _catmull_rom(points: Stroke, samples: int = 16, closed: bool = False) -> Stroke:
    pts = list(points)
    if closed:
        pts = [pts[-1]] + pts + pts[:2]
    else:
        pts = [pts[0]] + pts + [pts[-1]]
    out: Stroke = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(samples):
            t = s / samples
            t2, t3 = t * t, t * t * t
            out.append(tuple(0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                                    + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3) for k in range(2)))
    out.append(pts[-2])
    return out


def _ellipse(cx: float, cy: float, rx: float, ry: float, a0: float = 0, a1: float = 360, n: int = 48) -> Stroke:
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]


SHOE: list[tuple[Stroke, bool]] = [
    # sole + upper outline of a low shoe seen from the side, toe to the left
    ([(0.08, 0.62), (0.10, 0.70), (0.30, 0.73), (0.60, 0.74), (0.86, 0.72), (0.92, 0.64), (0.90, 0.50),
      (0.86, 0.36), (0.70, 0.38), (0.55, 0.45), (0.40, 0.46), (0.22, 0.50), (0.10, 0.56)], True),
    ([(0.10, 0.66), (0.40, 0.67), (0.70, 0.68), (0.90, 0.66)], False),  # sole line
    ([(0.55, 0.45), (0.62, 0.52), (0.72, 0.52), (0.86, 0.40)], False),  # collar opening
    ([(0.40, 0.47), (0.45, 0.55), (0.52, 0.58)], False),  # lace panel
]
BOOT: list[tuple[Stroke, bool]] = [
    ([(0.12, 0.74), (0.14, 0.82), (0.50, 0.84), (0.80, 0.84), (0.84, 0.76), (0.80, 0.50), (0.78, 0.14),
      (0.52, 0.12), (0.52, 0.40), (0.46, 0.56), (0.30, 0.62), (0.16, 0.66)], True),
    ([(0.14, 0.77), (0.50, 0.78), (0.83, 0.78)], False),
    ([(0.52, 0.16), (0.78, 0.18)], False),
]
HANDBAG: list[tuple[Stroke, bool]] = [
    ([(0.14, 0.40), (0.86, 0.40), (0.90, 0.84), (0.10, 0.84)], True),  # body
    ([(0.14, 0.48), (0.86, 0.48)], False),  # flap seam
    (_ellipse(0.50, 0.40, 0.24, 0.26, 180, 360), False),  # handle
    (_ellipse(0.50, 0.40, 0.19, 0.20, 180, 360), False),
    ([(0.46, 0.56), (0.54, 0.56), (0.54, 0.62), (0.46, 0.62)], True),  # clasp
]
CLUTCH: list[tuple[Stroke, bool]] = [
    ([(0.08, 0.36), (0.92, 0.36), (0.94, 0.70), (0.06, 0.70)], True),
    ([(0.08, 0.37), (0.50, 0.54), (0.92, 0.37)], False),  # flap
    (_ellipse(0.50, 0.54, 0.03, 0.03), False),
]

SNEAKER: list[tuple[Stroke, bool]] = [
    # what a person draws first: a closed outline, the sole line and three laces
    ([(0.06, 0.64), (0.08, 0.74), (0.50, 0.76), (0.90, 0.75), (0.94, 0.64), (0.90, 0.42), (0.80, 0.32),
      (0.66, 0.34), (0.50, 0.44), (0.30, 0.50), (0.12, 0.56)], True),
    ([(0.07, 0.68), (0.50, 0.70), (0.93, 0.69)], False),
    ([(0.44, 0.46), (0.50, 0.54)], False),
    ([(0.50, 0.42), (0.56, 0.50)], False),
    ([(0.57, 0.38), (0.63, 0.46)], False),
]
HIGH_HEEL: list[tuple[Stroke, bool]] = [
    # a pump seen from the side: pointed toe left, the sole rising to the heel seat, stiletto right
    ([(0.06, 0.78), (0.20, 0.82), (0.35, 0.80), (0.50, 0.70), (0.65, 0.57), (0.80, 0.52), (0.91, 0.52),
      (0.92, 0.40), (0.86, 0.36), (0.72, 0.44), (0.55, 0.56), (0.40, 0.64), (0.24, 0.66), (0.12, 0.71)], True),
    ([(0.84, 0.54), (0.85, 0.72), (0.86, 0.88), (0.90, 0.88), (0.90, 0.70), (0.91, 0.54)], False),  # heel
]

DRAWINGS = {"shoe": SHOE, "boot": BOOT, "handbag": HANDBAG, "clutch": CLUTCH, "sneaker": SNEAKER,
            "high heel": HIGH_HEEL}


def draw(name: str, size: int = 512, width: int = 8, wobble: float = 0.006, seed: int = 0) -> Image.Image:
    """Render the example `name` as an RGB image [size x size], black strokes of `width` px on white.

    `wobble` jitters control points (as a fraction of the side) so strokes look hand-made.
    """
    rng = random.Random(seed)
    im = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(im)
    for points, closed in DRAWINGS[name]:
        if len(points) > 30:  # already a dense curve: move it as a whole, keep it smooth
            dx, dy = rng.gauss(0, wobble), rng.gauss(0, wobble)
            curve = [(x + dx, y + dy) for x, y in points]
        else:
            pts = [(x + rng.gauss(0, wobble), y + rng.gauss(0, wobble)) for x, y in points]
            curve = _catmull_rom(pts, closed=closed)
        xy = [(x * size, y * size) for x, y in curve]
        d.line(xy, fill="black", width=width, joint="curve")
    return im


def all_examples(size: int = 512) -> dict[str, Image.Image]:
    return {name: draw(name, size=size, seed=i) for i, name in enumerate(DRAWINGS)}


def outline_interior(strokes: "torch.Tensor", gap: int = 3) -> "torch.Tensor":
    """The area a drawing encloses: strokes [B, H, W] bool (True = ink) -> [B, H, W] bool, the
    strokes with every region they close filled in. Gaps of up to about 2 * `gap` px are bridged
    first (a hand-drawn outline rarely closes exactly). An open scribble encloses nothing but itself."""
    import torch
    from scipy import ndimage  # lazily: only the metrics need it

    out = [ndimage.binary_fill_holes(ndimage.binary_closing(s, iterations=gap, border_value=0))
           for s in strokes.cpu().numpy()]
    return torch.from_numpy(np.stack(out)) | strokes.cpu()
