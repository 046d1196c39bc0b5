"""horse2zebra figures: painted examples (committed) and held-out photos (local only)."""
from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from ..data.scenes import examples
from ..pipelines.horse2zebra import HorseZebraPipeline
from .cyclegan import test_files

TILE = 192


def _row(pipe: HorseZebraPipeline, image, direction: str) -> list[torch.Tensor]:
    """input | translation | back, each [3, TILE, TILE] in [0, 1] (centre-cropped square)."""
    x, _ = pipe.prepare(image, max_side=256)
    y, rec = pipe.run(x, direction)
    return [_square(t[0]) for t in (x, y, rec)]


def _square(x: torch.Tensor) -> torch.Tensor:
    """[3, H, W] in [-1, 1] -> [3, TILE, TILE] in [0, 1]: the whole picture, letterboxed in white."""
    _, h, w = x.shape
    scale = TILE / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    x = torch.nn.functional.interpolate(x[None], size=(nh, nw), mode="bilinear", antialias=True)[0]
    out = torch.ones(3, TILE, TILE)
    top, left = (TILE - nh) // 2, (TILE - nw) // 2
    out[:, top:top + nh, left:left + nw] = (x * 0.5 + 0.5).clamp(0, 1)
    return out


def painted_grid(pipe: HorseZebraPipeline, out: Path) -> Path:
    """The project's painted animals, one row each: horse | zebra | back to horse, and for the
    painted zebra: zebra | horse | back to zebra."""
    tiles = [t for name, im in examples().items()
             for t in _row(pipe, im, "zebra → horse" if "zebra" in name else "horse → zebra")]
    save_image(make_grid(torch.stack(tiles), nrow=3, padding=2, pad_value=1.0), out)
    return out


def holdout_grid(pipe: HorseZebraPipeline, spec, out: Path, n: int = 8) -> Path:
    """Held-out photos: horse | zebra | back, then zebra | horse | back (dataset pixels: look, never commit)."""
    tiles = []
    for domain, direction in (("A", "horse → zebra"), ("B", "zebra → horse")):
        files = test_files(spec, None, domain)
        idx = torch.linspace(0, len(files) - 1, n).round().long().tolist()
        for i in idx:
            tiles += _row(pipe, files[i], direction)
    save_image(make_grid(torch.stack(tiles), nrow=6, padding=2, pad_value=1.0), out)
    return out
