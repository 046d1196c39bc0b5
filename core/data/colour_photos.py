"""Colour photos from several folders (colorization): whole photos, or the photo half of
side-by-side pairs, with a deterministic hold-out by file-name hash (as for horse2zebra)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from .images import list_images, to_rgb
from .scenes import TRAIN_SEEDS, paint_scene
from .unpaired import split_files


@dataclass(frozen=True)
class PhotoFile:
    path: Path
    left_half: bool = False  # a pair image (photo | edges): only its left half is the photo


def photo_files(photos: list[Path] = (), left_halves: list[Path] = (), split: str = "all",
                holdout: float = 0.05) -> list[PhotoFile]:
    """The images of every folder in `photos` (whole) and `left_halves` (the left half of each
    file), each folder split by `split_files` ("train", "val" or "all")."""
    files: list[PhotoFile] = []
    for folders, half in ((photos, False), (left_halves, True)):
        for folder in folders:
            files += [PhotoFile(p, half) for p in split_files(list_images(Path(folder)), split, holdout)]
    return files


def load_photo(file: PhotoFile, min_side: int = 0) -> Image.Image:
    """The photo as RGB (any mode, EXIF orientation applied). With min_side, JPEGs are decoded at
    a reduced scale (PIL's draft) as long as the short side stays >= min_side: faster, and the
    training crops never need more."""
    im = Image.open(file.path)
    if min_side and im.format == "JPEG":
        w, h = im.size
        im.draft(im.mode, (min_side * w // min(w, h), min_side * h // min(w, h)))  # a pair: its half too
    im = to_rgb(im)
    if file.left_half:
        im = im.crop((0, 0, im.width // 2, im.height))
    return im


class PhotoDataset(Dataset):
    """Items {"image": [3, S, S] in [-1, 1]}, S = crop_size.

    augment: a random square of `min_scale`..1 of the short side (a random-resized crop without
    aspect change), resized to S, flipped at random. Else the centred largest square, resized to
    S: a fixed view for validation and evaluation. Images are decoded on demand (no cache: the
    sets hold ~24,000 photos and a step takes far longer than decoding a batch).

    painted_share: that share of the items (drawn at random, so only with augment) is a random
    landscape painted in code (`scenes.paint_scene`, training seeds) instead of the photo: flat,
    painted pictures are a domain photos do not teach."""

    def __init__(self, files: list[PhotoFile], crop_size: int = 128, augment: bool = True, min_scale: float = 0.5,
                 painted_share: float = 0.0):
        if not files:
            raise FileNotFoundError("no colour photos found")
        if painted_share and not augment:
            raise ValueError("painted_share needs augment: the fixed (evaluation) view has no random items")
        self.files, self.crop_size, self.augment, self.min_scale = list(files), crop_size, augment, min_scale
        self.painted_share = painted_share

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self.painted_share and float(torch.rand(())) < self.painted_share:
            im = self._painted()
        else:
            im = load_photo(self.files[i], min_side=int(self.crop_size / self.min_scale))
        x = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255.0
        _, _, h, w = x.shape
        short = min(h, w)
        if self.augment:
            side = max(1, int(round(short * float(torch.empty(()).uniform_(self.min_scale, 1.0)))))
            y0, x0 = (int(torch.randint(0, n - side + 1, ())) for n in (h, w))
        else:
            side = short
            y0, x0 = (h - side) // 2, (w - side) // 2
        crop = x[:, :, y0:y0 + side, x0:x0 + side]
        crop = F.interpolate(crop, size=(self.crop_size, self.crop_size), mode="bicubic", antialias=True,
                             align_corners=False).clamp(0, 1)
        if self.augment and torch.rand(()) < 0.5:
            crop = crop.flip(-1)
        return {"image": crop[0] * 2 - 1}

    def _painted(self) -> Image.Image:
        """A training-seed painted landscape, wider or taller at random, at about the photos' scale."""
        seed = int(torch.randint(TRAIN_SEEDS, 2**31 - 1, ()))
        side = self.crop_size / self.min_scale
        aspect = float(torch.empty(()).uniform_(0.75, 1.5))
        return paint_scene((int(side * max(aspect, 1.0)), int(side / min(aspect, 1.0))), seed)
