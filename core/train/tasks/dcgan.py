"""DCGAN on faces: z ~ N(0, I) -> 64x64 image; hinge (or BCE) loss, spectral-norm D, EMA of G,
optional DiffAugment (core/train/diffaug.py)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...data.faces import FaceDataset
from ...device import autocast
from ...nets import build_net
from ..diffaug import diff_augment, parse_policy
from ..config import knob
from ..ema import make_ema, update_ema
from ..standing_stats import standing_statistics
from .base import GANParams, Task, make_grid, set_requires_grad
from .base import TIMELAPSE_MAX_TILES, TimelapseInputs, evaluating, seeded_latents, timelapse_row

NUM_SAMPLE_Z = 64


@dataclass(frozen=True)
class DCGANParams(GANParams):
    gan_loss: str = knob("hinge", choices=("hinge", "bce"), help="hinge, or bce (the original non-saturating loss)")
    ema_decay: float = knob(0.999, 0.0, 0.99999, help="moving average of G (the shipped net); 0 = off")
    diffaug: str = knob("", help="DiffAugment ops for everything D sees, e.g. color,translation,cutout")
    d_warmup: int = knob(0, 0, 10_000_000, help="the first N steps train D alone (a fresh D meeting a warm-started G)")

    def __post_init__(self) -> None:
        super().__post_init__()
        parse_policy(self.diffaug)


class DCGANTask(Task):
    """Nets: G (trained), G_ema (moving average of G, shipped as "G"), D."""

    Params = DCGANParams
    live_metrics = ("fd_eff",)

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        if config.image_size != 64:
            raise ValueError("the DCGAN nets work at image_size=64")
        G = build_net(spec.nets["G"]).to(device)
        self.nets = {"G": G, "D": build_net(spec.nets["D"]).to(device).to(memory_format=torch.channels_last)}
        if self.params.ema_decay > 0:
            self.nets["G_ema"] = make_ema(G)
        self.opts = {"G": self.adam(G.parameters(), self.params.lr_G),
                     "D": self.adam(self.nets["D"].parameters(), self.params.lr_D)}
        self.augment_ops = parse_policy(self.params.diffaug)
        gen = torch.Generator().manual_seed(1234)  # the same faces in every sample grid
        self.sample_z = torch.randn(NUM_SAMPLE_Z, spec.nets["G"].z_dim, generator=gen)

    def make_dataset(self, root, augment: bool) -> FaceDataset:
        opts = self.spec.data.options
        # Repeats need the attribute list; a folder without one trains on every image once.
        return FaceDataset(root or self.spec.data.train, image_size=self.config.image_size, augment=augment,
                           crop_fraction=opts.get("crop_fraction", 0.72), center_y=opts.get("center_y", 0.55),
                           attr_file=opts.get("attributes"), repeat=opts.get("repeat") if augment else None)

    def shipped_nets(self):
        if "G_ema" not in self.nets:
            return {"G": self.nets["G"]}
        self._recalibrate_ema()
        return {"G": self.nets["G_ema"]}

    @torch.no_grad()
    def _recalibrate_ema(self, batches: int = 8, batch_size: int = 64) -> None:
        """Batch-norm statistics that belong to the averaged weights ("standing statistics", Brock
        et al. 2019): G's running statistics describe G's activations, not G_ema's, and the
        mismatch grey-washes the samples (docs/DESIGN.md, "Faces GAN")."""
        G = self.nets["G_ema"]
        # Weights unchanged since the last recalibration (the sample grid's, then the time-lapse frame's, at
        # the same step): the statistics would come out the same, so skip the 8 batches. Every in-place change
        # of a weight (the EMA update, a state load) bumps its version counter.
        weights = self._calibration_key()
        if weights == getattr(self, "_calibrated_for", None):
            return
        gen = torch.Generator().manual_seed(4321)
        z_dim = self.spec.nets["G"].z_dim
        with autocast(self.device, self.amp_dtype):  # the inputs are drawn lazily: none without batch norm
            standing_statistics(G, (self._decoder_input(torch.randn(batch_size, z_dim, generator=gen).to(self.device))
                                    for _ in range(batches)))
        self._calibrated_for = weights

    def _calibration_key(self) -> tuple:
        """What G_ema's standing statistics depend on: its weights' version counters."""
        return tuple(p._version for p in self.nets["G_ema"].parameters())

    def _decoder_input(self, z: torch.Tensor) -> torch.Tensor:
        """Latents z ~ N(0, I) [B, z_dim] -> what G is fed (the DCGAN: z itself)."""
        return z

    def warm_start(self, states):
        """The shipped "G" is the moving average: it starts both G and G_ema (a run's state.pt has
        its own G_ema)."""
        copied = super().warm_start(states)
        if "G" in states and "G_ema" in self.nets and "G_ema" not in states:
            self.nets["G_ema"].load_state_dict(states["G"])
        return copied

    def _d_loss(self, real_logits, fake_logits):
        if self.params.gan_loss == "hinge":
            return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))

    def _g_loss(self, fake_logits):
        if self.params.gan_loss == "hinge":
            return -fake_logits.mean()
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))

    def train_step(self, batch, step):
        G, D = self.nets["G"].train(), self.nets["D"].train()
        real = batch["image"].to(self.device).contiguous(memory_format=torch.channels_last)
        b = real.shape[0]
        self.set_lr(step)
        z = torch.randn(b, self.spec.nets["G"].z_dim, device=self.device)
        with autocast(self.device, self.amp_dtype):
            fake = G(z)
            set_requires_grad(D, True)
            self.opts["D"].zero_grad(set_to_none=True)
            aug = lambda x: diff_augment(x, self.augment_ops)  # noqa: E731  (identity when no ops)
            loss_D = self._d_loss(D(aug(real)).float(), D(aug(fake.detach())).float())
        loss_D.backward()
        self.opts["D"].step()
        if step <= self.params.d_warmup:  # D catches up with a warm-started G first; G (and its average) wait
            return {"loss_D": loss_D.item()}
        with autocast(self.device, self.amp_dtype):
            set_requires_grad(D, False)
            self.opts["G"].zero_grad(set_to_none=True)
            loss_G = self._g_loss(D(aug(fake)).float())
        loss_G.backward()
        self.opts["G"].step()
        self._update_ema(step)
        return {"loss_G_gan": loss_G.item(), "loss_D": loss_D.item()}

    @torch.no_grad()
    def _update_ema(self, step: int) -> None:
        if "G_ema" not in self.nets:
            return
        # Batch-norm buffers are recomputed for the averaged weights when shipped (_recalibrate_ema).
        update_ema(self.nets["G_ema"], self.nets["G"], self.params.ema_decay, step, copy_buffers=False)

    @torch.no_grad()
    def _generate(self, n: int) -> torch.Tensor:
        G = self.shipped_nets()["G"].eval()
        with autocast(self.device, self.amp_dtype):
            return G(self.sample_z[:n].to(self.device)).float().cpu()

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        n = len(batch["image"])
        z = torch.randn(n, self.spec.nets["G"].z_dim, generator=torch.Generator().manual_seed(99))
        G = self.shipped_nets()["G"].eval()
        with autocast(self.device, self.amp_dtype):
            fake = G(z.to(self.device)).float().cpu()
        metrics = make_metrics()
        metrics.add(real=batch["image"] * 0.5 + 0.5, fake=(fake * 0.5 + 0.5).clamp(0, 1))
        return metrics.compute()

    @torch.no_grad()
    def sample_grid(self, batch):
        return make_grid(self._generate(NUM_SAMPLE_Z) * 0.5 + 0.5, nrow=8, padding=2, pad_value=1.0).clamp(0, 1)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs:
        """Fixed latents, one per seed 0..7 (as the faces tabs make a seed's face)."""
        z = seeded_latents(range(TIMELAPSE_MAX_TILES), self.spec.nets["G"].z_dim)
        net = "the moving average of G (the shipped net)" if "G_ema" in self.nets else "G"
        return TimelapseInputs({"z": z}, caption=f"Faces from {net} at seeds 0-{len(z) - 1} (fixed latents)")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        """The faces of the fixed latents from the net as shipped (the EMA generator with its standing
        batch-norm statistics, when the task keeps one), in eval mode."""
        G = self.shipped_nets()["G"]
        with evaluating(G), autocast(self.device, self.amp_dtype):
            faces = G(inputs.tensors["z"].to(self.device)).float()
        return timelapse_row(faces * 0.5 + 0.5)
