"""Generated faces (DCGAN): faces from seeds, walks between them, 2D latent maps, animated GIFs."""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from ..checkpoint import is_checkpoint, load_checkpoint
from ..data.faces import face_box
from ..data.images import ImageError, open_image, pil_to_tensor, tensor_to_pil
from ..device import compute_dtype, pick_device
from ..metrics.pixels import psnr as pixel_psnr
from ..registry import get_spec
from .base import CACHE

MAX_SEED = 2**31 - 1
MODES = ("slerp", "lerp")


def clean_seed(seed) -> int:
    """Anything a person can type into a number box -> a valid seed in [0, MAX_SEED]
    (None/NaN -> 0, negatives and huge values wrap)."""
    try:
        value = float(seed)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(value):
        return 0
    return int(abs(int(value))) % (MAX_SEED + 1)


def z_from_seed(seed, z_dim: int) -> torch.Tensor:
    """The latent vector of a seed: [z_dim] ~ N(0, I), the same on every machine."""
    gen = torch.Generator().manual_seed(clean_seed(seed))
    return torch.randn(z_dim, generator=gen)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Straight line: z0 [D], z1 [D], t scalar or [N] -> [D] or [N, D]."""
    t = torch.as_tensor(t, dtype=z0.dtype)
    return z0 + (z1 - z0) * (t[..., None] if t.dim() else t)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Great circle (White 2016): keeps the norm near that of Gaussian samples, whereas the
    midpoint of a straight line is ~30% shorter than either end (a blurrier, 'average' face)."""
    t = torch.as_tensor(t, dtype=z0.dtype)
    tt = t[..., None] if t.dim() else t
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(1e-8)
    omega = torch.arccos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
    if omega.abs() < 1e-4:  # (nearly) the same direction: a line is exact enough
        return lerp(z0, z1, t)
    s = torch.sin(omega)
    return (torch.sin((1 - tt) * omega) / s) * z0 + (torch.sin(tt * omega) / s) * z1


def on_shell(z: torch.Tensor) -> torch.Tensor:
    """Latents [..., D] -> the same directions at radius sqrt(D) (a zero vector stays zero).

    Nearly all of N(0, I)'s samples lie near that radius (10 +- 0.7 for D = 100), so it is where
    the generator was trained. Means of several latents fall well inside it (three: ~58 %) and
    sums like A - B + C of single faces well outside (~170 %); decoded there they give washed-out
    'average' or over-saturated faces (White 2016, 'Sampling generative networks', which also
    motivates slerp). Measured on the shipped faces GAN: docs/RESULTS.md."""
    return z * (z.shape[-1] ** 0.5 / z.norm(dim=-1, keepdim=True).clamp_min(1e-8))


def interpolate(z0: torch.Tensor, z1: torch.Tensor, t, mode: str = "slerp") -> torch.Tensor:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    return (slerp if mode == "slerp" else lerp)(z0, z1, t)


def map_grid(center: torch.Tensor, dir_x: torch.Tensor, dir_y: torch.Tensor, size: int,
             span: float) -> torch.Tensor:
    """A size x size grid of latents around `center` [D] along two directions [D] (each scaled to
    unit length, so `span` is in the latent's own units; N(0, I) has norm ~sqrt(D)). The y
    direction is first made orthogonal to the x direction (Gram-Schmidt): attribute directions are
    often strongly correlated (Smiling and Male: cos -0.76 in the shipped faces GAN), and along the
    raw pair one corner of the map moves about twice as far as the others, out of where the
    generator was trained (washed-out half-faces). Returns [size * size, D], row-major, top row =
    +dir_y, left column = -dir_x."""
    ux = dir_x / dir_x.norm().clamp_min(1e-8)
    rest = dir_y - (dir_y @ ux) * ux
    uy = rest / rest.norm() if rest.norm() > 1e-3 * dir_y.norm() else dir_y / dir_y.norm().clamp_min(1e-8)
    steps = torch.linspace(-span, span, size)
    rows = [center + ux * sx + uy * sy for sy in steps.flip(0) for sx in steps]
    return torch.stack(rows)


