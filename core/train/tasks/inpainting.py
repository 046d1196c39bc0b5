"""Inpainting: fill a hole in a face from its context (Pathak et al. 2016, "Context Encoders"), with
the discriminator of Yu et al. 2019 (SN-PatchGAN: spectral norm, hinge loss, the mask as a 4th
input channel, so it judges every part of a free-form completion).

G sees the masked face (hole pixels 0) and the mask and predicts a whole face; the completed image
keeps the known pixels and takes the hole from G's output:
    fake_B = real_B * (1 - mask) + G(real_A) * mask,   real_A = (real_B * (1 - mask), mask)
G's loss: lambda_hole * L1 in the hole + lambda_valid * L1 outside it (the composite throws those
pixels away; a small weight keeps G's output continuous across the hole's edge) + lambda_gan *
hinge loss of D on the completed image. Each L1 is the mean over its own pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...data.faces import FaceDataset
from ...data.masks import CENTER_FRACTION, MaskedFaceDataset, center_mask
from ...device import autocast
from ...metrics.masked import hole_psnr
from ...nets import build_net
from ..config import knob
from .base import GANParams, Task, make_grid, set_requires_grad
from .base import TIMELAPSE_MAX_TILES, TimelapseInputs, evaluating, gan_faces, timelapse_row


@dataclass(frozen=True)
class InpaintingParams(GANParams):
    lambda_hole: float = knob(20.0, 0.0, 1e4, help="weight of the L1 loss inside the hole")
    lambda_valid: float = knob(2.0, 0.0, 1e4, help="weight of the L1 loss outside the hole (smaller: those pixels "
                                                    "are kept from the input anyway)")
    lambda_gan: float = knob(1.0, 0.0, 100.0, help="weight of the adversarial (hinge) loss on the completed image")
    center_share: float = knob(0.25, 0.0, 1.0, help="share of training holes that are the centre square; the rest "
                                                     "are free-form brush strokes")


def masked_l1(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean |a - b| over the pixels where weight [B, 1, H, W] is 1 (a, b [B, C, H, W])."""
    return ((a.float() - b.float()).abs() * weight).sum() / (weight.sum() * a.shape[1]).clamp_min(1.0)


