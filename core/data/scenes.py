"""Example photos-to-be for the horse/zebra tab, painted in code (no dataset images in the repo):
a horse-shaped animal on grass under a sky, with soft shading and noise so it is photo-like."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps


def paint_horse(size: tuple[int, int] = (384, 256), coat: tuple[int, int, int] = (120, 72, 40),
                seed: int = 0, stripes: bool = False) -> Image.Image:
    """An RGB side view of a horse on a meadow, `size` = (width, height); with `stripes`, a
    zebra (dark slanted bands over the animal, as a painter's shorthand)."""
    w, h = size
    rng = np.random.default_rng(seed)
    sky = np.linspace([150, 190, 235], [210, 225, 240], int(h * 0.45))[:, None, :].repeat(w, 1)
    grass = np.linspace([90, 140, 60], [60, 110, 40], h - len(sky))[:, None, :].repeat(w, 1)
    base = np.concatenate([sky, grass]) + rng.normal(0, 6, (h, w, 3))
    im = Image.fromarray(base.clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    s = h / 256
    ox, oy = w * 0.5 - 110 * s, h * 0.28

    def p(x, y):
        return ox + x * s, oy + y * s

    dark = tuple(int(c * 0.6) for c in coat)
    for x in (40, 62, 160, 182):  # legs
        d.rectangle([p(x, 95), p(x + 14, 175)], fill=coat if x in (62, 182) else dark)
    d.ellipse([p(25, 40), p(200, 120)], fill=coat)  # body
    d.polygon([p(170, 70), p(190, 20), p(215, 0), p(235, 10), p(248, 40), p(232, 48), p(212, 38), p(200, 80)], fill=coat)
    d.polygon([p(188, 22), p(212, 0), p(200, 60), p(180, 70)], fill=dark)  # mane
    d.line([p(28, 60), p(8, 110)], fill=dark, width=int(8 * s))  # tail
    if stripes:
        _stripe(im, coat, s)
    d.ellipse([p(222, 12), p(228, 18)], fill=(20, 20, 20))
    im = im.filter(ImageFilter.GaussianBlur(0.8))
    noise = rng.normal(0, 4, (h, w, 3))
    return Image.fromarray((np.asarray(im).astype(float) + noise).clip(0, 255).astype(np.uint8))


def _stripe(im: Image.Image, coat: tuple[int, int, int], s: float) -> None:
    """Paint dark bands over every pixel of the coat colour (in place)."""
    a = np.asarray(im).astype(int)
    animal = (np.abs(a - np.array(coat)).sum(2) < 4) | (np.abs(a - np.array([int(c * 0.6) for c in coat])).sum(2) < 4)
    yy, xx = np.mgrid[0:a.shape[0], 0:a.shape[1]]
    band = ((xx + 0.35 * yy) / (12 * s)) % 1.0 < 0.45
    a[animal & band] = (25, 25, 28)
    im.paste(Image.fromarray(a.astype(np.uint8)))


def examples() -> dict[str, Image.Image]:
    return {"bay horse": paint_horse(seed=0), "chestnut horse": ImageOps.mirror(paint_horse((320, 256), coat=(175, 95, 45), seed=1)),
            "grey horse": paint_horse(coat=(170, 165, 160), seed=2),
            "zebra": paint_horse(coat=(235, 235, 228), seed=3, stripes=True)}
