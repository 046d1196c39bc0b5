"""Holes for inpainting: centre squares (Pathak et al. 2016) and free-form brush strokes (Yu et al.
2019, "Free-Form Image Inpainting with Gated Convolution", their random stroke algorithm), and the
faces with a hole each that the inpainting task trains on.

A mask is a bool array [S, S], True = hole (to be filled), False = known. Strokes are drawn with
PIL (lines of a random width with round joints), so they look like what a person paints with a
round brush; every mask is reproducible from its seed.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.utils.data import Dataset

from .faces import FaceDataset

CENTER_FRACTION = 0.5  # the centre square's side / the image side (Pathak: 64 of 128 px)
MASK_KINDS = ("center", "free")
FREE_MIN_AREA, FREE_MAX_AREA = 0.08, 0.45  # share of the image a free-form mask covers
EVAL_SEED = 10_000  # free-form mask of evaluation item i: seed EVAL_SEED + i


def center_mask(size: int, fraction: float = CENTER_FRACTION) -> np.ndarray:
    """The centred square hole of side round(fraction * size): bool [size, size]."""
    side = max(1, int(round(size * fraction)))
    lo = (size - side) // 2
    mask = np.zeros((size, size), dtype=bool)
    mask[lo:lo + side, lo:lo + side] = True
    return mask


def _strokes(size: int, rng: np.random.Generator) -> np.ndarray:
    """1-3 strokes of 4-11 segments each; widths 6-16 % of the side; segments 5-25 % of it, turning
    by up to 70 degrees (a brush dragged across the face)."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(1, 4))):
        width = max(1, int(round(size * rng.uniform(0.06, 0.16))))
        x, y = rng.uniform(0, size, 2)
        angle = rng.uniform(0, 2 * math.pi)
        for _ in range(int(rng.integers(4, 12))):
            angle += rng.uniform(-1.2, 1.2)
            length = size * rng.uniform(0.05, 0.25)
            nx = float(np.clip(x + length * math.cos(angle), 0, size - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, size - 1))
            draw.line([(x, y), (nx, ny)], fill=255, width=width)
            r = width / 2
            draw.ellipse([nx - r, ny - r, nx + r, ny + r], fill=255)
            x, y = nx, ny
    return np.asarray(canvas) > 0


def free_form_mask(size: int, seed: int) -> np.ndarray:
    """Random brush strokes covering FREE_MIN_AREA..FREE_MAX_AREA of the image: bool [size, size],
    the same for the same (size, seed)."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        mask = _strokes(size, rng)
        if FREE_MIN_AREA <= mask.mean() <= FREE_MAX_AREA:
            return mask
    return center_mask(size)  # not reached in practice (a few tries suffice)


def eval_mask(kind: str, size: int, index: int) -> np.ndarray:
    """The fixed mask of evaluation item `index`: the centre square, or free-form strokes seeded by
    the index (the eval, the live eval and the figures all use these)."""
    if kind == "center":
        return center_mask(size)
    if kind == "free":
        return free_form_mask(size, EVAL_SEED + index)
    raise ValueError(f"mask kind must be one of {MASK_KINDS}, not {kind!r}")


class MaskedFaceDataset(Dataset):
    """Faces with a hole: {"image": [3, S, S] in [-1, 1], "mask": [1, S, S] float 1 = hole,
    "kind": 0 centre / 1 free-form}.

    augment: the faces' own augmentation (flips) and a fresh mask per item, the centre square with
    probability `center_share`, else free-form strokes (seeds drawn from torch's RNG, which the
    loader seeds per worker). Else item i gets eval_mask(centre for even i, free-form for odd i),
    so a fixed batch holds both kinds."""

    def __init__(self, faces: FaceDataset, augment: bool = True, center_share: float = 0.25):
        self.faces, self.augment, self.center_share = faces, augment, center_share

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        image = self.faces[i]["image"]
        size = image.shape[-1]
        if self.augment:
            center = bool(torch.rand(()) < self.center_share)
            mask = center_mask(size) if center else free_form_mask(size, int(torch.randint(0, 2**31 - 1, ())))
        else:
            center = i % 2 == 0
            mask = eval_mask("center" if center else "free", size, i)
        return {"image": image, "mask": torch.from_numpy(mask).float()[None], "kind": torch.tensor(0 if center else 1)}
