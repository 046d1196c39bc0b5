"""CycleGAN (Zhu et al. 2017): two generators, two PatchGANs, LSGAN + cycle + identity losses."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from ...data.images import pil_to_tensor
from ...data.scenes import paint_horse
from ...data.unpaired import UnpairedDataset, cyclegan_folders
from ...device import autocast
from ...nets import build_net
from ..config import knob
from .base import GANParams, Task, make_grid, set_requires_grad
from .base import TimelapseInputs, evaluating, timelapse_row


@dataclass(frozen=True)
class CycleGANParams(GANParams):
    lambda_cycle: float = knob(10.0, 0.0, 1e4, help="weight of the cycle-consistency terms")
    lambda_identity: float = knob(0.5, 0.0, 10.0, help="identity weight, as a fraction of lambda_cycle")
    d_warmup: int = knob(0, 0, 10_000_000, help="the first N steps train the Ds alone, against the Gs as the app "
                                                 "runs them (frozen): discriminators for finished generators")


class ImagePool:
    """A buffer of past fakes (Shrivastava et al. 2017): D sees a mix of old and new generator
    outputs, which damps oscillation. Returns, per image, the new fake or (p = 0.5, once full)
    a stored one that the new fake replaces."""

    def __init__(self, size: int = 50):
        self.size, self.images = size, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for img in images.detach():
            if len(self.images) < self.size:
                self.images.append(img)
                out.append(img)
            elif random.random() < 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i])
                self.images[i] = img
            else:
                out.append(img)
        return torch.stack(out)


class CycleGANTask(Task):
    """A = source domain (horses), B = target domain (zebras). G_A: A -> B, G_B: B -> A;
    D_A judges domain B (real_B vs fake_B), D_B judges domain A, as in the official code."""

    # Instance norm and reflection padding copy channels_last tensors back and forth: NCHW trains
    # NCHW trains faster here (docs/DESIGN.md, CycleGAN).
    memory_format = torch.contiguous_format
    Params = CycleGANParams
    live_metrics = ("fd_eff",)

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        self.nets = {name: build_net(spec.nets[name]).to(device).to(memory_format=self.memory_format)
                     for name in ("G_A", "G_B", "D_A", "D_B")}
        self.opts = {"G": self.adam(list(self.nets["G_A"].parameters()) + list(self.nets["G_B"].parameters()),
                                    self.params.lr_G),
                     "D": self.adam(list(self.nets["D_A"].parameters()) + list(self.nets["D_B"].parameters()),
                                    self.params.lr_D)}
        self.pool_A, self.pool_B = ImagePool(), ImagePool()

    def make_dataset(self, root, augment: bool, split: str = "train") -> UnpairedDataset:
        if root is not None:
            roots_A, roots_B = cyclegan_folders(Path(root), "train" if split != "val" else "test")
            split = "all"
        else:
            roots_A, roots_B = self.spec.data.options["A"], self.spec.data.options["B"]
        return UnpairedDataset(roots_A, roots_B, crop_size=self.config.image_size, augment=augment, split=split,
                               holdout=self.spec.data.options.get("holdout", 0.1))

    def eval_dataset(self, train_root) -> UnpairedDataset:
        if train_root is not None and not (Path(train_root) / "testA").is_dir():
            return self.make_dataset(train_root, augment=False)
        return self.make_dataset(train_root, augment=False, split="val")

    @staticmethod
    def _lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
        pred = pred.float()
        return F.mse_loss(pred, torch.ones_like(pred) if real else torch.zeros_like(pred))

    def train_step(self, batch, step):
        if step <= self.params.d_warmup:
            return self._Ds_alone(batch, step)
        n = self.nets
        for net in n.values():
            net.train()
        batch = self.to_device(batch)
        real_A, real_B = batch["A"], batch["B"]
        p = self.params
        self.set_lr(step)

        # Generators: fool both Ds, reconstruct through the cycle, leave the target domain alone.
        set_requires_grad(n["D_A"], False)
        set_requires_grad(n["D_B"], False)
        self.opts["G"].zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            fake_B, fake_A = n["G_A"](real_A), n["G_B"](real_B)
            rec_A, rec_B = n["G_B"](fake_B), n["G_A"](fake_A)
            loss_G_A = self._lsgan(n["D_A"](fake_B), True)
            loss_G_B = self._lsgan(n["D_B"](fake_A), True)
            loss_cycle_A = F.l1_loss(rec_A.float(), real_A.float()) * p.lambda_cycle
            loss_cycle_B = F.l1_loss(rec_B.float(), real_B.float()) * p.lambda_cycle
            loss_idt_A = loss_idt_B = torch.zeros((), device=self.device)
            if p.lambda_identity > 0:
                w = p.lambda_cycle * p.lambda_identity
                loss_idt_A = F.l1_loss(n["G_A"](real_B).float(), real_B.float()) * w
                loss_idt_B = F.l1_loss(n["G_B"](real_A).float(), real_A.float()) * w
            loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        loss_G.backward()
        self.opts["G"].step()

        losses_D = self._D_step(real_A, real_B, fake_B, fake_A)
        return {"loss_G_A_gan": loss_G_A.item(), "loss_G_B_gan": loss_G_B.item(),
                "loss_cycle_A": loss_cycle_A.item(), "loss_cycle_B": loss_cycle_B.item(),
                "loss_idt_A": loss_idt_A.item(), "loss_idt_B": loss_idt_B.item(), **losses_D}

    def _D_step(self, real_A, real_B, fake_B, fake_A) -> dict[str, float]:
        """Discriminators: real -> 1, (pooled) fake -> 0, halved."""
        n = self.nets
        set_requires_grad(n["D_A"], True)
        set_requires_grad(n["D_B"], True)
        self.opts["D"].zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            pooled_B, pooled_A = self.pool_B.query(fake_B), self.pool_A.query(fake_A)
            loss_D_A = 0.5 * (self._lsgan(n["D_A"](real_B), True) + self._lsgan(n["D_A"](pooled_B), False))
            loss_D_B = 0.5 * (self._lsgan(n["D_B"](real_A), True) + self._lsgan(n["D_B"](pooled_A), False))
        (loss_D_A + loss_D_B).backward()
        self.opts["D"].step()
        return {"loss_D_A": loss_D_A.item(), "loss_D_B": loss_D_B.item()}

    def _Ds_alone(self, batch, step) -> dict[str, float]:
        """A step of both Ds against the Gs as the app runs them (eval mode, frozen): how
        discriminators are had for generators whose own were not kept."""
        n = self.nets
        for name in ("G_A", "G_B"):
            n[name].eval()
        for name in ("D_A", "D_B"):
            n[name].train()
        batch = self.to_device(batch)
        real_A, real_B = batch["A"], batch["B"]
        self.set_lr(step)
        with torch.no_grad(), autocast(self.device, self.amp_dtype):
            fake_B, fake_A = n["G_A"](real_A), n["G_B"](real_B)
        return self._D_step(real_A, real_B, fake_B, fake_A)

    @torch.no_grad()
    def _translate(self, batch):
        n = self.nets
        for net in n.values():
            net.eval()
        batch = self.to_device(batch)
        real_A, real_B = batch["A"], batch["B"]
        with autocast(self.device, self.amp_dtype):
            fake_B, fake_A = n["G_A"](real_A), n["G_B"](real_B)
            rec_A, rec_B = n["G_B"](fake_B), n["G_A"](fake_A)
        return [t.float().cpu() for t in (real_A, fake_B, rec_A, real_B, fake_A, rec_B)]

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        real_A, fake_B, _, real_B, _, _ = self._translate(batch)
        metrics = make_metrics()
        metrics.add(real=real_B * 0.5 + 0.5, fake=(fake_B * 0.5 + 0.5).clamp(0, 1))
        return metrics.compute()

    @torch.no_grad()
    def sample_grid(self, batch):
        """Rows: real_A | fake_B | rec_A | real_B | fake_A | rec_B."""
        cols = self._translate(batch)
        tiles = [t for row in zip(*cols) for t in row]
        return make_grid(torch.stack(tiles) * 0.5 + 0.5, nrow=6, padding=2, pad_value=1.0).clamp(0, 1)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs:
        """Horse scenes painted in code (core/data/scenes.py, the tab's examples): a TOY input, a
        brown horse shape on grass under a sky, not a photo (no horse photo is this project's own)."""
        x = torch.stack([pil_to_tensor(im) for im in toy_horses(self.config.image_size)])
        return TimelapseInputs({"A": x * 2 - 1}, view=x,
                               caption=f"G_A (horse -> zebra) on {len(x)} toy horse scenes painted in code "
                                       f"(core/data/scenes.py; not photos)")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        """G_A's zebras of the painted horses, one row."""
        G = self.nets["G_A"]
        with evaluating(G), autocast(self.device, self.amp_dtype):
            fake_B = G(inputs.tensors["A"].to(self.device).contiguous(memory_format=self.memory_format)).float()
        return timelapse_row(fake_B * 0.5 + 0.5)


# Coats of the toy horses (bay, chestnut, grey, black, palomino, dun): seeded variants, every other one
# facing left.
TOY_COATS = ((120, 72, 40), (175, 95, 45), (170, 165, 160), (45, 38, 34), (215, 175, 105), (150, 120, 80))


def toy_horses(size: int) -> list[Image.Image]:
    """len(TOY_COATS) square RGB scenes of `size` px painted in code (paint_horse at twice the size
    and a little wider, so the whole horse fits, then downsampled as the pipeline shrinks a photo).
    A toy input: the project has no horse photo of its own, and dataset photos may never be in a
    committed frame."""
    out = []
    for i, coat in enumerate(TOY_COATS):
        painted = paint_horse((round(2.4 * size), 2 * size), coat=coat, seed=i)
        im = painted.resize((size, size), Image.LANCZOS)
        out.append(ImageOps.mirror(im) if i % 2 else im)
    return out
