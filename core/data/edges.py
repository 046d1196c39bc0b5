"""Edge maps: one normalisation for the dataset's thin machine edges and a person's strokes.

Representation: an "ink" map [B, 1, H, W] in [0, 1] (1 = stroke, 0 = paper). The model input is
paper-white = +1 and ink = -1, at the model size. Training widens the dataset's 1px edges to
random widths and wobbles them; inference fits a drawing into the frame and redraws each stroke
along its centre line at the middle of the training range, so both reach the net looking alike.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WORK_SIZE = 256  # edge maps are binarised and re-stroked at this side, then downsampled
TARGET_WIDTH = 3.0  # stroke width (px at WORK_SIZE) that inference normalises drawings to
GAIN = 2.0  # after area-downsampling a 1px line is ~50% grey; the gain makes it full ink again


def ink_from_rgb(x: torch.Tensor) -> torch.Tensor:
    """RGB or grey [B, C, H, W] in [0, 1] (dark strokes on light paper) -> ink [B, 1, H, W]."""
    if x.shape[1] == 3:
        x = 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    return (1.0 - x).clamp(0, 1)


def dilate(ink: torch.Tensor, k: int) -> torch.Tensor:
    """Grey dilation with a k x k square (k may be even): strokes gain k-1 px of width."""
    if k <= 1:
        return ink
    lo, hi = (k - 1) // 2, k // 2
    return F.max_pool2d(F.pad(ink, (lo, hi, lo, hi)), k, stride=1)


def erode(ink: torch.Tensor, k: int = 3) -> torch.Tensor:
    return -dilate(-ink, k)


def stroke_width(ink: torch.Tensor) -> float:
    """Mean stroke width in px of a binary ink map [1, 1, H, W]: area / (boundary / 2).

    A stroke of length L and width w >= 2 has area L*w and about 2L boundary pixels (a 1px line
    is all boundary and reads as 2px, which is fine for normalising).
    """
    area = float(ink.sum())
    if area == 0:
        return 0.0
    boundary = float((ink - erode(ink, 3)).clamp(min=0).sum())
    return 2.0 * area / max(boundary, 1.0)


FILLED_MIN_WIDTH = 20.0  # px at WORK_SIZE: narrower marks are strokes, however thick the pen
FILLED_VS_TYPICAL = 3.0  # ... and a filled area is also this many times wider than the typical stroke


def normalise_width(ink: torch.Tensor, target: float = TARGET_WIDTH) -> torch.Tensor:
    """Binary ink [1, 1, H, W] -> every stroke redrawn `target` px wide along its centre line.

    Thin strokes are never lost, whatever else the drawing holds: each mark is skeletonised
    (topology kept, so two close lines stay two lines and a 1 px hatch stays a hatch) and redrawn
    at the training width. A filled area (wider than FILLED_MIN_WIDTH and FILLED_VS_TYPICAL times
    the drawing's median stroke width) becomes its outline, as a dark patch does in the dataset's
    edge maps, instead of a skeleton "X".
    """
    from scipy import ndimage  # scipy and scikit-image load on the first drawing, not at the app's start
    from skimage.morphology import skeletonize

    mask = ink[0, 0].numpy() > 0.5
    if not mask.any():
        return ink
    centre = skeletonize(mask)
    if not _may_hold_filled(mask):  # most drawings: strokes only, and no distance transform to pay for
        return _redraw(centre, target, ink.dtype)
    depth = ndimage.distance_transform_edt(mask)  # distance to the paper: local half-width
    typical = float(np.median(2.0 * depth[centre])) if centre.any() else 1.0
    radius = max(FILLED_MIN_WIDTH, FILLED_VS_TYPICAL * typical) / 2.0
    cores = depth > radius
    if cores.any():
        # Opening with a disk of that radius, via two distance transforms (fast at any radius).
        filled = (ndimage.distance_transform_edt(~cores) <= radius) & mask
        outline = filled & ~ndimage.binary_erosion(filled)
        centre = (centre & ~ndimage.binary_dilation(filled, iterations=2)) | outline
    return _redraw(centre, target, ink.dtype)


def _redraw(centre: np.ndarray, width: float, dtype: torch.dtype) -> torch.Tensor:
    """Centre lines [H, W] bool -> ink [1, 1, H, W] of `dtype`, `width` px wide: the same square
    dilation as `dilate`, done by scipy on the mask (a third of torch's max-pool time at 256 px)."""
    from scipy import ndimage

    k = max(1, int(round(width)))
    origin = -1 if k % 2 == 0 else 0  # an even square reaches one px further right/down, as in `dilate`
    grown = centre.view(np.uint8)
    for axis in (0, 1):
        grown = ndimage.maximum_filter1d(grown, k, axis=axis, mode="constant", cval=0, origin=origin)
    return torch.from_numpy(grown).to(dtype)[None, None]


def _may_hold_filled(mask: np.ndarray) -> bool:
    """False when no pixel of the binary mask [H, W] lies deeper than FILLED_MIN_WIDTH / 2 in the ink,
    so `normalise_width` finds no filled area whatever the drawing's typical width: such a pixel has
    ink all over the square of half-side r / sqrt(2) around it (r the half-width), so the square
    erosion is empty without one. Exact, and a tenth of the distance transform's time."""
    from scipy import ndimage

    half = int(FILLED_MIN_WIDTH / 2 / np.sqrt(2))
    # Outside the image counts as ink, as in the distance transform (which measures to the paper only).
    return bool(ndimage.minimum_filter(mask.view(np.uint8), size=2 * half + 1, mode="constant", cval=1).any())


def fit_to_frame(ink: torch.Tensor, margin: float = 0.06, threshold: float = 0.5) -> torch.Tensor:
    """Crop ink [1, 1, H, W] to the bounding box of its strokes and centre it in a square with
    `margin` of the side free on each edge (the dataset's objects fill the frame the same way)."""
    box = frame_box(ink, margin, threshold)
    return ink if box is None else in_frame(ink, box)


def frame_box(ink: torch.Tensor, margin: float = 0.06,
              threshold: float = 0.5) -> tuple[int, int, int, int, int, int, int] | None:
    """`fit_to_frame`'s geometry for ink [1, 1, H, W]: (y0, y1, x0, x1) the strokes' bounding box,
    the square's side and the crop's offset (oy, ox) in it; None when there is no stroke."""
    mask = ink[0, 0] > threshold
    if not mask.any():
        return None
    ys, xs = torch.nonzero(mask, as_tuple=True)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    side = int(round(max(y1 - y0, x1 - x0) / (1 - 2 * margin)))
    return y0, y1, x0, x1, side, (side - (y1 - y0)) // 2, (side - (x1 - x0)) // 2


def in_frame(layer: torch.Tensor, box: tuple[int, int, int, int, int, int, int]) -> torch.Tensor:
    """Any layer [B, C, H, W] of the drawing's size cropped and centred as `frame_box` says (zeros
    around): the ink itself, or a colour layer that must land where it was drawn."""
    y0, y1, x0, x1, side, oy, ox = box
    out = torch.zeros(*layer.shape[:2], side, side, dtype=layer.dtype)
    out[:, :, oy:oy + y1 - y0, ox:ox + x1 - x0] = layer[:, :, y0:y1, x0:x1]
    return out


def pad_square(ink: torch.Tensor) -> torch.Tensor:
    """Pad ink [B, 1, H, W] with paper to a centred square."""
    h, w = ink.shape[-2:]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return F.pad(ink, (left, side - w - left, top, side - h - top))


def to_model_input(ink: torch.Tensor, size: int) -> torch.Tensor:
    """Ink [B, 1, H, W] in [0, 1] -> model input [B, 1, size, size] in [-1, 1] (paper = +1)."""
    if ink.shape[-1] != size or ink.shape[-2] != size:
        ink = F.interpolate(ink, size=(size, size), mode="area")
    ink = (ink * GAIN).clamp(0, 1)
    return 1.0 - 2.0 * ink


def sketch_to_input(rgb: torch.Tensor, size: int, fit: bool = True) -> torch.Tensor:
    """A drawing or edge image [1, 3, H, W] in [0, 1] -> model input [1, 1, size, size].

    Binarises, then `ink_to_input`. Raises ValueError when there is no ink at all.
    """
    ink = (ink_from_rgb(rgb) > 0.5).float()
    if ink.sum() == 0:
        raise ValueError("the drawing is empty: draw a few strokes or upload an edge image")
    return ink_to_input(ink, size, fit)


def ink_to_input(ink: torch.Tensor, size: int, fit: bool = True) -> torch.Tensor:
    """Binary ink [1, 1, H, W] -> model input [1, 1, size, size] in [-1, 1]: optionally fits the
    strokes to the frame, resamples to WORK_SIZE, normalises the stroke width and downsamples."""
    ink = fit_to_frame(ink) if fit else pad_square(ink)
    ink = (F.interpolate(ink, size=(WORK_SIZE, WORK_SIZE), mode="area") > 0.25).float()
    return to_model_input(normalise_width(ink), size)


def random_stroke(ink: torch.Tensor, generator: torch.Generator | None = None,
                  max_extra: int = 4, wobble_px: float = 2.0) -> torch.Tensor:
    """Training augmentation on binary ink [1, 1, H, W]: random width (1..1+max_extra px),
    a smooth random displacement (hand wobble, up to ~wobble_px) and, rarely, gaps."""
    k = int(torch.randint(1, max_extra + 2, (1,), generator=generator))
    ink = dilate(ink, k)
    if wobble_px > 0:
        ink = _wobble(ink, wobble_px, generator)
    if torch.rand((), generator=generator) < 0.3:
        # Erase a few random blobs: people leave gaps and skip details.
        h, w = ink.shape[-2:]
        keep = (torch.rand(1, 1, 8, 8, generator=generator) > 0.1).float()
        ink = ink * F.interpolate(keep, size=(h, w), mode="nearest")
    return ink


def _wobble(ink: torch.Tensor, amount_px: float, generator) -> torch.Tensor:
    h, w = ink.shape[-2:]
    coarse = torch.randn(1, 2, 5, 5, generator=generator) * (amount_px * 2 / max(h, w))
    flow = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    grid = torch.stack([xs, ys], dim=-1)[None] + flow
    return F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
