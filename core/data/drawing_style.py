"""Drawing-like inputs made from the dataset's dense edge maps (training and the drawing eval).

The edge maps of edges2shoes/handbags come from an edge detector: every texture, seam and logo
leaves a line. A person draws a sparse outline: the silhouette, the sole, a few laces. A model
trained only on the dense maps turns such an outline into a pale ghost, so training mixes in:

- "simplified": short segments and texture edges dropped, nearby lines merged, contours
  smoothed, a share of the remaining parts left out;
- "outline": the object's silhouette (from the photo's non-white pixels and the edges' closed
  contours) plus a few of the longest interior lines, sometimes with a gap in the outline.

Everything works on boolean masks [H, W] at edges.WORK_SIZE (True = ink) with a numpy Generator,
so a seeded generator gives the same drawing every time (the eval relies on that).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import disk, skeletonize

STYLES = ("dense", "simplified", "outline")
_EIGHT = np.ones((3, 3), bool)  # 8-connectivity: a diagonal line is one component


def object_mask(edge: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """The object's silhouette [H, W] bool from its edges [H, W] bool and photo [H, W, 3] uint8.

    The datasets' objects stand on white; white shoes are found by their closed contours instead.
    """
    fg = photo.min(axis=2) < 235
    solid = ndimage.binary_closing(fg | ndimage.binary_dilation(edge, iterations=2), structure=disk(4))
    solid = ndimage.binary_fill_holes(solid)
    solid = ndimage.binary_opening(solid, structure=disk(3))  # shadows' and dust's specks
    labels, n = ndimage.label(solid)
    if n == 0:
        return solid
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    smooth = ndimage.gaussian_filter((labels == sizes.argmax()).astype(np.float32), 2.0)
    return smooth > 0.5


def long_lines(edge: np.ndarray, min_pixels: int) -> np.ndarray:
    """`edge` without its connected pieces shorter than `min_pixels` (texture, dots, short bits)."""
    labels, n = ndimage.label(edge, structure=_EIGHT)
    if n == 0:
        return edge
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_pixels
    keep[0] = False
    return keep[labels]


def smooth_lines(ink: np.ndarray, sigma: float) -> np.ndarray:
    """Merge lines closer than ~2 sigma and round their wiggles; returns 1 px centre lines."""
    thick = ndimage.binary_dilation(ink, iterations=2)
    return skeletonize(ndimage.gaussian_filter(thick.astype(np.float32), sigma) > 0.5)


def drop_pieces(ink: np.ndarray, share: float, rng: np.random.Generator, keep_largest: int = 1) -> np.ndarray:
    """Leave out about `share` of the connected pieces at random, never the `keep_largest` biggest."""
    labels, n = ndimage.label(ink, structure=_EIGHT)
    if n <= keep_largest:
        return ink
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = rng.random(n + 1) >= share
    keep[np.argsort(sizes)[::-1][:keep_largest]] = True
    keep[0] = False
    return keep[labels]


def simplified(edge: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ink = long_lines(edge, int(rng.integers(15, 60)))
    ink = smooth_lines(ink, float(rng.uniform(1.0, 2.0)))
    ink = long_lines(ink, 12)  # smoothing leaves spurs and dots
    return drop_pieces(ink, float(rng.uniform(0.0, 0.3)), rng)


def outline(edge: np.ndarray, photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mask = object_mask(edge, photo)
    contour = mask & ~ndimage.binary_erosion(mask)
    inside = edge & ndimage.binary_erosion(mask, iterations=6)
    inner = smooth_lines(long_lines(inside, 30), 1.5)
    labels, n = ndimage.label(inner, structure=_EIGHT)
    if n:  # only the k longest interior lines: a sole line, a strap, a lace or two
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        chosen = np.argsort(sizes)[::-1][:int(rng.integers(0, 7))]
        inner = np.isin(labels, chosen[sizes[chosen] > 0])
    if rng.random() < 0.3:  # an unfinished outline: a gap somewhere along it
        ys, xs = np.nonzero(contour)
        if len(ys):
            i = int(rng.integers(len(ys)))
            r = float(rng.uniform(8, 24))
            yy, xx = np.ogrid[:mask.shape[0], :mask.shape[1]]
            contour = contour & ((yy - ys[i]) ** 2 + (xx - xs[i]) ** 2 > r * r)
    return contour | inner


def drawing_like(edge: np.ndarray, photo: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """Edge map [H, W] bool + its photo [H, W, 3] uint8 -> 1 px drawing [H, W] bool in `style`.

    An empty result (an object the silhouette finder missed) falls back to the dense edges.
    """
    if style == "dense":
        return edge
    if style == "simplified":
        out = simplified(edge, rng)
    elif style == "outline":
        out = outline(edge, photo, rng)
    else:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    return out if out.sum() >= 20 else edge


def pick_style(drawing_share: float, rng: np.random.Generator) -> str:
    """"dense" with probability 1 - drawing_share, else "simplified" or "outline" half and half."""
    if rng.random() >= drawing_share:
        return "dense"
    return "simplified" if rng.random() < 0.5 else "outline"


def eval_style(index: int) -> str:
    """The fixed style of eval item `index`: simplified and outline alternate."""
    return "simplified" if index % 2 == 0 else "outline"
