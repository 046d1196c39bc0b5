"""Horse <-> zebra with the two CycleGAN generators: translation, the cycle back, the difference."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from ..checkpoint import is_checkpoint, load_checkpoint
from ..data.images import ImageError, open_image, pil_to_tensor, tensor_to_pil  # noqa: F401 (ImageError for tabs)
from ..device import compute_dtype, pick_device
from ..metrics.pixels import psnr
from ..registry import get_spec
from .base import CACHE

MIN_SIDE = 32
MAX_SIDE = 512  # the long side photos are translated at (trained on 128 px crops)
DIRECTIONS = {"horse → zebra": ("G_A", "G_B"), "zebra → horse": ("G_B", "G_A")}
CHANGED = 0.10  # a pixel counts as changed when it moved by more than 10 % of the range (mean over RGB)


@dataclass
class Translation:
    input: Image.Image
    output: Image.Image
    reconstruction: Image.Image  # output translated back (the cycle)
    difference: Image.Image  # what the translation changed, brightened
    identity: Image.Image  # the *other* generator on the input: already in its domain, so ~unchanged
    note: str  # e.g. "downscaled from 4000x3000 to 512x384"
    cycle_psnr: float = 0.0  # reconstruction vs input, dB
    identity_psnr: float = 0.0  # identity vs input, dB
    mean_change: float = 0.0  # mean |output - input| as a share of the pixel range (0..1)
    changed_share: float = 0.0  # share of the pixels changed by more than CHANGED (of the range)


class HorseZebraPipeline:
    def __init__(self, nets: dict[str, torch.nn.Module], device: torch.device, dtype: torch.dtype, meta: dict):
        self.device, self.dtype, self.meta = device, dtype, meta
        self.nets = {k: v.to(device=device, dtype=dtype).to(memory_format=torch.channels_last).eval()
                     for k, v in nets.items()}

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto", precision: str = "bf16") -> "HorseZebraPipeline":
        dev = pick_device(device)
        nets, meta = load_checkpoint(folder)
        return cls(nets, dev, compute_dtype(dev, precision), meta)

    def prepare(self, image, max_side: int = MAX_SIDE) -> tuple[torch.Tensor, str]:
        """Any image -> [1, 3, H, W] in [-1, 1] with H, W multiples of 4 and the long side at most
        max_side (aspect ratio kept), plus a note on any resizing. Raises ImageError."""
        im = open_image(image)
        if min(im.size) < MIN_SIDE:
            raise ImageError(f"the image is too small ({im.width}x{im.height}); use at least {MIN_SIDE} px a side")
        note = ""
        w, h = im.size
        scale = min(1.0, max_side / max(w, h))
        nw, nh = max(4, int(w * scale) // 4 * 4), max(4, int(h * scale) // 4 * 4)
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), Image.BICUBIC if scale == 1.0 else Image.LANCZOS)
            if scale < 1.0:
                note = f"downscaled from {w}x{h} to {nw}x{nh}"
        return pil_to_tensor(im)[None] * 2 - 1, note

    @torch.inference_mode()
    def run(self, x: torch.Tensor, direction: str = "horse → zebra") -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, 3, H, W] in [-1, 1] -> (translated, reconstructed), float32 on the CPU."""
        forward, backward = (self.nets[k] for k in DIRECTIONS[direction])
        x = x.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        y = forward(x)
        return y.float().cpu(), backward(y).float().cpu()

    @torch.inference_mode()
    def identity(self, x: torch.Tensor, direction: str = "horse → zebra") -> torch.Tensor:
        """The reverse generator on x (x is already in its output domain): what the identity loss
        trains to leave alone. x [B, 3, H, W] in [-1, 1] -> same shape, float32 on the CPU."""
        backward = self.nets[DIRECTIONS[direction][1]]
        return backward(x.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)).float().cpu()

    def __call__(self, image, direction: str = "horse → zebra", max_side: int = MAX_SIDE) -> Translation:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {list(DIRECTIONS)}")
        x, note = self.prepare(image, max_side)
        y, rec = self.run(x, direction)
        same = self.identity(x, direction)
        change = (y - x).abs().mean(1, keepdim=True) / 2  # share of the range, per pixel
        diff = (change * 4).clamp(0, 1) * 2 - 1  # shown 4x brighter: white = a quarter of the range or more
        return Translation(tensor_to_pil(x[0]), tensor_to_pil(y[0]), tensor_to_pil(rec[0]),
                           tensor_to_pil(diff[0]).convert("RGB"), tensor_to_pil(same[0]), note,
                           _psnr(rec, x), _psnr(same, x), float(change.mean()),
                           float((change > CHANGED).float().mean()))


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of one image in [-1, 1] against another (range 2: the same figure as on [0, 1])."""
    return float(psnr(a.clamp(-1, 1), b.clamp(-1, 1), data_range=2.0).mean())


def load(name: str = "horse2zebra", precision: str = "bf16") -> HorseZebraPipeline:
    folder = get_spec(name).checkpoint_dir
    return CACHE.get(folder, lambda f: HorseZebraPipeline.from_checkpoint(f, precision=precision), key=precision)


def has_checkpoint(name: str = "horse2zebra") -> bool:
    return is_checkpoint(get_spec(name).checkpoint_dir)


def examples() -> dict[str, Image.Image]:
    """Example scenes painted in code: name -> RGB image."""
    from ..data.scenes import examples as painted

    return painted()