def orthogonal_directions(z_dim: int, seed) -> tuple[torch.Tensor, torch.Tensor]:
    """Two random orthonormal directions [z_dim] (seeded)."""
    gen = torch.Generator().manual_seed(clean_seed(seed) + 7)
    q, _ = torch.linalg.qr(torch.randn(z_dim, 2, generator=gen))
    return q[:, 0].contiguous(), q[:, 1].contiguous()


def face_crop(image: Image.Image) -> tuple[Image.Image, str]:
    """A photo -> (its face square, a note on the crop, "" for none). A square photo is taken whole (a
    face square already, e.g. one of the faces GAN's); another is cut as the faces models' training
    photos were (core.data.faces.face_box with the registry's crop: the nets then see a face at the
    scale they learnt) when that square fits in it, else to its centre square."""
    w, h = image.size
    if w == h:
        return image, ""
    options = get_spec("faces").data.options
    left, top, side = face_box(w, h, options["crop_fraction"], options["center_y"])
    if side > h or side < 1:  # a wide photo: the face square would stick out
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        note = f"centre-cropped from {w}x{h} to {side}x{side}"
    else:
        note = (f"cut to the face square from {w}x{h} ({side}x{side}: {options['crop_fraction']:.0%} of the width, "
                f"centred at {options['center_y']:.0%} of the height, as the faces models' photos)")
    return image.crop((left, top, left + side, top + side)), note


def face_tensor(image: Image.Image, size: int = 64) -> torch.Tensor:
    """A face square (PIL, any mode) -> [1, 3, size, size] in [-1, 1], shrunk with antialiasing as
    the training faces were."""
    im = image.convert("RGB")
    if im.size != (size, size):
        im = im.resize((size, size), Image.BICUBIC, reducing_gap=3.0)
    return pil_to_tensor(im)[None] * 2 - 1


MIN_FACE_SIDE = 16  # px: a smaller face square is refused (the nets see 64)


def photo_face(source, size: int = 64) -> tuple[torch.Tensor, Image.Image, str]:
    """An uploaded photo (path, bytes, array or PIL) -> (its face [1, 3, size, size] in [-1, 1], the
    face square as PIL RGB, a note on the crop or ""). Raises ImageError (a message to show) for
    what is not a usable picture (open_image's checks: unreadable, too many pixels, ...) or a face
    square under MIN_FACE_SIDE px."""
    square, note = face_crop(open_image(source))
    if square.width < MIN_FACE_SIDE:
        raise ImageError(f"the photo is too small ({square.width} px); use at least {MIN_FACE_SIDE} px a side")
    return face_tensor(square, size), square, note


INVERT_STEPS = 40  # latent optimisation after the encoder's guess (issue 16: "a short optimisation")
INVERT_LR = 0.05
# Weight of |u|^2 / D. Measured on 100 held-out photos (docs/RESULTS.md, "Your photo"): with 1e-3 the
# latent drifts out to |u| ~ 15 for +2.7 dB, and text edits then meet their target in 0.72 of cases
# (encoder alone: 0.83); with 0.1, +1.7 dB over the encoder and 0.84 of edits met.
INVERT_PRIOR = 0.1


