"""Grey (or colour) photo -> colour photo, optionally guided by colour hints (Zhang et al. 2016/2017).

The net sees the photo's lightness at the model size (long side = the training size, aspect kept,
sides rounded to the net's multiple of 32) and predicts ab at half that; the ab is upsampled
(bilinear) onto the photo's own full-resolution L, so every edge and texture is the photo's and
only the colour comes from the model. Why not a square like Zhang's demo: a square squashes
non-square photos, and the net, fully convolutional and trained on square crops of unsquashed
photos, then sees distorted shapes; keeping the aspect costs nothing.

    pipe = load()                                   # or ColorizationPipeline.from_checkpoint(folder)
    result = pipe(image)                            # any PIL image / path / bytes / array
    result.image                                    # PIL RGB, the photo's size
    r, g, b = result.colour_at(x, y)                # the model's colour there (no model call)
    result = pipe(image, hints=[(x, y, (r, g, b))]) # one model call per update (the photo's L is cached)

Hint positions are pixels of the upright photo (EXIF orientation applied: what a browser shows),
at its uploaded size; only a hint colour's ab counts (its lightness is the photo's).
"""
from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..checkpoint import is_checkpoint, load_checkpoint, read_config
from ..data import colour
from ..data.images import ImageError, open_image, pil_to_tensor  # noqa: F401 (ImageError for tabs)
from ..device import compute_dtype, pick_device
from ..registry import get_spec
from .base import CACHE

MIN_SIDE = 16
MAX_SIDE = 2048  # larger photos are downscaled first (a note says so): the Lab conversions are per pixel
MAX_HINTS = 64
HINT_SIZE = 3  # px at the model's input size: the middle of the training hints' 1-5 px
CACHED_PHOTOS = 4  # prepared photos kept (a few visitors adding hints at once)
DEFAULT_TEMPERATURE = 0.38


Hint = tuple[float, float, tuple[int, int, int]]  # (x, y, (r, g, b)) in the upright photo's pixels


@dataclass
class Prepared:
    """A photo ready for the net: its full-resolution L and the model-size L."""

    L: torch.Tensor  # [1, 1, H, W] in [-1, 1] (H, W: the photo's, after any MAX_SIDE downscale)
    L_model: torch.Tensor  # [1, 1, h, w] in [-1, 1], h and w multiples of the net's
    scale: float  # output pixels per uploaded pixel (1 unless downscaled)
    note: str


@dataclass
class Colorization:
    image: Image.Image  # RGB at the photo's resolution (EXIF orientation applied)
    ab: torch.Tensor  # the model's ab [2, h/2, w/2], normalised (x colour.AB_SCALE = ab units)
    scale: float  # output pixels per uploaded pixel (hint and colour_at positions are uploaded pixels)
    note: str  # e.g. "downscaled from 4000x3000 to 2048x1536"
    hints_used: int = 0

    def colour_at(self, x: float, y: float) -> tuple[int, int, int]:
        """The output's mean colour around (x, y) (uploaded pixels) over about the area of one hint
        patch: what a colour picker should offer before the person changes it."""
        w, h = self.image.size
        cx, cy = _clamp(x * self.scale, w), _clamp(y * self.scale, h)
        r = max(0, round(HINT_SIZE / 2 * w / (2 * self.ab.shape[-1])))
        patch = np.asarray(self.image.crop((max(cx - r, 0), max(cy - r, 0), min(cx + r + 1, w), min(cy + r + 1, h))))
        return tuple(int(v) for v in patch.reshape(-1, 3).mean(0).round())


def _clamp(v: float, n: int) -> int:
    """A position to a pixel index in [0, n) (NaN -> 0)."""
    return min(max(int(v), 0), n - 1) if math.isfinite(v) else 0


