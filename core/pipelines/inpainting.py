"""Fill a hole in a face three ways, each composited so that every known pixel stays exactly as it was:
our inpainting net, the classical biharmonic baseline (scikit-image), and semantic inpainting with
the faces GAN's prior (core/pipelines/gan_prior.py).

    pipe = load()                                   # or InpaintingPipeline.from_checkpoint(folder)
    prepared = pipe.prepare(image, mask)            # raises ImageError / ValueError (empty or full mask)
    pipe.fill(prepared).image                       # ours: PIL RGB, the face square's size
    pipe.baseline(prepared).image                   # biharmonic
    pipe.prior(prepared, progress=cb).image         # the faces GAN's prior, cb(step, steps)

Geometry: a non-square photo is centre-cropped to its largest square (the faces are square; the
note says so) and the mask is cropped with it. The nets work at the model size s (64): the square
is resized to s and every model pixel the hole touches is a hole there. On a larger photo the s-px
fill is upsampled into the hole and blended: the difference between the photo and the upsampled
fill on the known pixels is carried smoothly into the hole (the membrane of Poisson blending,
core/pipelines/seams.py) and added to the fill, at the photo's size up to SEAM_SIDE px, so colour
and brightness run on across the edge instead of stepping. The GAN prior's fill is always blended
so (Yeh et al. 2017 use Poisson blending too); ours at the model size is not: the net was trained
to fit its own edge.
Masks: a picture with transparency (a painted layer) is a hole where it is opaque; otherwise where it
is light (> half); arrays likewise (bool: True = hole). A mask of another size is resized to the photo.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from ..checkpoint import is_checkpoint, load_checkpoint
from ..data.images import UNREADABLE, ImageError, open_image, peek, pil_to_tensor
from ..data.masks import CENTER_FRACTION, center_mask
from ..device import compute_dtype, pick_device
from ..registry import get_spec
from .faces import face_crop  # noqa: F401 - the tab cuts uploads with it
from .base import CACHE
from .gan_prior import Progress, prior_fill
from .seams import harmonic_fill

MIN_SIDE = 16
MAX_SIDE = 1024  # larger face squares are downscaled first (a note says so)
SEAM_SIDE = 256  # the blend and the baseline work at the photo's size up to this, then upsample
NO_MASK = "the mask is empty: paint over the part of the face to fill in"
FULL_MASK = "the mask covers the whole picture: leave some of the face visible to fill from"


@dataclass
class Prepared:
    """A face square and its hole, at full size and at the model's."""

    pixels: np.ndarray  # uint8 [S, S, 3]: the face square (after any crop or downscale), kept exactly
    hole: np.ndarray  # bool [S, S], True = hole
    small: torch.Tensor  # [1, 3, s, s] in [0, 1]: the square at the model size
    hole_small: torch.Tensor  # [1, 1, s, s] float 0/1: every model pixel the hole touches
    note: str

    @property
    def image(self) -> torch.Tensor:
        """[1, 3, S, S] in [0, 1]."""
        return torch.from_numpy(self.pixels).permute(2, 0, 1)[None].float() / 255.0


@dataclass
class Fill:
    image: Image.Image  # RGB, the face square's size: the known pixels as given, the hole filled
    small: torch.Tensor  # [1, 3, s, s] in [0, 1]: the method's fill at the model size (before compositing)
    seconds: float  # wall-clock time of the method, compositing included
    note: str = ""


def read_mask(mask, size: tuple[int, int]) -> np.ndarray:
    """Any mask (PIL image, path, bytes or array) -> bool [H, W] for an image of `size` (W, H),
    True = hole (see the module doc). Raises ValueError (ImageError for unreadable files)."""
    if mask is None:
        raise ValueError(NO_MASK)
    if isinstance(mask, (str, Path, bytes, bytearray, memoryview)):
        mask = peek(mask)
    if isinstance(mask, Image.Image):
        try:
            mask = ImageOps.exif_transpose(mask)
            alpha = mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info
            mask = np.asarray(mask.convert("RGBA" if alpha else "L"))
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            raise ImageError(UNREADABLE) from e
    a = np.asarray(mask)
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].min() < a[..., 3].max():
        values = a[..., 3]  # painted = opaque
    elif a.ndim == 3 and a.shape[2] in (1, 3, 4):
        values = a[..., :3].mean(axis=2)
    elif a.ndim == 2:
        values = a
    else:
        raise ValueError(f"a mask is a picture or a 2-D array, not an array of shape {a.shape}")
    if a.size == 0 or values.dtype.kind not in "biuf":
        raise ValueError("the mask holds no pixel values")
    values = np.nan_to_num(values.astype(np.float32))
    hole = values > (0.5 if values.max(initial=0) <= 1.0 else 127.5)
    if hole.shape != (size[1], size[0]):
        hole = np.asarray(Image.fromarray(hole).resize(size, Image.NEAREST))
    return hole


