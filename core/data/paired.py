"""Paired image datasets in the official pix2pix layout: each file holds A | B side by side."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from . import drawing_style, edges
from .images import list_images


class PairedDataset(Dataset):
    """Pairs (A = input, B = target) cut from side-by-side images.

    photo_left=False is the official pix2pix order (A left, B right); photo_left=True reads the
    reversed order of ../shared/data/edges2shoes_handbags (photo left, edges right).
    input_mode="edges" turns A into a 1-channel edge map (random stroke width and wobble when
    augmenting); "rgb" keeps A as a colour image.

    Drawing-like inputs (edges mode, see drawing_style): when augmenting, a `drawing_share` of
    the items get a simplified or outline drawing instead of the dense edge map. Without
    augmentation, `inputs="drawing"` gives every item a fixed, seeded drawing (simplified and
    outline alternate) normalised like a canvas drawing (strokes redrawn at the inference width;
    not re-fitted, so it stays aligned with its photo), which is the drawing eval's input.

    Items: {"A": [C_A, S, S], "B": [3, S, S]} in [-1, 1], S = crop_size. Augmentation (pix2pix
    jitter): resize to load_size, random crop_size crop, random horizontal flip.
    """

    def __init__(self, root: Path, crop_size: int = 128, load_size: int | None = None,
                 photo_left: bool = False, input_mode: str = "edges", augment: bool = True,
                 cache_bytes: int = 2 << 30, seed: int | None = None, drawing_share: float = 0.0,
                 inputs: str = "edges"):
        self.files = list_images(Path(root))
        if not self.files:
            raise FileNotFoundError(f"no images found in {root}")
        if input_mode not in ("edges", "rgb"):
            raise ValueError("input_mode must be 'edges' or 'rgb'")
        if inputs not in ("edges", "drawing"):
            raise ValueError("inputs must be 'edges' or 'drawing'")
        self.drawing_share, self.inputs = float(drawing_share), inputs
        self.crop_size = crop_size
        self.load_size = load_size or (int(round(crop_size * 286 / 256)) if augment else crop_size)
        self.photo_left, self.input_mode, self.augment = photo_left, input_mode, augment
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._cache_left = cache_bytes
        self._gen = torch.Generator().manual_seed(seed) if seed is not None else None

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if i in self._cache:
            return self._cache[i]
        im = Image.open(self.files[i]).convert("RGB")
        w, h = im.size
        left, right = im.crop((0, 0, w // 2, h)), im.crop((w // 2, 0, 2 * (w // 2), h))
        a_im, b_im = (right, left) if self.photo_left else (left, right)
        side = edges.WORK_SIZE
        if a_im.size != (side, side):
            a_im, b_im = a_im.resize((side, side), Image.BICUBIC), b_im.resize((side, side), Image.BICUBIC)
        a = np.asarray(a_im.convert("L") if self.input_mode == "edges" else a_im)
        b = np.asarray(b_im)
        if self._cache_left > a.nbytes + b.nbytes:
            self._cache[i] = (a, b)
            self._cache_left -= a.nbytes + b.nbytes
        return a, b

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        a_np, b_np = self._load(i)
        g = self._gen
        b = torch.from_numpy(b_np.copy()).permute(2, 0, 1)[None].float() / 255.0
        if self.input_mode == "edges":
            edge = a_np < 192  # the maps are dark lines on white (thresholded as 1 - a > 0.25)
            if not self.augment and self.inputs == "drawing":
                return self._drawing_item(i, edge, b_np, b)
            if self.augment and self.drawing_share > 0:
                # Seeded from torch's RNG, which DataLoader reseeds per worker and epoch (a numpy
                # generator held here would repeat the same choices in every epoch's workers).
                rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=g)))
                edge = drawing_style.drawing_like(edge, b_np, drawing_style.pick_style(self.drawing_share, rng), rng)
            a = torch.from_numpy(edge)[None, None].float()
            if self.augment:
                a = edges.random_stroke(a, generator=g)
        else:
            a = torch.from_numpy(a_np.copy()).permute(2, 0, 1)[None].float() / 255.0
        a, b = self._resize_crop_flip(a, b, g)
        a = edges.to_model_input(a, self.crop_size) if self.input_mode == "edges" else a * 2 - 1
        return {"A": a[0], "B": (b * 2 - 1)[0]}

    def _drawing_item(self, i: int, edge: np.ndarray, b_np: np.ndarray, b: torch.Tensor) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(i)  # the same drawing for item i on every run
        drawing = drawing_style.drawing_like(edge, b_np, drawing_style.eval_style(i), rng)
        # fit=False: the drawing stays aligned with its photo (the objects fill the frame already).
        a = edges.ink_to_input(torch.from_numpy(drawing)[None, None].float(), self.crop_size, fit=False)
        b = F.interpolate(b, size=(self.crop_size, self.crop_size), mode="bicubic", antialias=True).clamp(0, 1)
        return {"A": a[0], "B": (b * 2 - 1)[0]}

    def _resize_crop_flip(self, a, b, g):
        size = self.load_size
        # Area resampling keeps thin strokes as grey lines instead of dropping them.
        a = F.interpolate(a, size=(size, size), mode="area")
        b = F.interpolate(b, size=(size, size), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
        if self.augment and size > self.crop_size:
            y, x = (int(v) for v in torch.randint(0, size - self.crop_size + 1, (2,), generator=g))
        else:
            y = x = (size - self.crop_size) // 2
        a = a[:, :, y:y + self.crop_size, x:x + self.crop_size]
        b = b[:, :, y:y + self.crop_size, x:x + self.crop_size]
        if self.augment and torch.rand((), generator=g) < 0.5:
            a, b = a.flip(-1), b.flip(-1)
        return a, b