class ColorizationPipeline:
    def __init__(self, net: torch.nn.Module, image_size: int, device: torch.device, dtype: torch.dtype = torch.float32,
                 meta: dict | None = None):
        self.device, self.dtype, self.image_size = device, dtype, image_size
        self.meta = meta or {}
        self.temperature = float(self.meta.get("temperature", DEFAULT_TEMPERATURE))
        self.G = net.to(device=device, dtype=dtype).to(memory_format=torch.channels_last).eval()
        self.multiple = net.config.multiple
        self._cache: OrderedDict[bytes, Prepared] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto", precision: str = "bf16",
                        image_size: int | None = None) -> "ColorizationPipeline":
        """`image_size`: the long side the net sees (default: its training size, see the module doc)."""
        dev = pick_device(device)
        nets, meta = load_checkpoint(folder)
        return cls(nets["G"], image_size or int(meta.get("image_size", 128)), dev, compute_dtype(dev, precision), meta)

    # ---- inputs --------------------------------------------------------------------------
    def model_size(self, width: int, height: int) -> tuple[int, int]:
        """(w, h) the net sees for a photo: long side image_size, aspect kept, multiples of the net's."""
        m, scale = self.multiple, self.image_size / max(width, height)
        return (max(m, round(width * scale / m) * m), max(m, round(height * scale / m) * m))

    def prepare(self, image) -> Prepared:
        """Any image -> Prepared (cached by content: adding hints to the same photo redoes no
        decoding or full-resolution conversion). Raises ImageError."""
        im = open_image(image)  # EXIF orientation applied; any mode to RGB (transparency on white)
        if min(im.size) < MIN_SIDE:
            raise ImageError(f"the image is too small ({im.width}x{im.height}); use at least {MIN_SIDE} px a side")
        key = hashlib.blake2b(im.tobytes(), digest_size=16, person=b"colorize").digest() + repr(im.size).encode()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        prepared = self._prepare(im)
        with self._lock:
            self._cache[key] = prepared
            while len(self._cache) > CACHED_PHOTOS:
                self._cache.popitem(last=False)
        return prepared

    def _prepare(self, im: Image.Image) -> Prepared:
        note, scale = "", 1.0
        if max(im.size) > MAX_SIDE:
            scale = MAX_SIDE / max(im.size)
            size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            note = f"downscaled from {im.width}x{im.height} to {size[0]}x{size[1]}"
            im = im.resize(size, Image.LANCZOS)
        L, _ = colour.rgb_to_lab(pil_to_tensor(im)[None])
        w, h = self.model_size(im.width, im.height)
        L_model = F.interpolate(L, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        return Prepared(L, L_model.clamp(-1, 1), scale, note)

    def hint_map(self, prepared: Prepared, hints: list[Hint]) -> torch.Tensor:
        """Hints (uploaded pixels, 8-bit colours) -> the net's hint map [1, 3, h, w]. Raises
        ValueError for more than MAX_HINTS hints, positions outside the photo or bad colours."""
        hints = list(hints or [])
        if len(hints) > MAX_HINTS:
            raise ValueError(f"at most {MAX_HINTS} colour hints")
        _, _, H, W = prepared.L.shape
        _, _, h, w = prepared.L_model.shape
        points = []
        for hint in hints:
            try:
                x0, y0, rgb = hint
                x, y = float(x0) * prepared.scale, float(y0) * prepared.scale
                rgb = tuple(int(c) for c in rgb)
            except (TypeError, ValueError, OverflowError):
                raise ValueError("a hint is (x, y, (r, g, b))") from None
            if not (np.isfinite([x, y]).all() and 0 <= x < W and 0 <= y < H):
                raise ValueError(f"hint position ({x0}, {y0}) is outside the photo")
            if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
                raise ValueError("hint colours are (r, g, b) with each value in 0..255")
            a, b = colour.ab_of_colour(rgb)
            # Pixel centres: uploaded pixel x covers [x, x + 1), so its centre maps to (x + 0.5) * w / W - 0.5.
            points.append(((y + 0.5) * h / H - 0.5, (x + 0.5) * w / W - 0.5, a, b))
        return colour.place_hints(points, h, w, HINT_SIZE)

    # ---- model ---------------------------------------------------------------------------
    @torch.inference_mode()
    def run(self, L: torch.Tensor, hints: torch.Tensor | None = None, temperature: float | None = None) -> torch.Tensor:
        """L [B, 1, h, w] in [-1, 1] (h, w multiples of the net's), hint map [B, 3, h, w] or None
        (no hints) -> ab [B, 2, h/2, w/2] normalised (float32, CPU)."""
        if hints is None:
            hints = torch.zeros(L.shape[0], colour.HINT_CHANNELS, *L.shape[-2:])
        x = torch.cat([L.float(), hints.float()], 1).to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        T = self.temperature if temperature is None else float(temperature)
        return self.G.decode(self.G(x), T).float().cpu()

    def guess(self, image, hints: list[Hint], x: float, y: float, temperature: float | None = None) -> tuple[int, int, int]:
        """The model's colour at (x, y) (uploaded pixels) given `hints`, as 8-bit (r, g, b): what a
        colour picker offers for a new hint there. Works at the model's size only (the photo's L is
        cached), so it costs one small model call and no full-resolution conversion."""
        prepared = self.prepare(image)
        ab = self.run(prepared.L_model, self.hint_map(prepared, hints), temperature)
        _, _, H, W = prepared.L.shape
        _, _, h, w = prepared.L_model.shape
        rgb = colour.lab_to_rgb(prepared.L_model, colour.upsample_ab(ab, h, w))[0]
        r = max(HINT_SIZE // 2, 0)
        cx, cy = _clamp(x * prepared.scale * w / W, w), _clamp(y * prepared.scale * h / H, h)
        patch = rgb[:, max(cy - r, 0):cy + r + 1, max(cx - r, 0):cx + r + 1]
        return tuple(int(v) for v in (patch.flatten(1).mean(1) * 255).round().clamp(0, 255))

    def gray(self, image) -> Image.Image:
        """What the net sees of `image`: its Lab lightness as a grey RGB picture at the photo's
        resolution (after any MAX_SIDE downscale)."""
        rgb = colour.gray_rgb(self.prepare(image).L)
        return Image.fromarray((rgb[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy(), "RGB")

    def __call__(self, image, hints: list[Hint] = (), temperature: float | None = None) -> Colorization:
        """Colorize `image` (any size or mode) following `hints` -> Colorization (PIL RGB at the
        photo's resolution). Raises ImageError / ValueError with a message fit for the user."""
        prepared = self.prepare(image)
        ab = self.run(prepared.L_model, self.hint_map(prepared, hints), temperature)
        _, _, H, W = prepared.L.shape
        rgb = colour.lab_to_rgb(prepared.L, colour.upsample_ab(ab, H, W))
        out = Image.fromarray((rgb[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy(), "RGB")
        return Colorization(out, ab[0], prepared.scale, prepared.note, len(hints or []))


def load(name: str = "colorization", precision: str = "bf16") -> ColorizationPipeline:
    """The cached pipeline for the registry model `name` (raises NotTrainedError if unshipped)."""
    folder = get_spec(name).checkpoint_dir
    return CACHE.get(folder, lambda f: ColorizationPipeline.from_checkpoint(f, precision=precision), key=precision)


def has_checkpoint(name: str = "colorization") -> bool:
    return is_checkpoint(get_spec(name).checkpoint_dir)


def predicts_distribution(name: str = "colorization") -> bool:
    """Whether the shipped model `name` predicts a colour distribution (the classification head,
    decoded with a temperature), read from its config without loading the weights."""
    try:
        return read_config(get_spec(name).checkpoint_dir)["meta"].get("loss") == "classification"
    except (OSError, ValueError, KeyError):
        return False


__all__ = ["Colorization", "ColorizationPipeline", "Hint", "ImageError", "MAX_HINTS", "MAX_SIDE", "has_checkpoint",
           "load", "predicts_distribution"]