def center_square(width: int, height: int, fraction: float = CENTER_FRACTION) -> Image.Image:
    """The "centre square" mask for a photo of width x height: the centre square of the face square
    the pipeline cuts from it (L, 255 = hole)."""
    side = min(width, height)
    out = np.zeros((height, width), dtype=bool)
    top, left = (height - side) // 2, (width - side) // 2
    out[top:top + side, left:left + side] = center_mask(side, fraction)
    return Image.fromarray(out.astype(np.uint8) * 255, "L")


def _resize(x: torch.Tensor, side: int) -> torch.Tensor:
    """[B, C, h, w] in [0, 1] -> [B, C, side, side] (bicubic, antialiased when shrinking)."""
    if x.shape[-1] == side and x.shape[-2] == side:
        return x
    return F.interpolate(x, size=(side, side), mode="bicubic", antialias=side < x.shape[-1],
                         align_corners=False).clamp(0, 1)


def _touched(hole: torch.Tensor, side: int) -> torch.Tensor:
    """hole [B, 1, h, w] 0/1 -> [B, 1, side, side] 0/1: 1 wherever the hole covers any of the pixel."""
    return (F.interpolate(hole.float(), size=(side, side), mode="area") > 0).float()


def _biharmonic(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """scikit-image's biharmonic inpainting of image [1, C, h, w] (any values) over hole [1, 1, h, w]."""
    from skimage.restoration import inpaint_biharmonic  # 0.2 s to import: not at the app's start

    out = inpaint_biharmonic(image[0].permute(1, 2, 0).double().numpy(), hole[0, 0].numpy() > 0, channel_axis=-1)
    return torch.from_numpy(out).permute(2, 0, 1)[None].float()


def blend_fill(prepared: Prepared, fill: torch.Tensor) -> torch.Tensor:
    """A fill [1, 3, s, s] in [0, 1] made to run on from the known pixels: at L = min(S, SEAM_SIDE),
    the photo minus the upsampled fill on the known pixels, carried into the hole by
    seams.harmonic_fill, is added to the fill. Returns [1, 3, L, L] in [0, 1] (meaningful in the hole)."""
    side = min(prepared.pixels.shape[0], SEAM_SIDE)
    photo = _resize(prepared.image, side)
    hole = _touched(torch.from_numpy(prepared.hole)[None, None], side)[0, 0].numpy() > 0
    up = _resize(fill, side)
    residual = harmonic_fill((photo - up)[0].permute(1, 2, 0).numpy(), hole)
    return (up + torch.from_numpy(residual).permute(2, 0, 1)[None].float()).clamp(0, 1)


def composite(prepared: Prepared, fill: torch.Tensor) -> Image.Image:
    """The face square with only its hole replaced by fill [1, 3, h, w] in [0, 1] (resized to the
    square's size): every known pixel keeps its 8-bit value."""
    side = prepared.pixels.shape[0]
    fill = _resize(fill, side)
    values = (fill[0].permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy()
    out = prepared.pixels.copy()
    out[prepared.hole] = values[prepared.hole]
    return Image.fromarray(out, "RGB")


class InpaintingPipeline:
    def __init__(self, net: torch.nn.Module, image_size: int, device: torch.device, dtype: torch.dtype = torch.float32,
                 meta: dict | None = None, faces=None):
        """`faces`: a FacesPipeline for the GAN prior (default: the shipped one, loaded on first use)."""
        self.device, self.dtype, self.image_size, self.meta = device, dtype, image_size, meta or {}
        self.G = net.to(device=device, dtype=dtype).to(memory_format=torch.channels_last).eval()
        if image_size % net.config.multiple:
            raise ValueError(f"the model size {image_size} is not a multiple of {net.config.multiple}")
        self._faces = faces

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto", precision: str = "bf16") -> "InpaintingPipeline":
        dev = pick_device(device)
        nets, meta = load_checkpoint(folder)
        return cls(nets["G"], int(meta.get("image_size", 64)), dev, compute_dtype(dev, precision), meta)

    # ---- inputs --------------------------------------------------------------------------
    def prepare(self, image, mask) -> Prepared:
        """A photo (any size, mode or orientation) and its mask -> Prepared. Raises ImageError for
        bad pictures, ValueError for an empty mask or one over everything."""
        im = open_image(image)  # EXIF orientation applied; any mode to RGB
        if min(im.size) < MIN_SIDE:
            raise ImageError(f"the image is too small ({im.width}x{im.height}); use at least {MIN_SIDE} px a side")
        hole = read_mask(mask, im.size)
        notes = []
        side = min(im.size)
        if im.width != im.height:
            left, top = (im.width - side) // 2, (im.height - side) // 2
            notes.append(f"centre-cropped from {im.width}x{im.height} to {side}x{side}")
            im, hole = im.crop((left, top, left + side, top + side)), hole[top:top + side, left:left + side]
        if side > MAX_SIDE:
            notes.append(f"downscaled from {side}x{side} to {MAX_SIDE}x{MAX_SIDE}")
            im = im.resize((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
            hole = _touched(torch.from_numpy(hole)[None, None], MAX_SIDE)[0, 0].numpy() > 0
        if not hole.any():
            raise ValueError(NO_MASK)
        pixels = np.asarray(im, dtype=np.uint8).copy()
        small = _resize(pil_to_tensor(im)[None], self.image_size)
        hole_small = _touched(torch.from_numpy(hole)[None, None], self.image_size)
        if hole.all() or hole_small.all():
            raise ValueError(FULL_MASK)
        return Prepared(pixels, hole, small, hole_small, "; ".join(notes))

    # ---- methods -------------------------------------------------------------------------
    @torch.inference_mode()
    def run(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The net: image [B, 3, s, s] in [0, 1], hole [B, 1, s, s] 0/1 -> its output [B, 3, s, s] in
        [0, 1] (float32, CPU; known pixels not yet put back)."""
        x = torch.cat([(image * 2 - 1) * (1 - hole), hole], 1)
        out = self.G(x.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last))
        return (out.float().cpu() * 0.5 + 0.5).clamp(0, 1)

    def _finish(self, prepared: Prepared, fill: torch.Tensor, blend: bool, t0: float) -> Fill:
        image = composite(prepared, blend_fill(prepared, fill) if blend else fill)
        return Fill(image, fill, time.perf_counter() - t0, prepared.note)

    def fill(self, prepared: Prepared) -> Fill:
        """Ours: the net's fill; blended when the square is not the model size."""
        t0 = time.perf_counter()
        out = self.run(prepared.small, prepared.hole_small)
        return self._finish(prepared, out, prepared.pixels.shape[0] != self.image_size, t0)

    def baseline(self, prepared: Prepared) -> Fill:
        """Biharmonic inpainting (scikit-image) at the photo's size up to SEAM_SIDE px."""
        t0 = time.perf_counter()
        side = min(prepared.pixels.shape[0], SEAM_SIDE)
        hole = _touched(torch.from_numpy(prepared.hole)[None, None], side)
        out = _biharmonic(_resize(prepared.image, side), hole).clamp(0, 1)
        image = composite(prepared, out)
        return Fill(image, _resize(out, self.image_size), time.perf_counter() - t0, prepared.note)

    def prior(self, prepared: Prepared, progress: Progress | None = None, **options) -> Fill:
        """The faces GAN's closest face to the known pixels (gan_prior.prior_fill; options: steps,
        restarts, lr, seed), always blended. Raises NotTrainedError without the faces GAN."""
        return self.prior_batch([prepared], progress, **options)[0]

    def prior_batch(self, prepared: list[Prepared], progress: Progress | None = None, **options) -> list[Fill]:
        """prior() for several faces in one optimisation (the eval); seconds are per face."""
        t0 = time.perf_counter()
        faces = self.faces
        out = prior_fill(faces.G, faces.z_dim, torch.cat([p.small for p in prepared]),
                         torch.cat([p.hole_small for p in prepared]), dtype=self.dtype, progress=progress, **options)
        fills = [self._finish(p, out[i:i + 1], True, t0) for i, p in enumerate(prepared)]
        per_face = (time.perf_counter() - t0) / len(fills)
        for f in fills:
            f.seconds = per_face
        return fills

    @property
    def faces(self):
        if self._faces is None:
            from . import faces

            self._faces = faces.load()
        return self._faces

    def __call__(self, image, mask) -> Fill:
        """Ours on `image` with `mask` (see prepare)."""
        return self.fill(self.prepare(image, mask))


def load(name: str = "inpainting", precision: str = "bf16") -> InpaintingPipeline:
    """The cached pipeline for the registry model `name` (raises NotTrainedError if unshipped)."""
    folder = get_spec(name).checkpoint_dir
    return CACHE.get(folder, lambda f: InpaintingPipeline.from_checkpoint(f, precision=precision), key=precision)


def has_checkpoint(name: str = "inpainting") -> bool:
    return is_checkpoint(get_spec(name).checkpoint_dir)


__all__ = ["FULL_MASK", "Fill", "ImageError", "InpaintingPipeline", "NO_MASK", "Prepared", "blend_fill",
           "center_mask", "center_square", "composite", "face_crop", "has_checkpoint", "load", "read_mask"]
