"""What the training loop needs from a task: nets, a data set, one step, samples, state."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ...device import compute_dtype
from ..config import TaskParams, TrainConfig, knob


@dataclass(frozen=True)
class GANParams(TaskParams):
    """Learning rates of a generator and a discriminator (pix2pix, CycleGAN, DCGAN)."""

    lr_G: float = knob(2e-4, 1e-7, 1e-1, help="generator learning rate (Adam)")
    lr_D: float = knob(2e-4, 1e-7, 1e-1, help="discriminator learning rate (Adam)")


class Task:
    """Base class: subclasses build `self.nets` and `self.opts` and implement the step.

    A task declares `Params` (its knobs: loss weights, learning rates, options; the admin form
    and `--set` read them), `live_metrics` (what `quick_eval` reports for the live view) and its
    data (`make_dataset`). Its knobs arrive as `self.params`."""

    Params: type[TaskParams] = TaskParams
    live_metrics: tuple[str, ...] = ()
    supports_distributed = False  # True where `distribute` wraps the step's nets for DDP

    # channels_last suits convs + batch norm under bf16; tasks whose nets normalise per instance
    # override it (see CycleGANTask).
    memory_format = torch.channels_last

    def __init__(self, spec, config: TrainConfig, device: torch.device):
        self.spec, self.config, self.device = spec, config, device
        self.amp_dtype = compute_dtype(device, config.precision)  # resolved once: autocast(self.device, self.amp_dtype)
        self.params = config.task if config.task is not None else self.Params.from_dict(spec.task_params)
        if not isinstance(self.params, self.Params):
            raise TypeError(f"{type(self).__name__} takes {self.Params.__name__}, not {type(self.params).__name__}")
        self.nets: dict[str, nn.Module] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}

    # --- to implement -------------------------------------------------------------------
    def distribute(self, info) -> None:
        """Wrap the nets used in the step for DistributedDataParallel (no-op when alone)."""
        if info.enabled:
            raise ValueError(f"the {self.spec.task} task trains in one process only (multi-process training: pix2pix)")

    def eval_dataset(self, train_root) -> Dataset:
        """Un-augmented data for sample grids and quick evals: the registry's validation folder
        when the run uses the registry's data, else the training folder."""
        val = self.spec.data.val
        use_val = val is not None and Path(val).exists() and not self.config.data_root
        return self.make_dataset(val if use_val else train_root, augment=False)

    def quick_eval(self, batch: dict[str, torch.Tensor], make_metrics) -> dict[str, float]:
        """A cheap figure for the live view on a fixed batch (e.g. FD_eff); {} if none.
        make_metrics() returns a fresh DistributionMetrics (EfficientNet loaded on first call)."""
        return {}

    def make_dataset(self, root, augment: bool) -> Dataset:
        raise NotImplementedError

    def checkpoint_meta(self) -> dict[str, Any]:
        """What the pipelines need besides the nets (e.g. label names), saved in config.json."""
        return {}

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One optimisation step on a batch; returns the loss terms as floats."""
        raise NotImplementedError

    @torch.no_grad()
    def sample_grid(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """A picture of the current model on a fixed batch: [3, H, W] in [0, 1]."""
        raise NotImplementedError

    def timelapse_inputs(self) -> "TimelapseInputs | None":
        """The fixed inputs of this task's time-lapse frames, made in code (never dataset images:
        frames are committed), or None: no frame (a task without an image output, or inputs that
        cannot be made here). Called once per run, on the main process."""
        return None

    @torch.no_grad()
    def timelapse_frame(self, inputs: "TimelapseInputs") -> torch.Tensor:
        """The current model's own outputs on `inputs`, in eval mode (each net's mode restored
        after): one row [3, H, W] in [0, 1] (`timelapse_row`)."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------
    def shipped_nets(self) -> dict[str, nn.Module]:
        return {name: self.nets[name] for name in self.spec.shipped}

    def adam(self, params, lr: float) -> torch.optim.Optimizer:
        # Fused Adam: faster for wide nets on the CPU and on CUDA.
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(params, lr=lr, betas=(self.config.beta1, self.config.beta2), fused=fused)

    def lr_factor(self, step: int) -> float:
        """1 until decay_from * steps, then linear decay to 0 at the last step (pix2pix/CycleGAN)."""
        total = self.config.steps
        start = int(self.config.decay_from * total)
        if step <= start or total <= start:
            return 1.0
        return max(0.0, 1.0 - (step - start) / (total - start + 1))

    def learning_rates(self) -> dict[str, float]:
        """Base learning rate per optimiser in `self.opts` (before the decay)."""
        return {"G": self.params.lr_G, "D": self.params.lr_D}

    def set_lr(self, step: int) -> None:
        factor = self.lr_factor(step)
        base = self.learning_rates()
        for name, opt in self.opts.items():
            for group in opt.param_groups:  # a group may run at a fraction of its optimiser's rate
                group["lr"] = base[name] * factor * group.get("lr_scale", 1.0)

    def to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
                if v.dim() == 4 else v.to(self.device) for k, v in batch.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"nets": {k: v.state_dict() for k, v in self.nets.items()},
                "opts": {k: v.state_dict() for k, v in self.opts.items()}}

    def warm_start(self, states: dict[str, dict[str, Any]]) -> list[str]:
        """Copy the weights of same-named nets (state dicts: a shipped checkpoint's nets, or a run's
        state.pt) into this task's; returns the names copied. Optimiser state starts fresh."""
        copied = [name for name in states if name in self.nets]
        for name in copied:
            self.nets[name].load_state_dict(states[name])
        return copied

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, net in self.nets.items():
            net.load_state_dict(state["nets"][k])
        for k, opt in self.opts.items():
            opt.load_state_dict(state["opts"][k])


