"""Colorization: predict ab from L (and sparse colour hints) in Lab, three ways.

- loss "l2": regression of ab with L2, the lecture's baseline: the mean of the plausible colours,
  i.e. grey-brown "sepia" (Zhang, Isola & Efros 2016, section 2.1);
- loss "classification": Zhang et al. 2016: cross-entropy over quantised ab bins against a soft
  target (5 nearest bins, Gaussian sigma 5), each pixel weighted by the rarity of its colour
  (class rebalancing), decoded by the annealed mean;
- loss "cgan": pix2pix (Isola et al. 2017) on (L, ab): L1 + a PatchGAN that sees L with real or
  generated ab.
Colour hints (Zhang et al. 2017): the generator also gets a hint map (a, b, mask) sampled from the
true colours, none for a share of the items, so the same net colorizes alone and follows hints.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ...data import colour
from ...data.colour_photos import PhotoDataset, photo_files
from ...device import autocast
from ...metrics.features import lite0_state
from ...metrics.pixels import colourfulness, psnr
from ...metrics.semantic import gap_recovered
from ...nets import build_net
from ..config import knob
from ..ema import AveragedG, ema_decay_knob
from .base import GANParams, Task, make_grid, set_requires_grad
from .base import TimelapseInputs, evaluating, gan_faces, timelapse_row

LOSSES = ("classification", "cgan", "l2")
SAMPLE_HINTS = 5  # hints in the sample grid's hinted column
TIMELAPSE_FACES = 6  # tiles of a time-lapse frame (128 px each)


@dataclass(frozen=True)
class ColorizationParams(GANParams):
    loss: str = knob("classification", choices=LOSSES,
                     help="classification over ab bins (Zhang 2016), cgan (pix2pix on ab) or l2 regression")
    lambda_L1: float = knob(100.0, 0.0, 1e4, help="cgan: weight of the L1 term against the cGAN term")
    lambda_gan: float = knob(1.0, 0.0, 100.0, help="cgan: weight of the cGAN term")
    temperature: float = knob(0.38, 0.01, 1.0, help="classification: annealed-mean temperature T (samples, "
                                                     "the live eval and the checkpoint's default)")
    rebalance: float = knob(0.5, 0.0, 1.0, help="classification: lambda mixing the colour distribution with "
                                                 "uniform for the class weights (1 = no rebalancing)")
    prior_sigma: float = knob(5.0, 0.0, 50.0, help="classification: Gaussian smoothing of the colour distribution, "
                                                    "ab units")
    prior_images: int = knob(2000, 1, 1_000_000, help="classification: training photos that estimate the colour "
                                                       "distribution (once, stored in the net)")
    hint_free_share: float = knob(0.5, 0.0, 1.0, help="share of the items trained without any hint")
    hint_p: float = knob(0.125, 0.01, 1.0, help="number of hints: 1 + Geometric(p) (Zhang 2017: 1/8)")
    hint_max_size: int = knob(5, 1, 16, help="hints are squares of 1..N px showing their mean true colour")
    painted_share: float = knob(0.0, 0.0, 0.5, help="share of the training items that are landscapes painted in "
                                                     "code instead of photos (flat pictures, e.g. the tab's meadow)")
    ema_decay: float = ema_decay_knob()
    backbone_lr: float = knob(0.1, 0.0, 1.0, help="a pretrained encoder's learning rate, as a fraction of lr_G "
                                                   "(fine-tuned gently: its ImageNet features are the point)")


class ColorizationTask(AveragedG, Task):
    Params = ColorizationParams
    live_metrics = ("psnr_rgb", "colourfulness_ratio", "acc_ours", "gap_recovered")

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        p, G_cfg = self.params, spec.nets["G"]
        if (p.loss == "classification") != (G_cfg.head == "classification"):
            raise ValueError(f"loss {p.loss!r} needs a {'classification' if p.loss == 'classification' else 'regression'} "
                             f"head; {spec.name}'s G has {G_cfg.head!r}")
        if p.loss == "cgan" and "D" not in spec.nets:
            raise ValueError(f"loss 'cgan' needs a discriminator D in {spec.name}'s nets")
        if config.image_size % G_cfg.multiple:
            raise ValueError(f"image_size={config.image_size} must be a multiple of {G_cfg.multiple} for this net")
        self.nets = {name: build_net(cfg).to(device).to(memory_format=torch.channels_last)
                     for name, cfg in spec.nets.items() if name == "G" or p.loss == "cgan"}
        if G_cfg.backbone != "none":
            self._start_from_imagenet()
        self.opts = {"G": self.adam(self._G_groups(), p.lr_G)}
        if p.loss == "cgan":
            self.opts["D"] = self.adam(self.nets["D"].parameters(), p.lr_D)
        self._weights: torch.Tensor | None = None  # class rebalancing weights, from the net's prior
        if p.loss == "classification":
            centres = colour.gamut_bins()
            if len(centres) != G_cfg.num_bins:
                raise ValueError(f"the sRGB gamut has {len(centres)} ab bins; {spec.name}'s G has num_bins="
                                 f"{G_cfg.num_bins}")
            self.nets["G"].bin_centres.copy_(centres.to(torch.int16))
            self.lookup = colour.BinLookup(centres)
        self.start_average()  # last: the copy starts from the ImageNet weights and the bins

    def _start_from_imagenet(self) -> None:
        """G's backbone gets the ImageNet weights (a resume or warm start overwrites them later); the
        package's classifier head, which the encoder drops, is left out."""
        body = self.nets["G"].encoder.body
        missing, _ = body.load_state_dict(lite0_state(), strict=False)
        if missing:
            raise RuntimeError(f"the pretrained {self.nets['G'].config.backbone} lacks {missing[:3]}...")
        body.to(self.device, memory_format=torch.channels_last)

    def _G_groups(self) -> list[dict]:
        """G's parameter groups: a pretrained backbone at backbone_lr x the rate, the rest at the rate."""
        G = self.nets["G"]
        if G.config.backbone == "none":
            return [{"params": list(G.parameters())}]
        body = G.encoder.body
        ids = {id(q) for q in body.parameters()}
        return [{"params": list(body.parameters()), "lr_scale": self.params.backbone_lr},
                {"params": [q for q in G.parameters() if id(q) not in ids]}]

    def learning_rates(self) -> dict[str, float]:
        return {name: self.params.lr_G if name == "G" else self.params.lr_D for name in self.opts}

    # ---- data ------------------------------------------------------------------------------
    def _files(self, root, split: str):
        if root is not None:  # a folder of colour photos given by hand: all of it
            return photo_files([Path(root)])
        opts = self.spec.data.options
        return photo_files(opts.get("photos", []), opts.get("left_halves", []), split, opts.get("holdout", 0.05))

    def make_dataset(self, root, augment: bool, split: str = "train") -> PhotoDataset:
        ds = PhotoDataset(self._files(root, split), crop_size=self.config.image_size, augment=augment,
                          painted_share=self.params.painted_share if augment else 0.0)
        if augment and self.params.loss == "classification" and float(self.nets["G"].bin_prior.sum()) == 0:
            self._estimate_prior(ds)  # a fresh net; resumed and warm-started ones keep theirs
        return ds

    def eval_dataset(self, train_root) -> PhotoDataset:
        return self.make_dataset(train_root, augment=False, split="val")

    @torch.no_grad()
    def _estimate_prior(self, ds: PhotoDataset) -> None:
        """The training photos' share of pixels per ab bin (evenly spaced photos, centre views at
        64 px), stored in G's `bin_prior` buffer: saved with it, so inference needs no data."""
        n = min(len(ds), self.params.prior_images)
        view = PhotoDataset(ds.files, crop_size=64, augment=False)
        idx = torch.linspace(0, len(ds) - 1, n).round().long().tolist()
        counts = torch.zeros(self.spec.nets["G"].num_bins)
        centres = self.nets["G"].bin_centres.cpu()
        for start in range(0, n, 256):
            images = torch.stack([view[i]["image"] for i in idx[start:start + 256]])
            _, ab = colour.rgb_to_lab(images * 0.5 + 0.5)
            counts += colour.bin_histogram(ab, centres) * len(images)
        self.nets["G"].bin_prior.copy_(counts / counts.sum())

    def class_weights(self) -> torch.Tensor:
        """Rebalancing weight per bin [Q] (mean 1 under the smoothed training distribution)."""
        if self._weights is None:
            G = self.nets["G"]
            if float(G.bin_prior.sum()) <= 0:
                raise RuntimeError("no colour distribution yet: make_dataset(..., augment=True) estimates it")
            smooth = colour.smooth_distribution(G.bin_prior.float().cpu(), G.bin_centres.cpu(), self.params.prior_sigma)
            self._weights = colour.rebalance_weights(smooth, self.params.rebalance).to(self.device)
        return self._weights

    def checkpoint_meta(self):
        return {"temperature": self.params.temperature, "loss": self.params.loss, "ab_scale": colour.AB_SCALE}

    # ---- step ------------------------------------------------------------------------------
    def _inputs(self, batch, hints: bool = True):
        """A batch of photos -> (real_L [B, 1, S, S], real_ab [B, 2, S, S], G's input [B, 4, S, S])."""
        rgb = batch["image"].to(self.device).float() * 0.5 + 0.5
        real_L, real_ab = colour.rgb_to_lab(rgb)
        p = self.params
        counts = colour.hint_counts(len(rgb), p.hint_p, p.hint_free_share if hints else 1.0)
        hint_map = colour.sample_hints(real_ab, counts, p.hint_max_size)
        x = torch.cat([real_L, hint_map], 1).contiguous(memory_format=torch.channels_last)
        return real_L, real_ab, x

    def train_step(self, batch, step):
        G = self.nets["G"].train()
        self.set_lr(step)
        real_L, real_ab, x = self._inputs(batch)
        self.opts["G"].zero_grad(set_to_none=True)
        if self.params.loss == "classification":
            with autocast(self.device, self.amp_dtype):
                logits = G(x)
            loss_G_cls = self._cls_loss(logits.float(), real_ab)
            loss_G_cls.backward()
            self.opts["G"].step()
            self.update_average(step)
            return {"loss_G_cls": loss_G_cls.item()}
        with autocast(self.device, self.amp_dtype):
            fake_ab = colour.upsample_ab(G(x), *real_ab.shape[-2:])
        if self.params.loss == "l2":
            loss_G_L2 = F.mse_loss(fake_ab.float(), real_ab)
            loss_G_L2.backward()
            self.opts["G"].step()
            self.update_average(step)
            return {"loss_G_L2": loss_G_L2.item()}
        return self._cgan_step(real_L, real_ab, fake_ab, step)

    def _cls_loss(self, logits: torch.Tensor, real_ab: torch.Tensor) -> torch.Tensor:
        """Zhang's multinomial cross-entropy at the logits' resolution: soft target (5 nearest bins),
        weighted per pixel by the class weight of its nearest bin. logits [B, Q, h, w]."""
        target_ab = F.adaptive_avg_pool2d(real_ab, logits.shape[-2:])  # the truth at the head's resolution
        bins, soft = colour.soft_encode(target_ab.permute(0, 2, 3, 1).reshape(-1, 2), self.lookup)
        # One row of Q logits per pixel (free for channels_last logits): CE = logsumexp - sum(soft * picked).
        flat = logits.permute(0, 2, 3, 1).reshape(-1, logits.shape[1]).float()
        ce = torch.logsumexp(flat, 1) - (flat.gather(1, bins) * soft).sum(1)
        return (ce * self.class_weights()[bins[:, 0]]).mean()

    def _cgan_step(self, real_L, real_ab, fake_ab, step: int) -> dict[str, float]:
        """pix2pix on ab: D sees (L, ab) pairs; G gets lambda_L1 * L1 + lambda_gan * cGAN."""
        D, p = self.nets["D"].train(), self.params
        with autocast(self.device, self.amp_dtype):
            set_requires_grad(D, True)
            self.opts["D"].zero_grad(set_to_none=True)
            pred_fake = D(torch.cat([real_L, fake_ab.detach()], 1))
            pred_real = D(torch.cat([real_L, real_ab], 1))
            loss_D_fake, loss_D_real = _gan_loss(pred_fake, False), _gan_loss(pred_real, True)
            loss_D = 0.5 * (loss_D_fake + loss_D_real)  # halved, as in pix2pix, to slow D down
        loss_D.backward()
        self.opts["D"].step()
        with autocast(self.device, self.amp_dtype):
            set_requires_grad(D, False)
            loss_G_gan = _gan_loss(D(torch.cat([real_L, fake_ab], 1)), True)
            loss_G_L1 = F.l1_loss(fake_ab.float(), real_ab) * p.lambda_L1
            loss_G = loss_G_L1 + p.lambda_gan * loss_G_gan
        loss_G.backward()
        self.opts["G"].step()
        self.update_average(step)
        return {"loss_G_L1": loss_G_L1.item(), "loss_G_gan": loss_G_gan.item(),
                "loss_D_real": loss_D_real.item(), "loss_D_fake": loss_D_fake.item()}

    # ---- views -----------------------------------------------------------------------------
    @torch.no_grad()
    def colorize(self, x: torch.Tensor) -> torch.Tensor:
        """G's input [B, 4, S, S] -> ab [B, 2, S, S] normalised (the shown G in eval mode, float32)."""
        G = self.G_shown.eval()
        with autocast(self.device, self.amp_dtype):
            out = G(x)
        return colour.upsample_ab(G.decode(out, self.params.temperature), *x.shape[-2:])

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        """On the fixed val batch, without hints: PSNR of the RGB result, colourfulness against the
        truth, and the semantic test (the classifier's top-1 on the photo kept on ours / on grey)."""
        real_L, real_ab, x = self._inputs(batch, hints=False)
        truth, ours = colour.lab_to_rgb(real_L, real_ab).cpu(), colour.lab_to_rgb(real_L, self.colorize(x)).cpu()
        gray = colour.gray_rgb(real_L).cpu()
        features = make_metrics().features
        top = [features.logits(v).argmax(1) for v in (truth, gray, ours)]
        acc_gray, acc_ours = (float((t == top[0]).float().mean()) for t in top[1:])
        return {"psnr_rgb": float(psnr(ours, truth).mean()),
                "colourfulness_ratio": float(colourfulness(ours).mean() / colourfulness(truth).mean().clamp_min(1e-6)),
                # live curves hold floats: a batch whose grey versions all agree has no gap to win, plotted as 0
                "acc_ours": acc_ours, "gap_recovered": gap_recovered(acc_gray, acc_ours) or 0.0}

    @torch.no_grad()
    def sample_grid(self, batch):
        """Per photo: grey | ours | ours with SAMPLE_HINTS hints (seeded) | truth, two photos a row."""
        real_L, real_ab, x = self._inputs(batch, hints=False)
        counts = torch.full((len(real_L),), SAMPLE_HINTS)
        hints = colour.sample_hints(real_ab, counts, self.params.hint_max_size, torch.Generator().manual_seed(0))
        hinted = torch.cat([real_L, hints.to(self.device)], 1).contiguous(memory_format=torch.channels_last)
        views = [colour.gray_rgb(real_L), colour.lab_to_rgb(real_L, self.colorize(x)),
                 colour.lab_to_rgb(real_L, self.colorize(hinted)), colour.lab_to_rgb(real_L, real_ab)]
        tiles = torch.stack(views, 1).flatten(0, 1).cpu()
        return make_grid(tiles, nrow=8, padding=2, pad_value=1.0).clamp(0, 1)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs | None:
        """Grey versions (L only) of TIMELAPSE_FACES faces of the shipped faces GAN at the model size;
        None without that checkpoint."""
        faces = gan_faces(range(TIMELAPSE_FACES), self.config.image_size)
        if faces is None:
            return None
        L, _ = colour.rgb_to_lab(faces)
        return TimelapseInputs({"L": L}, view=colour.gray_rgb(L),
                               caption=f"G's colours (no hints) for grey versions of {len(L)} faces of the "
                                       f"shipped faces GAN (seeds 0-{len(L) - 1})")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        """The grey faces colorized without hints (L kept, ab from G), one row."""
        L = inputs.tensors["L"].to(self.device)
        hints = L.new_zeros(len(L), colour.HINT_CHANNELS, *L.shape[-2:])
        x = torch.cat([L, hints], 1).contiguous(memory_format=torch.channels_last)
        with evaluating(self.G_shown):
            rgb = colour.lab_to_rgb(L, self.colorize(x))
        return timelapse_row(rgb)


def _gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits.float(), target)


__all__ = ["ColorizationParams", "ColorizationTask", "LOSSES"]
