"""Sketch (or edge map, or photo) -> photo with the pix2pix generator."""
from __future__ import annotations

from pathlib import Path

import kornia
import numpy as np
import torch
from PIL import Image

from ..checkpoint import is_checkpoint, load_checkpoint, read_config
from ..data import edges
from ..data.images import ImageError, open_image, pil_to_tensor, tensor_to_pil
from ..data.sketches import all_examples
from ..device import compute_dtype, pick_device
from ..registry import get_spec
from .base import CACHE, NotTrainedError
from .critic import realness

MIN_SIDE = 16  # smaller inputs cannot hold a drawing worth translating


class Sketch2PhotoPipeline:
    """Wraps a U-Net generator; inputs are normalised exactly like the training edge maps."""

    def __init__(self, generator: torch.nn.Module, image_size: int, device: torch.device,
                 dtype: torch.dtype = torch.float32, meta: dict | None = None,
                 discriminator: torch.nn.Module | None = None):
        self.device, self.dtype, self.image_size = device, dtype, image_size
        self.meta = meta or {}
        self.G = generator.to(device=device, dtype=dtype).to(memory_format=torch.channels_last).eval()
        self.D = None if discriminator is None else \
            discriminator.to(device=device, dtype=dtype).to(memory_format=torch.channels_last).eval()

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto", precision: str = "bf16") -> "Sketch2PhotoPipeline":
        dev = pick_device(device)
        nets, meta = load_checkpoint(folder)
        return cls(nets["G"], int(meta.get("image_size", 128)), dev, compute_dtype(dev, precision), meta, nets.get("D"))

    # ---- inputs --------------------------------------------------------------------------
    def prepare(self, image, mode: str = "sketch", fit: bool = True) -> torch.Tensor:
        """Any image -> model input [1, 1, S, S] in [-1, 1].

        mode "sketch": dark strokes on light paper (a canvas drawing or an edge map; light strokes
        on dark paper are inverted); mode "photo": edges are extracted first (Canny).
        Raises ImageError / ValueError with a message fit for the user.
        """
        im = open_image(image)
        if min(im.size) < MIN_SIDE:
            raise ValueError(f"the image is too small ({im.width}x{im.height}); use at least {MIN_SIDE}x{MIN_SIDE} px")
        if max(im.size) > 1024:  # plenty for a 128px model; keeps binarising and fitting fast
            im.thumbnail((1024, 1024), Image.BILINEAR)
        x = pil_to_tensor(im)[None]
        if mode == "photo":
            x = photo_to_edges(x)
        elif mode == "sketch":
            if x.mean() < 0.5:  # mostly dark: light strokes on a dark background
                x = 1.0 - x
        else:
            raise ValueError(f"mode must be 'sketch' or 'photo', not {mode!r}")
        return edges.sketch_to_input(x, self.image_size, fit=fit)

    # ---- model ---------------------------------------------------------------------------
    @torch.inference_mode()
    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Model input [B, 1, S, S] in [-1, 1] -> photos [B, 3, S, S] in [-1, 1] (float32)."""
        x = x.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        return self.G(x).float().cpu()

    @torch.inference_mode()
    def judge(self, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
        """The PatchGAN's verdict on the pair (model input x [1, 1, S, S], photo y [1, 3, S, S],
        both in [-1, 1]): realness [h, w] in [0, 1] per patch (14 x 14 at 128 px). Raises
        NotTrainedError for a checkpoint that kept no discriminator."""
        if self.D is None:
            raise NotTrainedError("this checkpoint kept no discriminator")
        pair = torch.cat([x.float(), y.float()], 1).to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        return realness(self.D(pair), "bce")

    def __call__(self, image, mode: str = "sketch", fit: bool = True) -> tuple[Image.Image, Image.Image]:
        """Returns (the normalised edge map the model saw, the generated photo), both PIL."""
        x = self.prepare(image, mode=mode, fit=fit)
        return tensor_to_pil(x[0]), tensor_to_pil(self.run(x)[0])


def photo_to_edges(rgb: torch.Tensor) -> torch.Tensor:
    """Photo [1, 3, H, W] in [0, 1] -> black-on-white edge image [1, 3, H, W] (Canny)."""
    h, w = rgb.shape[-2:]
    scale = 256 / max(h, w)  # edges2shoes edges were made at 256px; keep a similar level of detail
    small = torch.nn.functional.interpolate(rgb, scale_factor=scale, mode="bilinear", antialias=True) if scale < 1 else rgb
    _, edge = kornia.filters.canny(small, low_threshold=0.1, high_threshold=0.2)
    edge = torch.nn.functional.interpolate(edge, size=(h, w), mode="nearest")
    return (1.0 - edge).expand(-1, 3, -1, -1)


def load(name: str = "sketch2photo", precision: str = "bf16") -> Sketch2PhotoPipeline:
    """The cached pipeline for the registry model `name` (raises NotTrainedError if unshipped)."""
    folder = get_spec(name).checkpoint_dir
    return CACHE.get(folder, lambda f: Sketch2PhotoPipeline.from_checkpoint(f, precision=precision), key=precision)


def has_checkpoint(name: str = "sketch2photo") -> bool:
    return is_checkpoint(get_spec(name).checkpoint_dir)


def has_critic(name: str = "sketch2photo") -> bool:
    """True when the shipped checkpoint kept its discriminator (read from config.json, no loading)."""
    folder = get_spec(name).checkpoint_dir
    return is_checkpoint(folder) and "D" in read_config(folder).get("nets", {})


def examples(size: int = 512) -> dict[str, Image.Image]:
    """Example drawings made in code: name -> black-on-white RGB image [size x size]."""
    return all_examples(size)


__all__ = ["ImageError", "Sketch2PhotoPipeline", "examples", "has_checkpoint", "has_critic", "load", "photo_to_edges"]