def set_requires_grad(net: nn.Module, flag: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(flag)


# ---- training time-lapse (issue 18, part 4) --------------------------------------------------------
# A frame shows ONLY the model's own outputs on fixed inputs this project's code makes (drawings, the
# faces GAN's faces, painted scenes, seeded latents): frames are committed with the checkpoint, and
# dataset images (or anything cut from them) never may be.
TIMELAPSE_MAX_TILES = 8
TIMELAPSE_MAX_TILE = 128  # px a side


@dataclass
class TimelapseInputs:
    """What a task's time-lapse frames are made from, once per run.

    tensors: the model inputs (task-specific keys), on the CPU; view: a picture of them
    [N, 3, s, s] in [0, 1] for the tab (None when there is nothing to show, e.g. latents);
    caption: one line saying what the frames show and where the inputs come from."""

    tensors: dict[str, torch.Tensor]
    caption: str
    view: torch.Tensor | None = None


def make_grid(tiles: torch.Tensor, **kwargs) -> torch.Tensor:
    """torchvision.utils.make_grid (tiles [N, C, H, W] -> one picture [C, H', W']), imported on first
    use: importing torchvision loads torch._dynamo and SymPy (2.5 s of CPU), which every `import
    core.train` (the CLI, the admin tab, the runner) would pay though only sample grids need it."""
    from torchvision.utils import make_grid as grid

    return grid(tiles, **kwargs)


def timelapse_row(tiles: torch.Tensor) -> torch.Tensor:
    """Tiles [N, 3, s, s] in [0, 1] (N <= TIMELAPSE_MAX_TILES) -> one row [3, t + 4, N * (t + 2) + 2]
    in [0, 1] on white, as the sample grids are laid out; t = min(s, TIMELAPSE_MAX_TILE): a model
    working at 256 px (the reference pix2pix) gets its tiles shrunk (area), so frames stay small."""
    n, _, h, w = tiles.shape
    if n > TIMELAPSE_MAX_TILES:
        raise ValueError(f"a time-lapse frame holds at most {TIMELAPSE_MAX_TILES} tiles; got {n}")
    tiles = tiles.float().cpu()
    if max(h, w) > TIMELAPSE_MAX_TILE:
        scale = TIMELAPSE_MAX_TILE / max(h, w)
        tiles = torch.nn.functional.interpolate(tiles, size=(max(1, round(h * scale)), max(1, round(w * scale))),
                                                mode="area")
    return make_grid(tiles.clamp(0, 1), nrow=n, padding=2, pad_value=1.0)


@contextmanager
def evaluating(*nets: nn.Module):
    """The nets in eval mode for the block, then every submodule's own train/eval flag back as it
    was: a frame made between two steps must not change how the next step trains."""
    flags = [(m, m.training) for net in nets for m in net.modules()]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.train(flag)


def seeded_latents(seeds, z_dim: int) -> torch.Tensor:
    """Latents [len(seeds), z_dim] ~ N(0, I), one per seed, as the faces tabs make them
    (core.pipelines.faces.z_from_seed), so a frame's face can be redone live."""
    return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds])


def resized_faces(faces: torch.Tensor, size: int) -> torch.Tensor:
    """Faces [N, 3, s, s] in [0, 1] -> [N, 3, size, size] in [0, 1] (bicubic with antialiasing)."""
    if faces.shape[-1] == size:
        return faces
    return torch.nn.functional.interpolate(faces, size=(size, size), mode="bicubic", antialias=True,
                                           align_corners=False).clamp(0, 1)