class InpaintingTask(Task):
    Params = InpaintingParams
    live_metrics = ("hole_psnr_center", "hole_psnr_free", "fd_eff")

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        G_cfg = spec.nets["G"]
        if config.image_size % G_cfg.multiple:
            raise ValueError(f"image_size={config.image_size} must be a multiple of {G_cfg.multiple} for this net")
        self.nets = {name: build_net(cfg).to(device).to(memory_format=torch.channels_last)
                     for name, cfg in spec.nets.items()}
        self.opts = {"G": self.adam(self.nets["G"].parameters(), self.params.lr_G),
                     "D": self.adam(self.nets["D"].parameters(), self.params.lr_D)}

    # ---- data ------------------------------------------------------------------------------
    def make_dataset(self, root, augment: bool, split: str = "train") -> MaskedFaceDataset:
        """The registry's folder: its first 1 - holdout (sorted) for training, the rest held out;
        a folder given by hand (--data): all of it."""
        opts = self.spec.data.options
        faces = FaceDataset(root or self.spec.data.train, image_size=self.config.image_size, augment=augment,
                            crop_fraction=opts["crop_fraction"], center_y=opts["center_y"],
                            split="all" if self.config.data_root else split, holdout=opts.get("holdout", 0.1))
        return MaskedFaceDataset(faces, augment=augment, center_share=self.params.center_share)

    def eval_dataset(self, train_root) -> MaskedFaceDataset:
        return self.make_dataset(train_root, augment=False, split="val")

    def checkpoint_meta(self):
        opts = self.spec.data.options
        return {"center_fraction": CENTER_FRACTION, "crop_fraction": opts["crop_fraction"],
                "center_y": opts["center_y"]}

    # ---- step ------------------------------------------------------------------------------
    def _inputs(self, batch):
        """-> (real_B [B, 3, S, S] in [-1, 1], mask [B, 1, S, S] 1 = hole, real_A [B, 4, S, S])."""
        real_B = batch["image"].to(self.device).float().contiguous(memory_format=torch.channels_last)
        mask = batch["mask"].to(self.device).float().contiguous(memory_format=torch.channels_last)
        real_A = torch.cat([real_B * (1 - mask), mask], 1).contiguous(memory_format=torch.channels_last)
        return real_B, mask, real_A

    def train_step(self, batch, step):
        G, D, p = self.nets["G"].train(), self.nets["D"].train(), self.params
        self.set_lr(step)
        real_B, mask, real_A = self._inputs(batch)
        with autocast(self.device, self.amp_dtype):
            out = G(real_A)
            fake_B = real_B * (1 - mask) + out * mask  # the completed image
            set_requires_grad(D, True)
            self.opts["D"].zero_grad(set_to_none=True)
            loss_D_real = F.relu(1 - D(torch.cat([real_B, mask], 1)).float()).mean()
            loss_D_fake = F.relu(1 + D(torch.cat([fake_B.detach(), mask], 1)).float()).mean()
            loss_D = loss_D_real + loss_D_fake
        loss_D.backward()
        self.opts["D"].step()
        with autocast(self.device, self.amp_dtype):
            set_requires_grad(D, False)
            self.opts["G"].zero_grad(set_to_none=True)
            loss_G_gan = -D(torch.cat([fake_B, mask], 1)).float().mean()
        loss_G_L1_hole = masked_l1(out, real_B, mask)
        loss_G_L1_valid = masked_l1(out, real_B, 1 - mask)
        loss_G = p.lambda_hole * loss_G_L1_hole + p.lambda_valid * loss_G_L1_valid + p.lambda_gan * loss_G_gan
        loss_G.backward()
        self.opts["G"].step()
        return {"loss_G_L1_hole": loss_G_L1_hole.item(), "loss_G_L1_valid": loss_G_L1_valid.item(),
                "loss_G_gan": loss_G_gan.item(), "loss_D_real": loss_D_real.item(), "loss_D_fake": loss_D_fake.item()}

    # ---- views -----------------------------------------------------------------------------
    @torch.no_grad()
    def complete(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (completed [B, 3, S, S], truth [B, 3, S, S], both in [0, 1], mask [B, 1, S, S]), on the CPU."""
        G = self.nets["G"].eval()
        real_B, mask, real_A = self._inputs(batch)
        with autocast(self.device, self.amp_dtype):
            out = G(real_A).float()
        fake_B = real_B * (1 - mask) + out * mask
        return (fake_B * 0.5 + 0.5).clamp(0, 1).cpu(), (real_B * 0.5 + 0.5).cpu(), mask.cpu()

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        """On the fixed held-out batch (centre squares and free-form holes alternate): hole PSNR per
        kind, and FD_eff of all completed faces against their truths."""
        fake, real, mask = self.complete(batch)
        scores, kind = hole_psnr(fake, real, mask), batch["kind"].cpu()
        metrics = make_metrics()
        metrics.add(real=real, fake=fake)
        return {"hole_psnr_center": float(scores[kind == 0].mean()), "hole_psnr_free": float(scores[kind == 1].mean()),
                "fd_eff": metrics.compute()["fd_eff"]}

    @torch.no_grad()
    def sample_grid(self, batch):
        """Per face: the input (hole white) | the completed face | the truth, two faces a row."""
        fake, real, mask = self.complete(batch)
        masked = real * (1 - mask) + mask
        tiles = torch.stack([masked, fake, real], 1).flatten(0, 1)
        return make_grid(tiles, nrow=6, padding=2, pad_value=1.0).clamp(0, 1)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs | None:
        """Faces of the shipped faces GAN (seeds 0..7) with the centre-square hole; None without
        that checkpoint."""
        faces = gan_faces(range(TIMELAPSE_MAX_TILES), self.config.image_size)
        if faces is None:
            return None
        mask = torch.from_numpy(center_mask(self.config.image_size)).float()[None, None].expand(len(faces), -1, -1, -1)
        image = faces * 2 - 1
        view = faces * (1 - mask) + mask  # the hole white, as in the sample grid
        return TimelapseInputs({"image": image, "mask": mask.contiguous()}, view=view,
                               caption=f"G's fills of the centre square in {len(faces)} faces of the shipped "
                                       f"faces GAN (seeds 0-{len(faces) - 1})")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        """The completed faces (known pixels kept, the hole from G), one row."""
        with evaluating(self.nets["G"]):
            fake, _, _ = self.complete(inputs.tensors)
        return timelapse_row(fake)


__all__ = ["InpaintingParams", "InpaintingTask", "masked_l1"]
