"""What a PatchGAN discriminator thinks of a picture, patch by patch, drawn over the picture.

A PatchGAN (Isola et al. 2017) does not give one verdict per image: every cell of its output map
judges one overlapping patch of the input (70 x 70 px for 3 layers). Here those verdicts become
"how real", 0..1, coloured over a grey copy of the picture (green: real, purple: fake, the colours
of the GAN playground; the surer D is, the stronger the colour; none where it cannot tell), with a
legend strip and the mean underneath.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from ..data.images import label_font

REAL, FAKE = (22, 163, 74), (126, 34, 206)  # core/playground/render.py uses the same pair
ALPHA = 0.75  # how much of the verdict colour covers the picture where D is sure
LEGEND_H = 26  # px under the picture


@dataclass
class Verdict:
    """A discriminator's per-patch verdict on one picture: `realness` [h, w] in [0, 1] (1 = judged
    real), and the picture with it drawn over (PIL RGB, legend included)."""

    realness: np.ndarray
    overlay: Image.Image

    @property
    def mean(self) -> float:
        return float(self.realness.mean())

    @property
    def real_share(self) -> float:
        """Share of patches judged real (realness above 0.5)."""
        return float((self.realness > 0.5).mean())


def realness(logits: torch.Tensor, loss: str) -> np.ndarray:
    """D's raw output [1, 1, h, w] -> "how real" [h, w] in [0, 1]. loss "bce": D was trained with
    binary cross-entropy on logits (pix2pix): the sigmoid is its probability of real. "lsgan": D was
    trained to output 1 for real and 0 for fake (CycleGAN's least squares): its output, clipped."""
    x = logits.detach().float().cpu()[0, 0]
    if loss == "bce":
        x = torch.sigmoid(x)
    elif loss != "lsgan":
        raise ValueError(f"loss must be 'bce' or 'lsgan', not {loss!r}")
    return x.clamp(0, 1).numpy()


def overlay(picture: Image.Image, real: np.ndarray, caption: str = "") -> Image.Image:
    """`picture` (PIL, any size) with the verdicts `real` [h, w] in [0, 1] drawn over it: each
    patch cell a block of colour (nearest neighbour: the cells are what D judged), over a grey copy
    so the colour reads; a legend strip with `caption` and the mean under it."""
    w, h = picture.size
    grey = np.asarray(picture.convert("L").convert("RGB"), dtype=np.float32)
    cells = torch.from_numpy(np.ascontiguousarray(real, dtype=np.float32))[None, None]
    t = F.interpolate(cells, size=(h, w), mode="nearest")[0, 0].numpy()[..., None]
    mixed = grey + _tint(t) * (_colour(t) - grey)
    out = Image.new("RGB", (w, h + LEGEND_H), "white")
    out.paste(Image.fromarray(mixed.round().clip(0, 255).astype(np.uint8), "RGB"), (0, 0))
    _legend(out, h, float(real.mean()), caption)
    return out


def _colour(t: np.ndarray) -> np.ndarray:
    """Realness [..., 1] -> the verdict's colour [..., 3]: green above 0.5, purple below."""
    return np.where(t > 0.5, np.array(REAL, np.float32), np.array(FAKE, np.float32))


def _tint(t: np.ndarray) -> np.ndarray:
    """How much of the verdict's colour covers the picture: none where D is unsure (0.5), ALPHA
    where it is sure (0 or 1), so the colour says both which way and how sure."""
    return ALPHA * np.abs(2 * t - 1)


def _legend(im: Image.Image, top: int, mean: float, caption: str) -> None:
    draw, w = ImageDraw.Draw(im), im.width
    bar_w = max(40, min(120, w // 3))
    ramp = np.linspace(0, 1, bar_w, dtype=np.float32)[:, None]
    white = np.full((bar_w, 3), 255, np.float32)
    bar = (white + _tint(ramp) * (_colour(ramp) - white)).round().astype(np.uint8)
    im.paste(Image.fromarray(np.repeat(bar[None], 8, 0), "RGB"), (4, top + 4))
    font = label_font(12)
    draw.text((4, top + 13), "fake", fill=FAKE, font=font)
    draw.text((4 + bar_w - 22, top + 13), "real", fill=REAL, font=font)
    text = f"{caption}  mean {mean:.2f}".strip()
    draw.text((bar_w + 12, top + 6), text, fill=(40, 40, 40), font=font)


def verdict(picture: Image.Image, real: np.ndarray, caption: str = "") -> Verdict:
    """A Verdict: the realness map `real` [h, w] in [0, 1] and `picture` with it drawn over."""
    return Verdict(real, overlay(picture, real, caption))
