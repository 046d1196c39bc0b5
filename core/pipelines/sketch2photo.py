"""Sketch (or edge map, or photo) -> photo with the pix2pix generator."""
from __future__ import annotations

from pathlib import Path

import kornia
import numpy as np
import torch
from PIL import Image, ImageOps

from ..checkpoint import is_checkpoint, load_checkpoint, read_config
from ..data import colour, edges
from ..data.images import UNREADABLE, ImageError, open_image, peek, pil_to_tensor, tensor_to_pil
from ..data.sketches import all_examples
from ..device import compute_dtype, pick_device
from ..nets.unet import UNetGenerator, as_transposed
from ..registry import get_spec
from .base import CACHE, NotTrainedError, stoppable
from .critic import realness

MIN_SIDE = 16  # smaller inputs cannot hold a drawing worth translating


class Sketch2PhotoPipeline:
    """Wraps a U-Net generator; inputs are normalised exactly like the training edge maps."""

    def __init__(self, generator: torch.nn.Module, image_size: int, device: torch.device,
                 dtype: torch.dtype = torch.float32, meta: dict | None = None,
                 discriminator: torch.nn.Module | None = None):
        self.device, self.dtype, self.image_size = device, dtype, image_size
        self.meta = meta or {}
        # A nearest resize-conv U-Net (`sketch2photo_nearest`) is served as its exact transposed-conv twin: faster.
        # A bilinear one (the shipped sketch2photo) has no exact twin and runs as it is.
        if isinstance(generator, UNetGenerator) and generator.config.upsample == "resize":
            generator = as_transposed(generator)
        # Stoppable: the tab drops a drawing's translation when a newer drawing from the same page replaces it.
        self.G = stoppable(generator.to(device=device, dtype=dtype).to(memory_format=torch.channels_last).eval())
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
        return edges.sketch_to_input(self._drawing(image, mode), self.image_size, fit=fit)

    def _drawing(self, image, mode: str = "sketch") -> torch.Tensor:
        """`prepare` up to the edge map: [1, 3, H, W] in [0, 1], dark strokes on light paper."""
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
        return x

    def prepare_with_layer(self, image, layer, fit: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """A drawing (as for `prepare`, mode "sketch") and a colour layer of the same size (RGBA,
        transparent where no colour was painted: a PIL image, bytes or a path) -> (model input
        [1, 1, S, S], hints [1, 4, S, S]). The layer goes through the drawing's own centring and
        scaling (`edges.frame_box`), so a colour lands where it was painted on the drawing; a model
        pixel carries a hint when any painted pixel falls in it, with their mean colour. Raises
        ImageError / ValueError (a layer of another size or without transparency)."""
        drawing = open_image(image)
        rgba = open_layer(layer)
        if rgba.size != drawing.size:
            raise ValueError(f"the colour layer is {rgba.width}x{rgba.height} px but the drawing is "
                             f"{drawing.width}x{drawing.height}: they must be the same size")
        x = self._drawing(drawing, "sketch")
        if tuple(x.shape[-2:]) != (rgba.height, rgba.width):  # the drawing was thumbnailed: so is the layer
            rgba = rgba.convert("RGBa").resize((x.shape[-1], x.shape[-2]), Image.BOX).convert("RGBA")
        paint = torch.from_numpy(np.asarray(rgba, dtype=np.float32).copy() / 255.0).permute(2, 0, 1)[None]
        paint = torch.cat([paint[:, :3] * paint[:, 3:], paint[:, 3:]], 1)  # colour premultiplied by alpha
        ink = (edges.ink_from_rgb(x) > 0.5).float()  # as edges.sketch_to_input binarises it
        model_input = edges.sketch_to_input(x, self.image_size, fit=fit)
        box = edges.frame_box(ink) if fit else None
        framed = edges.in_frame(paint, box) if box is not None else edges.pad_square(paint)
        small = torch.nn.functional.interpolate(framed, size=(self.image_size,) * 2, mode="area")
        alpha = small[:, 3:]
        mask = (alpha > 0).float()
        rgb = (small[:, :3] / alpha.clamp(min=1e-6)).clamp(0, 1) * 2 - 1
        return model_input, torch.cat([rgb * mask, mask], 1)

    @property
    def hinted(self) -> bool:
        """True when the generator also takes colour hints (RGB + mask: the shipped sketch2photo)."""
        return self.G.config.in_channels == 1 + HINT_CHANNELS

    # ---- model ---------------------------------------------------------------------------
    @torch.inference_mode()
    def run(self, x: torch.Tensor, hints: torch.Tensor | None = None) -> torch.Tensor:
        """Model input [B, 1, S, S] in [-1, 1] (+ colour hints [B, 4, S, S]: RGB in [-1, 1] and a
        0/1 mask, zero where none; see `colour_hints`) -> photos [B, 3, S, S] in [-1, 1] (float32).
        A generator without hint inputs refuses hints; a hinted one without them colours alone."""
        if self.hinted:
            hints = torch.zeros(x.shape[0], HINT_CHANNELS, *x.shape[-2:]) if hints is None else hints
            x = torch.cat([x.float(), hints.float()], 1)
        elif hints is not None:
            raise ValueError("this model takes no colour hints")
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


HINT_CHANNELS = colour.RGB_HINT_CHANNELS  # R, G, B in [-1, 1] and a 0/1 mask, as pix2pix training samples them
BESIDE = 6  # px at 128: how far a wash reaches from the strokes of a drawing that encloses nothing


def colour_hints(x: torch.Tensor, rgb: tuple[int, int, int]) -> torch.Tensor:
    """"Make it this colour": model inputs x [B, 1, S, S] in [-1, 1] (dark strokes) and a colour
    (0-255) -> hints [B, 4, S, S]: the colour washed over what each drawing's outline encloses,
    strokes included (the net was trained on washes of the object's mean colour,
    core.data.colour.sample_washes); a drawing that encloses nothing gets a band along its strokes."""
    from ..data.sketches import outline_interior  # scipy: loaded on first use only

    strokes = x[:, 0] < 0
    inside = outline_interior(strokes)
    enclosed = (inside & ~strokes).flatten(1).sum(1) >= 25  # [B]: an outline with room inside
    region = inside
    if not enclosed.all():  # the band is for open scribbles only: most drawings skip its cost
        beside = _grow(strokes, max(1, round(BESIDE * x.shape[-1] / 128)))
        region = torch.where(enclosed[:, None, None], inside, beside)
    region = region.float()[:, None]
    colour = (torch.tensor(rgb, dtype=torch.float32) / 127.5 - 1).view(1, 3, 1, 1)
    return torch.cat([colour * region, region], 1)


def open_layer(source) -> Image.Image:
    """A colour layer (a path, bytes or a PIL image with transparency) as RGBA, or ImageError /
    ValueError with a reason (a layer without an alpha channel would paint the whole picture)."""
    im = source if isinstance(source, Image.Image) else peek(source)  # bombs refused from the header
    if not has_alpha(im):
        raise ValueError(f"the colour layer must have transparency (an RGBA PNG), not mode {im.mode}")
    try:
        im.load()
        return ImageOps.exif_transpose(im).convert("RGBA")
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(UNREADABLE) from e


def has_alpha(im: Image.Image) -> bool:
    """True when an (unloaded) image has transparency: its mode says so from the header."""
    return im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (im.mode == "P" and "transparency" in im.info)


def _grow(mask: torch.Tensor, px: int) -> torch.Tensor:
    """[B, H, W] bool, dilated by px (a square neighbourhood: a row pass, then a column pass)."""
    rows = torch.nn.functional.max_pool2d(mask[:, None].float(), (1, 2 * px + 1), 1, (0, px))
    return torch.nn.functional.max_pool2d(rows, (2 * px + 1, 1), 1, (px, 0))[:, 0] > 0


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


def takes_hints(name: str = "sketch2photo") -> bool:
    """True when the shipped generator takes colour hints (read from config.json, no loading)."""
    folder = get_spec(name).checkpoint_dir
    return is_checkpoint(folder) and read_config(folder)["nets"]["G"].in_channels == 1 + HINT_CHANNELS


def has_critic(name: str = "sketch2photo") -> bool:
    """True when the shipped checkpoint kept its discriminator (read from config.json, no loading)."""
    folder = get_spec(name).checkpoint_dir
    return is_checkpoint(folder) and "D" in read_config(folder).get("nets", {})


def examples(size: int = 512) -> dict[str, Image.Image]:
    """Example drawings made in code: name -> black-on-white RGB image [size x size]."""
    return all_examples(size)


__all__ = ["ImageError", "Sketch2PhotoPipeline", "colour_hints", "examples", "has_checkpoint", "has_critic", "load",
           "open_layer", "photo_to_edges", "takes_hints"]
