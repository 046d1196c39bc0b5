"""Tiny synthetic datasets made in code, for tests and smoke runs (no real images needed)."""
from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw


def draw_pair(rng: random.Random, size: int = 64) -> tuple[Image.Image, Image.Image]:
    """One (edges, photo) pair: coloured ellipses/rectangles and their black outlines on white."""
    photo = Image.new("RGB", (size, size), "white")
    edge = Image.new("RGB", (size, size), "white")
    dp, de = ImageDraw.Draw(photo), ImageDraw.Draw(edge)
    for _ in range(rng.randint(1, 3)):
        x0, y0 = rng.randint(0, size // 2), rng.randint(0, size // 2)
        x1, y1 = x0 + rng.randint(size // 6, size // 2), y0 + rng.randint(size // 6, size // 2)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        shape = rng.choice(["ellipse", "rectangle"])
        getattr(dp, shape)((x0, y0, x1, y1), fill=colour)
        getattr(de, shape)((x0, y0, x1, y1), outline="black", width=1)
    return edge, photo


def make_paired_folder(folder: Path, n: int = 8, size: int = 64, photo_left: bool = False,
                       seed: int = 0) -> Path:
    """Write n side-by-side pairs (edges | photo, or photo | edges with photo_left) as PNGs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        edge, photo = draw_pair(rng, size)
        left, right = (photo, edge) if photo_left else (edge, photo)
        ab = Image.new("RGB", (2 * size, size))
        ab.paste(left, (0, 0))
        ab.paste(right, (size, 0))
        ab.save(folder / f"{i + 1}_AB.png")
    return folder
