"""Horse <-> zebra with the two CycleGAN generators: translation, the cycle back, the difference."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..checkpoint import is_checkpoint, load_checkpoint, read_config
from ..data.images import ImageError, open_image, pil_to_tensor, tensor_to_pil  # noqa: F401 (ImageError for tabs)
from ..device import compute_dtype, pick_device
from ..metrics.pixels import psnr
from ..registry import get_spec
from .base import CACHE, NotTrainedError
from .critic import Verdict, realness, verdict

MIN_SIDE = 32
MAX_SIDE = 512  # the long side photos are translated at (trained on 128 px crops)
DIRECTIONS = {"horse → zebra": ("G_A", "G_B"), "zebra → horse": ("G_B", "G_A")}
# Which discriminator judges which domain (CycleGAN's naming: D_A judges G_A's outputs, i.e. zebras).
CRITICS = {"zebra": "D_A", "horse": "D_B"}
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

    @property
    def has_critics(self) -> bool:
        return all(name in self.nets for name in CRITICS.values())

    @torch.inference_mode()
    def judge(self, x: torch.Tensor, domain: str) -> np.ndarray:
        """How real a picture x [1, 3, H, W] in [-1, 1] looks as a `domain` ("horse" or "zebra")
        photo, per patch: realness [h, w] in [0, 1] (LSGAN outputs, clipped; about H/8 x W/8).
        Raises NotTrainedError for a checkpoint that kept no discriminators."""
        if domain not in CRITICS:
            raise ValueError(f"domain must be one of {list(CRITICS)}")
        if CRITICS[domain] not in self.nets:
            raise NotTrainedError("this checkpoint kept no discriminators")
        D = self.nets[CRITICS[domain]]
        return realness(D(x.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)), "lsgan")

    def verdicts(self, image, direction: str = "horse → zebra", max_side: int = MAX_SIDE) -> tuple[Verdict, Verdict]:
        """The discriminators on a photo and its translation: the input judged as a photo of its own
        domain, the translation (made here again: the same pixels as `__call__`'s) as one of the
        target domain -> (verdict on the input, verdict on the output), each with the picture under
        its per-patch verdicts. Raises NotTrainedError without discriminators, ImageError /
        ValueError for bad input."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {list(DIRECTIONS)}")
        source, target = direction.split(" → ")
        if not self.has_critics:
            raise NotTrainedError("this checkpoint kept no discriminators")
        x, _ = self.prepare(image, max_side)
        y, _ = self.run(x, direction)
        return (verdict(tensor_to_pil(x[0]), self.judge(x, source), f"as a {source}:"),
                verdict(tensor_to_pil(y[0]), self.judge(y, target), f"as a {target}:"))

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


def has_critics(name: str = "horse2zebra") -> bool:
    """True when the shipped checkpoint kept both discriminators (read from config.json, no loading)."""
    folder = get_spec(name).checkpoint_dir
    return is_checkpoint(folder) and set(CRITICS.values()) <= set(read_config(folder).get("nets", {}))


def examples() -> dict[str, Image.Image]:
    """Example scenes painted in code: name -> RGB image."""
    from ..data.scenes import examples as painted

    return painted()