class FacesPipeline:
    """A faces generator, fp32 by default: at 64 px it is milliseconds either way, and fp32
    keeps small latent moves (walks, noise grids) free of rounding jitter.

    The DCGAN decodes z ~ N(0, I) directly. Faces v2 (a VAE-GAN) also has an encoder E and its
    code Gaussian P: its latent here is P's whitened one (u ~ N(0, I), code = P(u)), so seeds,
    walks, the shell and the arithmetic mean the same for both, and `encode` gives a photo's u."""

    def __init__(self, generator: torch.nn.Module, device: torch.device, dtype: torch.dtype, meta: dict,
                 encoder: torch.nn.Module | None = None, prior: torch.nn.Module | None = None):
        self.device, self.dtype, self.meta = device, dtype, meta
        # channels_last: its transposed convolutions run ~25 % faster on CPU (fp32, 2 threads: 5.5 against
        # 7.3 ms a face), which the walk, the GIF and the first labelling of the arithmetic pool feel.
        self.G = generator.to(device=device, dtype=dtype, memory_format=torch.channels_last).eval()
        self.z_dim = generator.config.z_dim
        self.E = encoder.to(device=device, dtype=dtype).eval() if encoder is not None else None
        self.P = prior.to(device=device, dtype=torch.float32).eval() if prior is not None else None

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto", precision: str = "fp32") -> "FacesPipeline":
        dev = pick_device(device)
        nets, meta = load_checkpoint(folder)
        return cls(nets["G"], dev, compute_dtype(dev, precision), meta, nets.get("E"), nets.get("P"))

    @property
    def can_encode(self) -> bool:
        """True when the model has an encoder (a photo can be given a latent)."""
        return self.E is not None

    @torch.inference_mode()
    def encode(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Faces [N, 3, 64, 64] in [-1, 1] (cut as the training faces) -> latents [N, z_dim]
        (the code's mean, whitened by P), float32 on the CPU."""
        if self.E is None:
            raise ValueError("this faces model has no encoder")
        out = []
        for chunk in torch.as_tensor(images, dtype=torch.float32).split(batch_size):
            mu = self.E(chunk.to(self.device, self.dtype))[0].float()
            out.append((self.P.whiten(mu) if self.P is not None else mu).cpu())
        return torch.cat(out)

    def invert(self, face: torch.Tensor, steps: int = INVERT_STEPS,
               on_step: Callable[[int, int], None] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """A face [1, 3, 64, 64] in [-1, 1] -> (its latent u [z_dim], figures): the encoder's guess,
        then `steps` of Adam on |G(u) - face|_1 + INVERT_PRIOR |u|^2 / D (the prior term keeps u
        where walks and edits behave). figures: PSNR (dB) of the encoder's reconstruction and of
        the refined one. on_step(i, steps) reports progress. Needs an encoder (can_encode)."""
        face = torch.as_tensor(face, dtype=torch.float32).reshape(1, 3, *face.shape[-2:])
        u0 = self.encode(face)[0]
        target = face.to(self.device)
        figures = {"psnr_encoder": psnr(self.decode(u0), face)}
        u = u0.clone().to(self.device).requires_grad_(True)  # an ordinary tensor: encode ran in inference mode
        opt = torch.optim.Adam([u], lr=INVERT_LR)
        with torch.inference_mode(False), torch.enable_grad():
            for i in range(max(0, int(steps))):
                fake = self.G(self._codes(u[None])).float()
                loss = (fake - target).abs().mean() + INVERT_PRIOR * u.square().mean()
                # the gradient of u alone: G's weights are shared with every request, never given one
                (u.grad,) = torch.autograd.grad(loss, u)
                opt.step()
                if on_step is not None:
                    on_step(i + 1, steps)
        u = u.detach().float().cpu()
        figures["psnr_refined"] = psnr(self.decode(u), face)
        return u, figures

    def z(self, seed) -> torch.Tensor:
        return z_from_seed(seed, self.z_dim)

    def zs(self, seeds) -> torch.Tensor:
        """[N] seeds -> [N, z_dim]."""
        return torch.stack([self.z(s) for s in seeds])

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """z [N, z_dim] (or [z_dim]) -> images [N, 3, 64, 64] in [-1, 1], float32 on the CPU."""
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.dim() == 1:
            z = z[None]
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"latents must have {self.z_dim} values, got {z.shape[-1]}")
        z = torch.nan_to_num(z).clamp(-50, 50)  # absurd inputs give an odd face, never NaN pixels
        out = [self.G(self._codes(chunk)).float().cpu() for chunk in z.split(batch_size)]
        return torch.cat(out).clamp(-1, 1).contiguous()

    def _codes(self, z: torch.Tensor) -> torch.Tensor:
        """Latents [N, z_dim] (CPU, float32) -> G's input on its device and dtype."""
        z = z.to(self.device)
        return (self.P(z) if self.P is not None else z).to(self.dtype)

    def images(self, z: torch.Tensor, size: int = 192) -> list[Image.Image]:
        """Decoded faces as PIL images upscaled to size x size (the net makes 64 px)."""
        return [upscale(tensor_to_pil(x), size) for x in self.decode(z)]

    def walk(self, z0: torch.Tensor, z1: torch.Tensor, steps: int, mode: str = "slerp") -> torch.Tensor:
        """steps (>= 2) latents from z0 to z1 inclusive: [steps, z_dim]."""
        return interpolate(z0, z1, torch.linspace(0, 1, max(2, int(steps))), mode)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR (dB) of one face [1, 3, H, W] against another, both in [-1, 1] (core.metrics.pixels.psnr)."""
    return float(pixel_psnr(a, b, data_range=2.0).mean())


def upscale(im: Image.Image, size: int) -> Image.Image:
    return im if im.width == size else im.resize((size, size), Image.LANCZOS)


def strip(images: list[Image.Image], pad: int = 2) -> Image.Image:
    """Images side by side on a white background."""
    w, h = images[0].size
    out = Image.new("RGB", (len(images) * (w + pad) - pad, h), "white")
    for i, im in enumerate(images):
        out.paste(im, (i * (w + pad), 0))
    return out


def tile(images: list[Image.Image], columns: int, pad: int = 2) -> Image.Image:
    """Images in a grid of `columns` columns on a white background."""
    w, h = images[0].size
    rows = math.ceil(len(images) / columns)
    out = Image.new("RGB", (columns * (w + pad) - pad, rows * (h + pad) - pad), "white")
    for i, im in enumerate(images):
        out.paste(im, ((i % columns) * (w + pad), (i // columns) * (h + pad)))
    return out


def gif_bytes(frames: list[Image.Image], seconds: float = 2.0, boomerang: bool = True) -> bytes:
    """An animated GIF that loops forever (there and back when boomerang): frames -> bytes."""
    duration = max(20, int(1000 * seconds / max(1, len(frames))))
    # Each frame its own 255-colour palette, by fast octree: 0.6 ms a 160 px face against median cut's
    # 53 ms (a 24-frame walk's GIF: 2.67 s before, 0.05 s now), at 36.3 against 37.7 dB PSNR to the
    # frame; the way back reuses the way there's frames.
    pal = [f.convert("RGB").quantize(colors=255, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
           for f in frames]
    pal = pal + pal[-2:0:-1] if boomerang and len(pal) > 2 else pal
    buf = io.BytesIO()
    pal[0].save(buf, format="GIF", save_all=True, append_images=pal[1:], duration=duration, loop=0,
                optimize=False, disposal=2)
    return buf.getvalue()


def to_array(z: torch.Tensor) -> list[float]:
    """A latent for gr.State / JSON: [z_dim] -> list of floats."""
    return [float(v) for v in z.flatten()]


def from_array(values, z_dim: int) -> torch.Tensor | None:
    """Back from to_array; None when missing or malformed."""
    try:
        z = torch.tensor(np.asarray(values, dtype=np.float32))
    except (TypeError, ValueError):
        return None
    return z if z.shape == (z_dim,) and torch.isfinite(z).all() else None


def load(name: str = "faces", precision: str = "fp32") -> FacesPipeline:
    folder = get_spec(name).checkpoint_dir
    return CACHE.get(folder, lambda f: FacesPipeline.from_checkpoint(f, precision=precision), key=precision)


def has_checkpoint(name: str = "faces") -> bool:
    return is_checkpoint(get_spec(name).checkpoint_dir)
