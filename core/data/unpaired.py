"""Unpaired image collections (CycleGAN): domain A and domain B, each one or more folders."""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from .images import list_images

CACHE_SIDE = 512  # decoded images are kept with this long side at most


def cyclegan_folders(root: Path, phase: str = "train") -> tuple[list[Path], list[Path]]:
    """The official CycleGAN layout: root/trainA, root/trainB (or testA/testB)."""
    root = Path(root)
    return [root / f"{phase}A"], [root / f"{phase}B"]


def split_files(files: list[Path], split: str, holdout: float) -> list[Path]:
    """Deterministic hold-out by a hash of the file name: "train", "val" or "all"."""
    if split == "all" or holdout <= 0:
        return files
    is_val = [zlib.crc32(p.name.encode()) % 1000 < holdout * 1000 for p in files]
    return [p for p, v in zip(files, is_val) if v == (split == "val")]


def collect_files(roots: list[Path], split: str = "all", holdout: float = 0.1) -> list[Path]:
    """The images of several folders, each split by split_files."""
    files: list[Path] = []
    for root in roots:
        files += split_files(list_images(Path(root)), split, holdout)
    return files


class UnpairedDataset(Dataset):
    """Items {"A": [3, S, S], "B": [3, S, S]} in [-1, 1], A and B unrelated.

    With augment, each image is cropped at a random scale (a square of S*s px with s drawn from
    [1, max_scale], capped by the image) and resized to S, then flipped at random: large field
    photos give many views, small ones are used whole. Without augment: the centred largest
    square, resized to S. `split`/`holdout` carve a deterministic validation part per folder.
    """

    def __init__(self, roots_A: list[Path], roots_B: list[Path], crop_size: int = 128, augment: bool = True,
                 split: str = "all", holdout: float = 0.1, max_scale: float = 3.0, seed: int | None = None):
        self.files = {d: collect_files(roots, split, holdout) for d, roots in (("A", roots_A), ("B", roots_B))}
        for d, files in self.files.items():
            if not files:
                raise FileNotFoundError(f"no images for domain {d} in {roots_A if d == 'A' else roots_B}")
        self.crop_size, self.augment, self.max_scale = crop_size, augment, max_scale
        self._cache: dict[tuple[str, int], torch.Tensor] = {}
        self._gen = torch.Generator().manual_seed(seed) if seed is not None else None

    def __len__(self) -> int:
        return max(len(f) for f in self.files.values())

    def _image(self, domain: str, i: int) -> torch.Tensor:
        key = (domain, i)
        if key not in self._cache:
            im = Image.open(self.files[domain][i]).convert("RGB")
            im.thumbnail((CACHE_SIDE, CACHE_SIDE), Image.BICUBIC)
            self._cache[key] = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
        return self._cache[key]

    def _view(self, img: torch.Tensor) -> torch.Tensor:
        _, h, w = img.shape
        side_max = min(h, w)
        g = self._gen
        if self.augment:
            hi = max(1.0, min(self.max_scale, side_max / self.crop_size))
            side = int(min(side_max, self.crop_size * (1 + (hi - 1) * float(torch.rand((), generator=g)))))
            y = int(torch.randint(0, h - side + 1, (), generator=g))
            x = int(torch.randint(0, w - side + 1, (), generator=g))
        else:
            side = side_max
            y, x = (h - side) // 2, (w - side) // 2
        crop = img[:, y:y + side, x:x + side][None].float() / 255.0
        crop = F.interpolate(crop, size=(self.crop_size, self.crop_size), mode="bicubic", antialias=True,
                             align_corners=False).clamp(0, 1)[0]
        if self.augment and torch.rand((), generator=g) < 0.5:
            crop = crop.flip(-1)
        return crop * 2 - 1

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        n_a, n_b = len(self.files["A"]), len(self.files["B"])
        j = int(torch.randint(0, n_b, (), generator=self._gen)) if self.augment else i % n_b
        return {"A": self._view(self._image("A", i % n_a)), "B": self._view(self._image("B", j))}
