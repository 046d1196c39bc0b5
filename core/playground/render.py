"""A snapshot (core.playground.session.Snapshot) drawn as one picture, with PIL only (no
matplotlib in this project): the GAN's view (D's decision surface as the background, real points,
fake points with G's gradient arrows), the VAE's samples beside it, and under them the losses and
the coverage over time. Colours as in GAN Lab: green is "real", purple is "fake"."""
from __future__ import annotations

import base64
import functools
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .data import VIEW
from .losses import LOGIT_LOSSES
from .session import Snapshot

PANEL = 300  # px, each square view
PLOT_H = 120  # px, each plot under the views
GAP = 8
REAL, FAKE, VAE = (22, 163, 74), (126, 34, 206), (234, 88, 12)
LOSS_D, LOSS_G = (37, 99, 235), (220, 38, 38)
# D's surface: 0 ("fake") -> purple tint, 0.5 -> white, 1 ("real") -> green tint.
LOW, MID, HIGH = np.array([196, 165, 240.0]), np.array([255, 255, 255.0]), np.array([150, 222, 170.0])
ARROW_PX = 16  # the 95th-percentile arrow is drawn this long


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size)  # Pillow's bundled FreeType font: the same on every machine
    except (TypeError, OSError):
        return ImageFont.load_default()


