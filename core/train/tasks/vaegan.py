"""Faces v2: a VAE-GAN (Larsen et al. 2016), so a real face has a latent.

An encoder E gives each face a Gaussian code; the generator G (the DCGAN's, as decoder) draws
the face back; D judges real faces against reconstructions and against faces drawn from sampled
codes. The reconstruction is measured in pixels (L1) and in D's last hidden layer (Larsen's
"learned similarity", which keeps it sharp), and a small KL term keeps the codes a smooth,
roughly Gaussian cloud. Samples come from that cloud as it is (a full-covariance Gaussian fitted
to the codes, ex-post, as Ghosh et al. 2020 do for deterministic autoencoders), not from N(0, I),
which a weakly regularised VAE does not fill: net "P" (core/nets/encoder.py).

Paper names: real_x, mu, logvar, z_enc, rec_x (G(z_enc)), z_p, fake_x (G(z_p))."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...device import autocast
from ...nets import build_net
from ..config import knob
from ..diffaug import diff_augment
from .base import TimelapseInputs, evaluating, make_grid, set_requires_grad, timelapse_row
from .dcgan import NUM_SAMPLE_Z, DCGANParams, DCGANTask

FIT_FACES = 2048  # faces (un-augmented, fixed) whose codes the shipped Gaussian is fitted to
CODE_MOMENTUM = 0.02  # per step: the running code statistics that draw training samples follow E


@dataclass(frozen=True)
class VAEGANParams(DCGANParams):
    lr_E: float = knob(2e-4, 1e-7, 1e-1, help="encoder learning rate (Adam)")
    lambda_L1: float = knob(10.0, 0.0, 1e4, help="weight of the pixel L1 between a face and its reconstruction")
    lambda_feat: float = knob(20.0, 0.0, 1e4, help="weight of the L1 in D's last hidden layer (Larsen et al.)")
    beta_kl: float = knob(0.005, 0.0, 10.0, help="weight of the KL term (nats, summed over the code's dimensions)")
    lambda_gan: float = knob(1.0, 0.0, 100.0, help="weight of G's adversarial terms (reconstructions and samples)")


class VAEGANTask(DCGANTask):
    """Nets: E (encoder), G (decoder), G_ema (moving average, shipped as "G"), D, P (the fitted
    code Gaussian, shipped). Shipped: E, G, P."""

    Params = VAEGANParams

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        z_dim = spec.nets["G"].z_dim
        if spec.nets["E"].z_dim != z_dim or spec.nets["P"].z_dim != z_dim:
            raise ValueError(f"E, G and P must share z_dim (G: {z_dim})")
        self.nets["E"] = build_net(spec.nets["E"]).to(device).to(memory_format=torch.channels_last)
        self.nets["P"] = build_net(spec.nets["P"]).to(device)
        self.opts["E"] = self.adam(self.nets["E"].parameters(), self.params.lr_E)
        self.code_mean = torch.zeros(z_dim, dtype=torch.float64, device=device)
        self.code_second = torch.eye(z_dim, dtype=torch.float64, device=device)  # E[z z^T]
        self._fit_faces: torch.Tensor | None = None

    def learning_rates(self) -> dict[str, float]:
        return {**super().learning_rates(), "E": self.params.lr_E}

    def make_dataset(self, root, augment: bool, split: str | None = None):
        """The registry's folder less its held-out part (`holdout`: the last files, for the eval;
        quick evals and sample grids use it), unless the run names its own folder."""
        from ...data.faces import FaceDataset

        opts = self.spec.data.options
        if split is None:
            split = "train" if augment else "val"
        if self.config.data_root or not opts.get("holdout"):
            split = "all"
        return FaceDataset(root or self.spec.data.train, image_size=self.config.image_size, augment=augment,
                           crop_fraction=opts.get("crop_fraction", 0.72), center_y=opts.get("center_y", 0.55),
                           attr_file=opts.get("attributes"), repeat=opts.get("repeat") if augment else None,
                           split=split, holdout=opts.get("holdout", 0.1))

    # ---- codes ---------------------------------------------------------------------------------
    def _sample_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes [n, z_dim] from the running Gaussian of E's codes (training samples)."""
        z_dim = len(self.code_mean)
        cov = self.code_second - torch.outer(self.code_mean, self.code_mean)
        cov = (cov + cov.T) / 2 + 1e-4 * torch.eye(z_dim, dtype=cov.dtype, device=cov.device)
        try:
            L = torch.linalg.cholesky(cov)
        except RuntimeError:  # not positive definite yet (early steps): its diagonal will do
            L = torch.diag(cov.diagonal().clamp_min(1e-4).sqrt())
        u = torch.randn(n, z_dim, generator=generator, dtype=torch.float64).to(self.device)
        return (self.code_mean + u @ L.T).float()

    @torch.no_grad()
    def _track_codes(self, mu: torch.Tensor) -> None:
        m = mu.detach().double()
        self.code_mean.lerp_(m.mean(0), CODE_MOMENTUM)
        self.code_second.lerp_(m.T @ m / len(m), CODE_MOMENTUM)

    # ---- the step -------------------------------------------------------------------------------
    def train_step(self, batch, step):
        E, G, D = self.nets["E"].train(), self.nets["G"].train(), self.nets["D"].train()
        p = self.params
        real_x = batch["image"].to(self.device).contiguous(memory_format=torch.channels_last)
        self.set_lr(step)
        aug = lambda x: diff_augment(x, self.augment_ops)  # noqa: E731  (identity when no ops)
        with autocast(self.device, self.amp_dtype):
            mu, logvar = E(real_x)
            mu, logvar = mu.float(), logvar.float()
            z_enc = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            z_p = self._sample_codes(len(real_x))
            both = G(torch.cat([z_enc, z_p]))
            rec_x, fake_x = both.split(len(real_x))
            # D: real faces against reconstructions and samples.
            set_requires_grad(D, True)
            self.opts["D"].zero_grad(set_to_none=True)
            loss_D = self._d_loss(D(aug(real_x)).float(), D(aug(both.detach())).float())
        loss_D.backward()
        self.opts["D"].step()
        self._track_codes(mu)
        with autocast(self.device, self.amp_dtype):
            set_requires_grad(D, False)
            for name in ("E", "G"):
                self.opts[name].zero_grad(set_to_none=True)
            loss_G_gan = self._g_loss(D(aug(both)).float())
            loss_rec_L1 = (rec_x.float() - real_x.float()).abs().mean()
            loss_rec_feat = (D.features(rec_x).float() - D.features(real_x).float().detach()).abs().mean()
            loss_KL = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(1).mean()
            loss = (p.lambda_gan * loss_G_gan + p.lambda_L1 * loss_rec_L1 + p.lambda_feat * loss_rec_feat
                    + p.beta_kl * loss_KL)
        loss.backward()
        self.opts["E"].step()
        self.opts["G"].step()
        self._update_ema(step)
        return {"loss_G_gan": loss_G_gan.item(), "loss_D": loss_D.item(), "loss_rec_L1": loss_rec_L1.item(),
                "loss_rec_feat": loss_rec_feat.item(), "loss_KL": loss_KL.item()}

    # ---- shipping --------------------------------------------------------------------------------
    def _faces_for_fit(self) -> torch.Tensor:
        """FIT_FACES fixed, un-augmented training faces [N, 3, 64, 64] in [-1, 1] (loaded once)."""
        if self._fit_faces is None:
            ds = self.make_dataset(self.config.data_root or None, augment=False, split="train")
            idx = torch.linspace(0, len(ds) - 1, min(FIT_FACES, len(ds))).long().unique()
            self._fit_faces = torch.stack([ds[int(i)]["image"] for i in idx])
        return self._fit_faces

    @torch.no_grad()
    def fit_prior(self) -> None:
        """Fit P (mean and covariance) to E's codes (mu, eval mode) of the fixed training faces."""
        E = self.nets["E"].eval()
        codes = []
        with autocast(self.device, self.amp_dtype):
            for chunk in self._faces_for_fit().split(256):
                codes.append(E(chunk.to(self.device))[0].double())
        z = torch.cat(codes)
        self.nets["P"].fit(z.mean(0).float(), torch.cov(z.T).float())

    def shipped_nets(self):
        """E, G (the moving average, its batch-norm statistics recomputed for it) and P (fitted to
        E's codes). Each is redone only when what it depends on changed since the last call: the
        sample grid, the time-lapse frame and the checkpoint ask at the same step (every in-place
        change of a weight or buffer bumps its version counter)."""
        E = self.nets["E"]
        key = tuple(t._version for t in (*E.parameters(), *E.buffers()))
        if key != getattr(self, "_fitted_for", None):  # P follows E's codes
            self.fit_prior()
            self._fitted_for = key
        self._recalibrate_ema()  # skipped when neither G_ema nor P changed
        return {"E": E, "G": self.nets["G_ema"], "P": self.nets["P"]}

    def _calibration_key(self) -> tuple:
        """G_ema's standing statistics also depend on the codes it is fed: P's buffers."""
        return super()._calibration_key() + tuple(b._version for b in self.nets["P"].buffers())

    def _decoder_input(self, u: torch.Tensor) -> torch.Tensor:
        """G_ema is fed what it decodes when shipped: codes from P (u ~ N(0, I) whitened)."""
        return self.nets["P"](u)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        """The faces of the fixed latents (whitened, as the tabs use them: code = P(u)) from the
        shipped nets, in eval mode."""
        nets = self.shipped_nets()
        with evaluating(nets["G"]), autocast(self.device, self.amp_dtype):
            faces = nets["G"](nets["P"](inputs.tensors["z"].to(self.device))).float()
        return timelapse_row(faces * 0.5 + 0.5)

    def state_dict(self):
        return {**super().state_dict(), "codes": {"mean": self.code_mean, "second": self.code_second}}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.code_mean.copy_(state["codes"]["mean"])
        self.code_second.copy_(state["codes"]["second"])

    # ---- what the live view shows ------------------------------------------------------------
    @torch.no_grad()
    def _generate(self, n: int, seed: int = 1234) -> torch.Tensor:
        nets = self.shipped_nets()
        u = torch.randn(n, len(self.code_mean), generator=torch.Generator().manual_seed(seed))
        with autocast(self.device, self.amp_dtype):
            return nets["G"].eval()(nets["P"](u.to(self.device))).float().cpu()

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        fake = self._generate(len(batch["image"]), seed=99)
        metrics = make_metrics()
        metrics.add(real=batch["image"] * 0.5 + 0.5, fake=(fake * 0.5 + 0.5).clamp(0, 1))
        return metrics.compute()

    @torch.no_grad()
    def sample_grid(self, batch):
        """Rows 1-4: samples; rows 5-8: faces of the fixed batch and their reconstructions, in pairs."""
        samples = self._generate(NUM_SAMPLE_Z // 2)
        nets = self.shipped_nets()
        real = batch["image"][:NUM_SAMPLE_Z // 4].to(self.device)
        with autocast(self.device, self.amp_dtype):
            rec = nets["G"](nets["E"].eval()(real)[0]).float().cpu()
        pairs = torch.stack([real.float().cpu(), rec], 1).flatten(0, 1)
        return make_grid(torch.cat([samples, pairs]) * 0.5 + 0.5, nrow=8, padding=2, pad_value=1.0).clamp(0, 1)