@torch.no_grad()
def gan_faces(seeds, size: int | None) -> torch.Tensor | None:
    """Faces [len(seeds), 3, size, size] in [0, 1] from the shipped faces GAN (fp32, eval mode),
    resized from its 64 px with antialiasing when `size` differs (None: its own size); None when
    checkpoints/faces is absent (no frame then). Made in code from seeds: no dataset pixel."""
    from ...checkpoint import is_checkpoint, load_checkpoint
    from ...registry import get_spec

    folder = get_spec("faces").checkpoint_dir
    if not is_checkpoint(folder):
        return None
    G = load_checkpoint(folder)[0]["G"].eval()
    faces = (G(seeded_latents(seeds, G.config.z_dim)).float() * 0.5 + 0.5).clamp(0, 1)
    return faces if size is None else resized_faces(faces, size)


# The attributes a classifier's frame shows (the faces tabs' own), with their short labels.
TIMELAPSE_ATTRIBUTES = {"Smiling": "smile", "Male": "male", "Eyeglasses": "glasses", "Young": "young",
                        "Blond_Hair": "blond"}


def attribute_tiles(faces: torch.Tensor, probs: torch.Tensor, labels: list[str], size: int = 128) -> torch.Tensor:
    """A classifier's verdicts as pictures, for the time-lapse of a model with no image output: faces
    [N, 3, s, s] in [0, 1], probs [N, K] in [0, 1] (K <= 5), labels: K short names -> tiles
    [N, 3, size, size] in [0, 1], each the face (upper part) over K labelled bars as long as the
    probability (blue where the verdict is yes, grey where no)."""
    from PIL import Image, ImageDraw

    from ...data.images import label_font, pil_to_tensor, tensor_to_pil

    n, k = probs.shape
    if k > 5 or len(labels) != k:
        raise ValueError(f"at most 5 attributes, one label each; got {k} and {len(labels)} labels")
    row = 10
    side = size - 4 - k * row  # the face's size: the rows of bars fill the rest
    face = resized_faces(faces.float().cpu(), side)
    font, bar0 = label_font(9), 44
    out = []
    for i in range(n):
        tile = Image.new("RGB", (size, size), "white")
        tile.paste(tensor_to_pil(face[i] * 2 - 1), ((size - side) // 2, 1))
        draw = ImageDraw.Draw(tile)
        for j, (label, p) in enumerate(zip(labels, probs[i].tolist())):
            y = side + 3 + j * row
            draw.text((2, y - 1), label, fill=(40, 40, 40), font=font)
            draw.rectangle((bar0, y + 1, size - 3, y + row - 2), fill=(225, 225, 225))
            width = round(p * (size - 3 - bar0))
            if width > 0:
                draw.rectangle((bar0, y + 1, bar0 + width - 1, y + row - 2),
                               fill=(40, 110, 220) if p >= 0.5 else (150, 150, 150))
        out.append(pil_to_tensor(tile))
    return torch.stack(out)


def face_verdict_inputs(names: list[str], image_size: int, what: str) -> "TimelapseInputs | None":
    """The fixed inputs of a face classifier's time-lapse: 8 faces of the shipped faces GAN (seeds
    0-7, made in code) at `image_size` in [-1, 1], and the columns of TIMELAPSE_ATTRIBUTES among
    `names`; None without that checkpoint or without any of those attributes."""
    native = gan_faces(range(TIMELAPSE_MAX_TILES), None)
    shown = [a for a in TIMELAPSE_ATTRIBUTES if a in names]
    if native is None or not shown:
        return None
    # Both sizes from the GAN's own pixels: the net's input and the view are each resampled once.
    faces, view = resized_faces(native, image_size), resized_faces(native, TIMELAPSE_MAX_TILE)
    return TimelapseInputs({"image": faces * 2 - 1, "faces": faces,
                            "columns": torch.tensor([names.index(a) for a in shown])},
                           view=view, caption=f"{what} on {len(faces)} faces of the shipped faces GAN (seeds 0-"
                                              f"{len(faces) - 1}): {', '.join(TIMELAPSE_ATTRIBUTES[a] for a in shown)}"
                                              f"; a bar is blue where the verdict is yes")


def face_verdict_frame(inputs: "TimelapseInputs", probs: torch.Tensor, names: list[str]) -> torch.Tensor:
    """One frame from a classifier's probabilities [8, len(names)] in [0, 1] on `face_verdict_inputs`
    (names: the classifier's attribute order, as given to it)."""
    columns = inputs.tensors["columns"].tolist()
    labels = [TIMELAPSE_ATTRIBUTES[names[c]] for c in columns]
    return timelapse_row(attribute_tiles(inputs.tensors["faces"], probs.float().cpu()[:, columns], labels))
