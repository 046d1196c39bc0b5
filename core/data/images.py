"""Robust image decoding: any mode (RGBA, LA, P, I;16, F, CMYK), any size, clear errors."""
from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFont, ImageOps, UnidentifiedImageError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


class ImageError(ValueError):
    """A user-facing problem with an input image (message is safe to show in the UI)."""


def list_images(folder: Path) -> list[Path]:
    """All image files directly in `folder`, sorted by name (natural order for numbered files)."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")]
    return sorted(files, key=_natural_key)


def _natural_key(p: Path):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and float greyscale to 8-bit L, scaling by the actual value range."""
    a = np.asarray(im).astype(np.float64)
    if im.mode.startswith("I;16") or (a.max() > 255 if a.size else False):
        a = a / 65535.0 if a.max() > 255 else a / 255.0
    elif im.mode == "F":
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    else:
        a = a / 255.0
    return Image.fromarray((np.clip(a, 0, 1) * 255).round().astype(np.uint8), "L")


def to_rgb(im: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Any PIL image to RGB; transparency is composited on `background` (white by default,
    because a transparent drawing means "no ink")."""
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, background + (255,))
        return Image.alpha_composite(bg, im).convert("RGB")
    return im.convert("RGB")


UNREADABLE = ("could not read the image: the file is corrupt or not an image "
              "(PNG, JPEG, WebP, BMP or TIFF work)")


def _too_large(width: int, height: int) -> ImageError:
    return ImageError(f"image too large ({width}x{height}); the limit is {MAX_PIXELS // 1_000_000} megapixels")


def peek(source) -> Image.Image:
    """Open a path or bytes lazily (the header only, no pixels decoded) and check the declared size.

    Every image input calls this before anything decodes pixels, so a small file that declares a
    huge image (a decompression bomb) costs nothing. Raises ImageError with a reason."""
    try:
        im = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source))
    except Image.DecompressionBombError as e:
        raise ImageError(f"image too large: {e}") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError) as e:
        # No exception text: it carries server-side temp paths, which mean nothing to the user.
        raise ImageError(UNREADABLE) from e
    if im.width * im.height > MAX_PIXELS:
        raise _too_large(im.width, im.height)
    if min(im.size) < 1:
        raise ImageError("image is empty (0 pixels)")
    return im


def open_image(source) -> Image.Image:
    """Open a path, bytes, numpy array or PIL image as RGB, or raise ImageError with a reason."""
    try:
        if isinstance(source, Image.Image):
            im = source
        elif isinstance(source, np.ndarray):
            im = _from_array(source)
        else:
            im = peek(source)
        if im.width * im.height > MAX_PIXELS:
            raise _too_large(im.width, im.height)
        if min(im.size) < 1:
            raise ImageError("image is empty (0 pixels)")
        im.load()
        return to_rgb(im)
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f"image too large: {e}") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(UNREADABLE) from e


def _from_array(a: np.ndarray) -> Image.Image:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageError(f"unsupported image array shape {a.shape}")
    if a.dtype == np.uint16:
        a = (a / 257.0).round().astype(np.uint8)
    elif a.dtype.kind == "f":
        scale = 255.0 if a.max(initial=0) <= 1.0 else 1.0
        a = np.clip(a * scale, 0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def pil_to_tensor(im: Image.Image) -> torch.Tensor:
    """PIL RGB/L image -> float tensor [C, H, W] in [0, 1]."""
    a = np.asarray(im, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float() / 255.0


def tensor_to_pil(x: torch.Tensor) -> Image.Image:
    """Float tensor [C, H, W] in [-1, 1] -> PIL RGB (C=3) or L (C=1)."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    a = x.permute(1, 2, 0).numpy()
    return Image.fromarray(a[:, :, 0], "L") if a.shape[2] == 1 else Image.fromarray(a, "RGB")


@functools.lru_cache(maxsize=16)
def label_font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled FreeType font at `size` px: the same on every machine (figures, frames and
    overlays drawn by the project); the bitmap default where Pillow lacks it (< 10.1)."""
    try:
        return ImageFont.load_default(size)
    except (TypeError, OSError):
        return ImageFont.load_default()
