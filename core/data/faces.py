"""Face images (CelebA layout): a folder of aligned faces and, optionally, the attribute list."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .images import list_images


def read_attributes(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """list_attr_celeba.txt (line 1 count, line 2 names, rows "file v1 v2 ..." with +-1) ->
    (names, {file name: int8 array of 0/1})."""
    lines = Path(path).read_text().splitlines()
    names = lines[1].split()
    table = {}
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == len(names) + 1:
            table[parts[0]] = (np.array(parts[1:], dtype=np.int8) > 0).astype(np.int8)
    return names, table


def face_box(width: int, height: int, crop_fraction: float = 0.72, center_y: float = 0.55) -> tuple[int, int, int]:
    """The face square of an aligned photo: (left, top, side) of a square crop_fraction x the width,
    centred across and at center_y of the height (moved up or down to stay inside the photo). The one
    definition of the faces' crop: the datasets and the inpainting tab's uploads use it."""
    side = int(round(width * crop_fraction))
    top = int(round(height * center_y - side / 2))
    top = min(max(0, top), height - side)
    return (width - side) // 2, top, side


class FaceDataset(Dataset):
    """Items {"image": [3, S, S] in [-1, 1], "attrs": [n_attrs] float 0/1 (all -1 if unknown)}.

    Faces are cut as a square of crop_fraction x the image width, centred at (0.5, center_y) of
    the aligned photo (the face, with hair and chin), and resized to S. `labelled_only` keeps
    images that have attributes; `split` takes a deterministic part: the last `holdout` of the
    (sorted) files is "val", the rest "train". `repeat` = {"Eyeglasses": 4} lists every labelled
    image with that attribute 4 times (a GAN drops rare modes such as glasses; showing them more
    often keeps them; the largest factor of an image's attributes counts).
    """

    def __init__(self, img_dir: Path, attr_file: Path | None = None, image_size: int = 64,
                 crop_fraction: float = 0.72, center_y: float = 0.55, augment: bool = True,
                 labelled_only: bool = False, split: str = "all", holdout: float = 0.1,
                 repeat: dict[str, int] | None = None):
        files = list_images(Path(img_dir))
        self.names, table = read_attributes(attr_file) if attr_file and Path(attr_file).exists() else ([], {})
        if labelled_only:
            files = [f for f in files if f.name in table]
        if split != "all":
            cut = int(round(len(files) * (1 - holdout)))
            files = files[:cut] if split == "train" else files[cut:]
        if not files:
            raise FileNotFoundError(f"no face images in {img_dir}")
        if repeat and self.names:
            cols = dict(zip(attribute_index(self.names, list(repeat)), repeat.values()))
            times = [max([1] + [int(k) for c, k in cols.items() if f.name in table and table[f.name][c]])
                     for f in files]
            files = [f for f, n in zip(files, times) for _ in range(n)]
        self.files, self.table = files, table
        self.image_size, self.crop_fraction, self.center_y, self.augment = image_size, crop_fraction, center_y, augment
        self._cache: dict[Path, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, i: int) -> torch.Tensor:
        key = self.files[i]  # by file, so a repeated image is decoded once
        if key not in self._cache:
            im = Image.open(key).convert("RGB")
            left, top, side = face_box(*im.size, self.crop_fraction, self.center_y)
            im = im.crop((left, top, left + side, top + side)).resize((self.image_size,) * 2, Image.LANCZOS)
            self._cache[key] = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
        return self._cache[key]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        x = self._load(i).float() / 127.5 - 1
        if self.augment and torch.rand(()) < 0.5:
            x = x.flip(-1)
        row = self.table.get(self.files[i].name)
        attrs = torch.from_numpy(row.astype(np.float32)) if row is not None else torch.full((len(self.names),), -1.0)
        return {"image": x, "attrs": attrs}


def attribute_index(names: list[str], wanted: list[str]) -> list[int]:
    missing = [w for w in wanted if w not in names]
    if missing:
        raise KeyError(f"attributes not in the list: {missing}")
    return [names.index(w) for w in wanted]
