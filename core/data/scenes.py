"""Pictures painted in code (no dataset images in the repo): the horse/zebra tab's example
photos-to-be (a horse-shaped animal on grass under a sky, with soft shading and noise so it is
photo-like), and random painted landscapes (`paint_scene`), which teach colorization flat, painted
pictures as well as photos."""
from __future__ import annotations

import argparse
from pathlib import Path

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

    _draw_horse(d, p, s, coat)
    if stripes:
        _stripe(im, coat, s)
    im = im.filter(ImageFilter.GaussianBlur(0.8))
    noise = rng.normal(0, 4, (h, w, 3))
    return Image.fromarray((np.asarray(im).astype(float) + noise).clip(0, 255).astype(np.uint8))


def _draw_horse(d: ImageDraw.ImageDraw, p, s: float, coat: tuple[int, int, int]) -> None:
    """The horse's flat shapes and its eye; p maps the 256-unit drawing's (x, y) to pixels, s pixels
    per unit. (Zebra stripes, painted afterwards over the coat's colours only, leave the eye as it is.)"""
    dark = tuple(int(c * 0.6) for c in coat)
    for x in (40, 62, 160, 182):  # legs
        d.rectangle(_box(p(x, 95), p(x + 14, 175)), fill=coat if x in (62, 182) else dark)
    d.ellipse(_box(p(25, 40), p(200, 120)), fill=coat)  # body
    d.polygon([p(170, 70), p(190, 20), p(215, 0), p(235, 10), p(248, 40), p(232, 48), p(212, 38), p(200, 80)], fill=coat)
    d.polygon([p(188, 22), p(212, 0), p(200, 60), p(180, 70)], fill=dark)  # mane
    d.line([p(28, 60), p(8, 110)], fill=dark, width=int(8 * s))  # tail
    d.ellipse(_box(p(222, 12), p(228, 18)), fill=(20, 20, 20))  # eye


def _box(a, b) -> list[float]:
    """PIL's [x0, y0, x1, y1] with x0 <= x1 and y0 <= y1 from two corners (a mirrored p swaps them)."""
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])]


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


TRAIN_SEEDS = 1 << 20  # training draws paint_scene seeds >= this; write_scenes' held-out ones are below

# A painter's palette for outdoor scenes, RGB; every scene jitters its picks.
SKIES = (((110, 165, 230), (200, 222, 242)), ((70, 125, 205), (160, 195, 235)), ((150, 190, 235), (210, 225, 240)),
         ((165, 172, 182), (205, 208, 212)), ((235, 150, 90), (250, 215, 160)))  # (top, horizon); overcast; dusk
SKY_P = (0.3, 0.25, 0.25, 0.12, 0.08)
GROUNDS = ((90, 140, 60), (70, 125, 45), (120, 150, 60), (185, 165, 90), (205, 185, 135), (236, 238, 242))
GROUND_P = (0.3, 0.2, 0.2, 0.12, 0.1, 0.08)  # meadows, a dry field, sand, snow
COATS = ((120, 72, 40), (175, 95, 45), (45, 38, 32), (170, 165, 160), (228, 222, 210), (190, 160, 110))
CROWNS = ((60, 110, 45), (45, 90, 40), (95, 140, 55), (200, 120, 40))  # the last one autumn
WALLS = ((235, 228, 210), (215, 190, 140), (170, 85, 60), (200, 200, 195))
ROOFS = ((160, 50, 40), (110, 70, 50), (80, 80, 90))


def _pick(rng: np.random.Generator, colours, p=None, jitter: float = 12.0) -> tuple[int, int, int]:
    c = np.asarray(colours[rng.choice(len(colours), p=p)], float) + rng.normal(0, jitter, 3)
    return tuple(int(v) for v in c.clip(0, 255))