@functools.lru_cache(maxsize=512)
def _label(text: str, size: int, fill: tuple) -> Image.Image:
    """A line of text on a transparent background. Cached: FreeType takes ~1.3 ms a line, and
    most labels (titles, ranges) repeat from frame to frame."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    im = Image.new("RGBA", (max(1, right), max(1, bottom)), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((0, 0), text, fill=fill, font=font)
    return im


def _text(im: Image.Image, xy: tuple[int, int], text: str, size: int, fill=(30, 30, 30)) -> None:
    label = _label(text, size, fill)
    im.paste(label, xy, label)


def _px(points: np.ndarray, size: int = PANEL) -> np.ndarray:
    """View units -> pixel coordinates [n, 2] (y up)."""
    p = np.nan_to_num(np.asarray(points, np.float64), nan=0.0, posinf=VIEW * 2, neginf=-VIEW * 2)
    x = (p[:, 0] + VIEW) / (2 * VIEW) * size
    y = (VIEW - p[:, 1]) / (2 * VIEW) * size
    return np.clip(np.stack([x, y], 1), -size, 2 * size)


def heat_image(heat: np.ndarray, size: int = PANEL) -> Image.Image:
    """heat [h, w] in [0, 1] (row 0 at the top) -> RGB picture size x size."""
    h = np.clip(np.nan_to_num(heat, nan=0.5), 0, 1)[..., None]
    rgb = np.where(h < 0.5, LOW + (MID - LOW) * (h / 0.5), MID + (HIGH - MID) * ((h - 0.5) / 0.5))
    return Image.fromarray(rgb.astype(np.uint8)).resize((size, size), Image.BILINEAR)


def _disc(r: float) -> np.ndarray:
    """Pixel offsets [k, 2] of a filled disc of radius r."""
    n = int(np.ceil(r))
    dy, dx = np.mgrid[-n:n + 1, -n:n + 1]
    keep = dx ** 2 + dy ** 2 <= r * r + 0.5
    return np.stack([dx[keep], dy[keep]], 1)


def _dots(im: Image.Image, points: np.ndarray, colour, r: float = 2.2) -> Image.Image:
    """Filled dots at points (view units), stamped with NumPy: one assignment per pixel of the disc
    for all points at once (drawing 1,200 ellipses one by one with PIL took ~10 ms a frame)."""
    arr = np.array(im)
    h, w = arr.shape[:2]
    centre = np.rint(_px(points, w)).astype(np.int64)
    for dx, dy in _disc(r):
        x, y = centre[:, 0] + dx, centre[:, 1] + dy
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        arr[y[inside], x[inside]] = colour
    return Image.fromarray(arr)


def _arrows(draw: ImageDraw.ImageDraw, points: np.ndarray, arrows: np.ndarray) -> None:
    """A short line along each (other) point's arrow; the 95th-percentile arrow is ARROW_PX long,
    none longer than 1.5 times that."""
    vec = np.asarray(arrows, np.float64)
    vec = np.clip(np.where(np.isfinite(vec), vec, 0.0), -1e12, 1e12)
    norms = np.linalg.norm(vec, axis=1)
    top = float(np.percentile(norms, 95)) if len(norms) else 0.0
    if top <= 0:
        return
    vec = vec * (ARROW_PX / top)
    vec[:, 1] *= -1  # y up
    length = np.linalg.norm(vec, axis=1, keepdims=True)
    vec = np.where(length > ARROW_PX * 1.5, vec / np.maximum(length, 1e-12) * ARROW_PX * 1.5, vec)
    for (x, y), (dx, dy) in zip(_px(points)[::2], vec[::2]):  # every other point: readable, not a carpet
        draw.line((x, y, x + dx, y + dy), fill=(60, 60, 60), width=1)


def _frame(im: Image.Image, title: str, size: int = PANEL) -> None:
    ImageDraw.Draw(im).rectangle((0, 0, size - 1, size - 1), outline=(160, 160, 160))
    _text(im, (6, 4), title, 13)


def gan_panel(snap: Snapshot, title: str) -> Image.Image:
    im = _dots(heat_image(snap.heat), snap.real, REAL)
    _arrows(ImageDraw.Draw(im), snap.fake, snap.arrows)
    im = _dots(im, snap.fake, FAKE, 1.9)
    _frame(im, title)
    return im


def vae_panel(snap: Snapshot, title: str) -> Image.Image:
    im = _dots(Image.new("RGB", (PANEL, PANEL), (250, 250, 250)), snap.real, (160, 214, 176))
    if snap.vae is not None:
        im = _dots(im, snap.vae, VAE, 1.9)
    _frame(im, title)
    return im


def line_plot(series: list[tuple[np.ndarray, np.ndarray, tuple]], title: str, width: int, height: int = PLOT_H,
              y_range: tuple[float, float] | None = None, range_text: str | None = None) -> Image.Image:
    """Lines (x [n], y [n], colour) on one small chart with its y range printed (or range_text)."""
    im = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    _text(im, (6, 2), title, 11)
    top, bottom, left, right = 18, height - 6, 6, width - 6
    xs = [x for x, _, _ in series if len(x)]
    ys = [y[np.isfinite(y)] for _, y, _ in series if len(y)]
    if not xs or not any(len(y) for y in ys):
        return im
    x0, x1 = min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)
    if y_range is None:
        allv = np.concatenate(ys)
        lo, hi = np.percentile(allv, [1, 99]) if len(allv) > 20 else (allv.min(), allv.max())
        y_range = (float(lo), float(hi))
    lo, hi = y_range
    hi = hi if hi > lo else lo + 1
    _text(im, (right - 90, 2), range_text or f"{lo:.2g} .. {hi:.2g}", 11, (110, 110, 110))
    for x, y, colour in series:
        if len(x) < 2:
            continue
        px = left + (x - x0) / max(x1 - x0, 1e-9) * (right - left)
        py = bottom - (np.clip(np.nan_to_num(y, nan=lo), lo, hi) - lo) / (hi - lo) * (bottom - top)
        draw.line(list(zip(px.tolist(), py.tolist())), fill=colour, width=1)
    draw.rectangle((left, top, right, bottom), outline=(200, 200, 200))
    return im


def picture(snap: Snapshot, vae: bool = True) -> Image.Image:
    """The whole view: [GAN | VAE] over [losses | coverage]."""
    width = 2 * PANEL + GAP if vae else PANEL
    im = Image.new("RGB", (width, PANEL + GAP + 2 * PLOT_H + GAP), (255, 255, 255))
    surface = "D(x), green = real" if snap.loss in LOGIT_LOSSES else "critic score, green = high"
    im.paste(gan_panel(snap, f"GAN, step {snap.step:,}  ({surface})"), (0, 0))
    if vae:
        im.paste(vae_panel(snap, "VAE beside it: samples (orange)"), (PANEL + GAP, 0))
    h = snap.history
    losses = line_plot([(h[:, 0], h[:, 1], LOSS_D), (h[:, 0], h[:, 2], LOSS_G)],
                       "loss_D (blue), loss_G (red)", width)
    im.paste(losses, (0, PANEL + GAP))
    c = snap.coverage_history
    title = f"{snap.coverage.mode_word} covered (of {snap.coverage.n_modes})"
    n = snap.coverage.n_modes
    cov = line_plot([(c[:, 0], c[:, 1], FAKE)], title, width, y_range=(-0.04 * n, 1.04 * n), range_text=f"0 .. {n}")
    im.paste(cov, (0, PANEL + GAP + PLOT_H + GAP))
    return im


def data_url(im: Image.Image, quality: int = 85) -> str:
    """A picture as a JPEG data URL (nothing is written to disk). JPEG because it is cheap: 0.7 ms
    and ~65 KB for the whole view, against WebP's 11-18 ms for 36-41 KB (bench/gan_playground.py);
    the CPU is what the playground must spare."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pad_image(points: np.ndarray | None, size: int = 240) -> Image.Image:
    """The drawing pad: a light grid over the view and the drawn points."""
    im = Image.new("RGB", (size, size), (252, 252, 252))
    draw = ImageDraw.Draw(im)
    for v in range(-int(VIEW), int(VIEW) + 1):
        (x, _), = _px(np.array([[v, 0.0]]), size)
        (_, y), = _px(np.array([[0.0, v]]), size)
        grey = (200, 200, 200) if v else (160, 160, 160)
        draw.line((x, 0, x, size), fill=grey)
        draw.line((0, y, size, y), fill=grey)
    if points is not None and len(points):
        im = _dots(im, points, REAL, 2.0)
    ImageDraw.Draw(im).rectangle((0, 0, size - 1, size - 1), outline=(160, 160, 160))
    return im


def pad_to_view(x: float, y: float, size: int = 240) -> tuple[float, float]:
    """A click on the pad (pixels, y down) -> view units."""
    return x / size * 2 * VIEW - VIEW, VIEW - y / size * 2 * VIEW
