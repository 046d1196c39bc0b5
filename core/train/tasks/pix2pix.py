"""pix2pix (Isola et al. 2017): conditional GAN + lambda * L1, U-Net G, PatchGAN D.

Colour hints (as in the colorization task, Zhang et al. 2017): when G takes four channels more than
the condition D sees (registry: `sketch2photo`), G also gets a hint map drawn from the true photo,
on the object: washes (its coarse colour layout, or its one mean colour, over all of it or along a
few brush strokes) or a few small squares, plus their mask; none at all for a share of the items.
So a person can say "a red shoe" and a sparse outline need not become the data's commonest white
one. D still judges (sketch, photo) pairs."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...data import colour
from ...data import edges
from ...data.images import pil_to_tensor
from ...data.paired import PairedDataset
from ...data.sketches import DRAWINGS, draw
from ...device import autocast
from ...nets import build_net
from .. import distributed
from ..config import knob
from ..ema import AveragedG, ema_decay_knob
from .base import GANParams, Task, make_grid, set_requires_grad
from .base import TIMELAPSE_MAX_TILES, TimelapseInputs, evaluating, timelapse_row  # the time-lapse frames


@dataclass(frozen=True)
class Pix2PixParams(GANParams):
    lambda_L1: float = knob(100.0, 0.0, 1e4, help="weight of the L1 term against the cGAN term")
    lambda_gan: float = knob(1.0, 0.0, 100.0, help="weight of the cGAN term (0 = L1 only, the paper's ablation)")
    drawing_share: float = knob(0.0, 0.0, 1.0, help="edges inputs: share of items turned into drawing-like "
                                                      "sketches (simplified edges, outlines)")
    d_warmup: int = knob(0, 0, 10_000_000, help="the first N steps train D alone, against G as the app runs it "
                                                 "(eval mode, frozen): a discriminator for a finished G")
    hint_free_share: float = knob(0.3, 0.0, 1.0, help="colour-hinted G only: share of the items without any hint")
    hint_p: float = knob(0.125, 0.01, 1.0, help="colour-hinted G only: number of hints 1 + Geometric(p)")
    hint_max_size: int = knob(7, 1, 32, help="colour-hinted G only: hints are squares of 1..N px (mean true colour)")
    hint_wash_share: float = knob(0.7, 0.0, 1.0, help="colour-hinted G only: share of the hinted items whose hints "
                                                       "are washes (the object's colours painted over it or strokes "
                                                       "of it) instead of squares")
    lambda_FM: float = knob(0.0, 0.0, 1000.0, help="weight of feature matching (pix2pixHD): L1 between D's hidden "
                                                    "activations on the fake and the real pair; 0 = off")
    ema_decay: float = ema_decay_knob()


HINT_SAMPLES = 6  # hints in the sample grid's hinted column


class _PairD(torch.nn.Module):
    """D on the fake and the real pair in ONE forward: DistributedDataParallel allows a single
    forward per backward, and separate calls keep BatchNorm statistics as in the paper."""

    def __init__(self, D: torch.nn.Module):
        super().__init__()
        self.D = D

    def forward(self, fake_AB: torch.Tensor, real_AB: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.D(fake_AB), self.D(real_AB)


class Pix2PixTask(AveragedG, Task):
    Params = Pix2PixParams
    live_metrics = ("fd_eff",)
    supports_distributed = True

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        multiple = 2 ** spec.nets["G"].num_downs
        if config.image_size % multiple:
            raise ValueError(f"image_size={config.image_size} must be a multiple of {multiple} for this U-Net")
        self.nets = {name: build_net(cfg).to(device).to(memory_format=torch.channels_last)
                     for name, cfg in spec.nets.items()}
        self.opts = {"G": self.adam(self.nets["G"].parameters(), self.params.lr_G),
                     "D": self.adam(self.nets["D"].parameters(), self.params.lr_D)}
        self.start_average()
        self.G_step, self.D_pair = self.nets["G"], _PairD(self.nets["D"])
        condition = spec.nets["D"].in_channels - 3  # what D sees beside the photo: the sketch
        self.hinted = spec.nets["G"].in_channels == condition + colour.RGB_HINT_CHANNELS
        if not self.hinted and spec.nets["G"].in_channels != condition:
            raise ValueError(f"G takes {spec.nets['G'].in_channels} channels: the sketch's {condition} "
                             f"(as D sees it), or those plus {colour.RGB_HINT_CHANNELS} of colour hints")

    def G_input(self, real_A: torch.Tensor, real_B: torch.Tensor, free_share: float | None = None,
                generator: torch.Generator | None = None, counts: torch.Tensor | None = None,
                washes: torch.Tensor | None = None, **wash_options) -> torch.Tensor:
        """real_A [B, c, S, S] (+ colour hints sampled from real_B [B, 3, S, S], both in [-1, 1],
        for a colour-hinted G) -> G's input [B, c (+ 4), S, S]. Hints: `counts` squares per item,
        or, for items where `washes` [B] bool holds, washes (colour.sample_washes with
        `wash_options`); by default both drawn at random (hint_free_share, hint_wash_share)."""
        if not self.hinted:
            return real_A
        p = self.params
        drawn = counts is None  # hints drawn at random (training), not asked for (samples, evals)
        if drawn:
            counts = colour.hint_counts(len(real_B), p.hint_p, p.hint_free_share if free_share is None else free_share,
                                        generator=generator)
        where = colour.on_object(real_B)
        hints = colour.sample_hints(real_B.float(), counts, p.hint_max_size, generator, where=where)
        if washes is None and drawn and p.hint_wash_share > 0:
            washes = (torch.rand(len(real_B), generator=generator) < p.hint_wash_share) & (counts > 0)
        if washes is not None and washes.any():
            washed = colour.sample_washes(real_B.float(), where, generator, **wash_options)
            hints = torch.where(washes.to(hints.device)[:, None, None, None], washed, hints)
        return torch.cat([real_A, hints.to(real_A.dtype)], 1).contiguous(memory_format=torch.channels_last)

    def distribute(self, info) -> None:
        self.G_step = distributed.wrap(self.nets["G"], info, self.device)
        self.D_pair = distributed.wrap(_PairD(self.nets["D"]), info, self.device)

    def make_dataset(self, root, augment: bool) -> PairedDataset:
        opts = self.spec.data.options
        return PairedDataset(root, crop_size=self.config.image_size, augment=augment,
                             photo_left=opts.get("photo_left", False),
                             input_mode=opts.get("input_mode", "rgb"), drawing_share=self.params.drawing_share)

    @staticmethod
    def _gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits.float(), target)

    def train_step(self, batch, step):
        if step <= self.params.d_warmup:
            return self._D_alone(batch, step)
        self.nets["G"].train()
        D = self.nets["D"].train()
        batch = self.to_device(batch)
        real_A, real_B = batch["A"], batch["B"]
        self.set_lr(step)
        use_gan = self.params.lambda_gan > 0  # 0: the "L1 only" ablation, no D at all
        losses = {}
        with autocast(self.device, self.amp_dtype):
            fake_B = self.G_step(self.G_input(real_A, real_B))
        if use_gan:
            losses = self._D_step(D, real_A, real_B, fake_B)

        with autocast(self.device, self.amp_dtype):
            self.opts["G"].zero_grad(set_to_none=True)
            loss_G_L1 = F.l1_loss(fake_B.float(), real_B.float()) * self.params.lambda_L1
            loss_G = loss_G_L1
            if use_gan:
                # The plain D (not its DDP wrapper): D is frozen here and only passes gradients to G.
                set_requires_grad(D, False)
                pred_fake, feats_fake = D.forward_with_features(torch.cat([real_A, fake_B], 1))
                loss_G_gan = self._gan_loss(pred_fake, True)
                loss_G = loss_G + self.params.lambda_gan * loss_G_gan
                losses["loss_G_gan"] = loss_G_gan.item()
                if self.params.lambda_FM > 0:
                    loss_G_FM = self._feature_matching(D, real_A, real_B, feats_fake) * self.params.lambda_FM
                    loss_G = loss_G + loss_G_FM
                    losses["loss_G_FM"] = loss_G_FM.item()
        loss_G.backward()
        self.opts["G"].step()
        self.update_average(step)
        return {"loss_G_L1": loss_G_L1.item(), **losses}

    @staticmethod
    def _feature_matching(D, real_A, real_B, feats_fake: list[torch.Tensor]) -> torch.Tensor:
        """Mean over D's hidden layers of the L1 distance between its activations on the fake pair
        (with gradients to G) and on the real pair (a fixed target), as in pix2pixHD (Wang et al. 2018)."""
        # D stays in train mode, so the real pair is normalised by its own batch statistics as in D's step
        # (its running statistics take this batch in too; they matter only for D in eval mode).
        with torch.no_grad():
            _, feats_real = D.forward_with_features(torch.cat([real_A, real_B], 1))
        return sum(F.l1_loss(f.float(), r.float()) for f, r in zip(feats_fake, feats_real, strict=True)) / len(feats_real)

    def _D_alone(self, batch, step) -> dict[str, float]:
        """A D step against G exactly as the app runs it (eval mode: BatchNorm's running statistics,
        no dropout), which stays untouched: how a discriminator is had for a G whose own D was not
        kept, e.g. to show its per-patch verdicts in the app."""
        G, D = self.G_shown.eval(), self.nets["D"].train()
        batch = self.to_device(batch)
        real_A, real_B = batch["A"], batch["B"]
        self.set_lr(step)
        with torch.no_grad(), autocast(self.device, self.amp_dtype):
            fake_B = G(self.G_input(real_A, real_B))
        return self._D_step(D, real_A, real_B, fake_B)

    def _D_step(self, D, real_A, real_B, fake_B) -> dict[str, float]:
        """D: real pairs -> 1, fake pairs -> 0 (halved, as in the paper, to slow D down)."""
        with autocast(self.device, self.amp_dtype):
            set_requires_grad(D, True)
            self.opts["D"].zero_grad(set_to_none=True)
            pred_fake, pred_real = self.D_pair(torch.cat([real_A, fake_B.detach()], 1), torch.cat([real_A, real_B], 1))
            loss_D_fake = self._gan_loss(pred_fake, False)
            loss_D_real = self._gan_loss(pred_real, True)
            loss_D = 0.5 * (loss_D_fake + loss_D_real)
        loss_D.backward()
        self.opts["D"].step()
        return {"loss_D_real": loss_D_real.item(), "loss_D_fake": loss_D_fake.item()}

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        G = self.G_shown.eval()
        batch = self.to_device(batch)
        with autocast(self.device, self.amp_dtype):  # without hints: comparable with an unhinted model
            fake_B = G(self.G_input(batch["A"], batch["B"], free_share=1.0)).float().cpu()
        metrics = make_metrics()
        metrics.add(real=batch["B"].float().cpu() * 0.5 + 0.5, fake=(fake_B * 0.5 + 0.5).clamp(0, 1))
        return metrics.compute()

    @torch.no_grad()
    def sample_grid(self, batch):
        """Per item: sketch | G's photo | truth, two items a row; a colour-hinted G adds its hints
        drawn on the sketch and its photo with them (HINT_SAMPLES, seeded), one item a row."""
        G = self.G_shown.eval()
        batch = self.to_device(batch)
        real_A, real_B = batch["A"], batch["B"]
        free = self.G_input(real_A, real_B, free_share=1.0)
        with autocast(self.device, self.amp_dtype):
            fake_B = G(free).float()
        rows = []
        if not self.hinted:
            for a, f, b in zip(real_A, fake_B, real_B):
                rows += [a.float().expand(3, -1, -1), f, b.float()]
            return make_grid(torch.stack(rows).cpu() * 0.5 + 0.5, nrow=6, padding=2, pad_value=1.0).clamp(0, 1)
        counts = torch.full((len(real_A),), HINT_SAMPLES)
        # Odd items: squares; even ones: the object's mean colour over all of it (the tab's swatch).
        washes = torch.arange(len(real_A)) % 2 == 0
        hinted = self.G_input(real_A, real_B, generator=torch.Generator().manual_seed(0), counts=counts,
                              washes=washes, whole_share=1.0, flat_share=1.0)
        with autocast(self.device, self.amp_dtype):
            fake_hinted = G(hinted).float()
        for a, f, h, fh, b in zip(real_A, fake_B, hinted[:, -4:].float(), fake_hinted, real_B):
            sketch = a.float().expand(3, -1, -1)
            shown = torch.where(h[3:] > 0, h[:3], sketch)  # the hints, painted over the sketch
            rows += [sketch, f, shown, fh, b.float()]
        return make_grid(torch.stack(rows).cpu() * 0.5 + 0.5, nrow=5, padding=2, pad_value=1.0).clamp(0, 1)

    def warm_start(self, states) -> list[str]:
        """As Task.warm_start, but a colour-hinted G may start from an unhinted one: the first conv's
        weights for the hint channels start at zero, so step 0 draws exactly what that G drew."""
        for name in ("G", "G_ema"):
            if self.hinted and name in states:
                states = {**states, name: _with_inputs(states[name], self.nets["G"].state_dict())}
        return super().warm_start(states)  # AveragedG: a shipped G starts the average

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs:
        """The example drawings made in code (core/data/sketches.py, the code drawings of the eval),
        prepared as the pipeline prepares a canvas drawing: [N, 1, S, S] in [-1, 1]."""
        drawings = [draw(name, width=TIMELAPSE_STROKE, seed=seed) for seed, name in enumerate(DRAWINGS)]
        x = torch.cat([edges.sketch_to_input(pil_to_tensor(im)[None], self.config.image_size) for im in drawings])
        x = x[:TIMELAPSE_MAX_TILES]
        return TimelapseInputs({"A": x}, view=(x.expand(-1, 3, -1, -1) * 0.5 + 0.5),
                               caption=f"G's photos of the {len(x)} example drawings made in code "
                                       f"(core/data/sketches.py){', without colour hints' if self.hinted else ''}")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        """G's photos of the drawings (the shipped G's), one row; a colour-hinted G gets no hints (zeros)."""
        G = self.G_shown
        x = inputs.tensors["A"].to(self.device)
        if self.hinted:
            x = torch.cat([x, x.new_zeros(len(x), colour.RGB_HINT_CHANNELS, *x.shape[-2:])], 1)
        with evaluating(G), autocast(self.device, self.amp_dtype):
            fake_B = G(x.contiguous(memory_format=torch.channels_last)).float()
        return timelapse_row(fake_B * 0.5 + 0.5)


TIMELAPSE_STROKE = 8  # px on draw()'s 512 px paper: between the eval's 4 and 12


def _with_inputs(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`source` (a state dict) made to fit `target`'s shapes: a weight that takes fewer input
    channels (dim 1) than target's is zero-padded; anything else that does not fit raises."""
    out = {}
    for k, v in source.items():
        t = target[k]
        if v.shape != t.shape:
            if v.dim() < 2 or v.shape[0] != t.shape[0] or v.shape[2:] != t.shape[2:] or v.shape[1] > t.shape[1]:
                raise ValueError(f"{k}: {tuple(v.shape)} does not fit {tuple(t.shape)}")
            v = torch.cat([v, v.new_zeros(v.shape[0], t.shape[1] - v.shape[1], *v.shape[2:])], 1)
        out[k] = v
    return out