def paint_scene(size: tuple[int, int] = (192, 192), seed: int = 0) -> Image.Image:
    """A random flat-painted landscape, RGB of `size` = (width, height): a sky (blue, overcast or
    dusk) over a meadow, field, beach or snow, with some of a sun, clouds, hills, trees, a house
    and horses of natural coats. Deterministic in `seed`."""
    w, h = size
    rng = np.random.default_rng(seed)
    horizon = int(h * rng.uniform(0.3, 0.6))
    top, low = (np.asarray(c, float) + rng.normal(0, 10, 3) for c in SKIES[rng.choice(len(SKIES), p=SKY_P)])
    ground = np.asarray(_pick(rng, GROUNDS, GROUND_P), float)
    sky = np.linspace(top, low, horizon)[:, None, :].repeat(w, 1)
    land = np.linspace(ground * 1.08, ground * 0.8, h - horizon)[:, None, :].repeat(w, 1)
    im = Image.fromarray(np.concatenate([sky, land]).clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    if rng.random() < 0.4:  # the sun
        r, x, y = h * rng.uniform(0.04, 0.08), w * rng.uniform(0.1, 0.9), horizon * rng.uniform(0.15, 0.6)
        d.ellipse([x - r, y - r, x + r, y + r], fill=_pick(rng, ((250, 225, 110), (255, 240, 190)), jitter=6))
    for _ in range(rng.integers(0, 4)):  # clouds: a few overlapping puffs
        x, y, r = w * rng.uniform(0, 1), horizon * rng.uniform(0.1, 0.7), h * rng.uniform(0.03, 0.07)
        grey = _pick(rng, ((245, 245, 248), (215, 218, 225)), jitter=5)
        for dx in rng.uniform(-2.5, 2.5, 4) * r:
            d.ellipse([x + dx - r * 1.4, y - r, x + dx + r * 1.4, y + r], fill=grey)
    for _ in range(rng.integers(0, 3)):  # hills on the horizon, in a shade of the ground
        x, rw, rh = w * rng.uniform(0, 1), w * rng.uniform(0.2, 0.5), h * rng.uniform(0.05, 0.15)
        shade = tuple(int(v) for v in (ground * rng.uniform(0.75, 1.1)).clip(0, 255))
        d.ellipse([x - rw, horizon - rh, x + rw, horizon + rh], fill=shade)
    things = [("tree", rng.uniform(horizon, h)) for _ in range(rng.integers(0, 4))]
    things += [("house", rng.uniform(horizon, h * 0.8))] if rng.random() < 0.3 else []
    things += [("horse", rng.uniform(horizon + 0.1 * h, h)) for _ in range(rng.integers(0, 3))]
    for kind, base in sorted(things, key=lambda t: t[1]):  # far (high on the picture) first
        scale = 0.35 + 0.75 * (base - horizon) / max(h - horizon, 1)  # nearer is bigger
        x = w * rng.uniform(0.05, 0.95)
        if kind == "tree":
            th, cr = h * 0.25 * scale, h * 0.12 * scale
            d.rectangle([x - cr * 0.15, base - th, x + cr * 0.15, base], fill=_pick(rng, ((95, 65, 40),), jitter=10))
            d.ellipse([x - cr, base - th - cr * 1.3, x + cr, base - th + cr * 0.6], fill=_pick(rng, CROWNS, (0.35, 0.3, 0.2, 0.15)))
        elif kind == "house":
            hw, hh = h * 0.2 * scale, h * 0.15 * scale
            d.rectangle([x - hw, base - hh, x + hw, base], fill=_pick(rng, WALLS))
            d.polygon([(x - hw * 1.15, base - hh), (x, base - hh * 1.9), (x + hw * 1.15, base - hh)], fill=_pick(rng, ROOFS))
            d.rectangle([x - hw * 0.2, base - hh * 0.6, x + hw * 0.2, base], fill=_pick(rng, ((90, 60, 40),)))
            for side in (-0.65, 0.45):
                d.rectangle([x + side * hw, base - hh * 0.75, x + (side + 0.2) * hw, base - hh * 0.45],
                            fill=_pick(rng, ((150, 185, 210),)))
        else:
            s = h / 256 * scale * rng.uniform(0.6, 0.9)
            flip = rng.random() < 0.5
            ox, oy = x - 128 * s, base - 175 * s

            def p(u, v, ox=ox, oy=oy, s=s, flip=flip):
                return ox + ((256 - u) if flip else u) * s, oy + v * s

            _draw_horse(d, p, s, _pick(rng, COATS, jitter=8))
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    noise = rng.normal(0, rng.uniform(2, 6), (h, w, 3))
    return Image.fromarray((np.asarray(im).astype(float) + noise).clip(0, 255).astype(np.uint8))


def write_scenes(folder: Path, count: int, size: tuple[int, int] = (192, 192)) -> list[Path]:
    """Held-out painted scenes (seeds 0 .. count-1, below TRAIN_SEEDS) as PNGs in
    `folder`: a folder of colour pictures that `python -m core.eval colorization --data` reads."""
    if not 0 < count <= TRAIN_SEEDS:
        raise ValueError(f"count must be 1..{TRAIN_SEEDS}")
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"scene_{seed:04d}.png" for seed in range(count)]
    for seed, path in enumerate(paths):
        paint_scene(size, seed).save(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write held-out painted landscapes (the colorization eval's "
                                                 "painted set) to a folder")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    print(f"{len(write_scenes(args.folder, args.count))} scenes in {args.folder}")
