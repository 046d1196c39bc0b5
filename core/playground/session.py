"""One playground run: a GAN (and a VAE beside it) on one 2D dataset, trained a chunk at a time.

`step(n)` trains n generator steps (each after `d_steps` discriminator steps, and one VAE step);
`snapshot()` returns what the views show, as plain NumPy arrays. Everything is seeded: the same
dataset, settings and seed give the same run, step for step.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from . import losses
from .coverage import Coverage, coverage
from .data import VIEW, PointData
from .nets import TinyVAE, VAEConfig, discriminator, generator
from .settings import Settings

SHOW_POINTS = 400  # points drawn per view (of the COVERAGE_POINTS the coverage is measured on)
COVERAGE_POINTS = 2000
HEAT_SIDE = 48  # D is evaluated on a HEAT_SIDE x HEAT_SIDE grid over the view
HISTORY_MAX = 1200  # loss history entries kept; beyond, every other one is dropped (the plot thins)
VAE_LR = 1e-3


@dataclass(frozen=True)
class Snapshot:
    """What the views show at `step`. Points are float32 [n, 2] in view units ([-VIEW, VIEW]).
    heat [HEAT_SIDE, HEAT_SIDE] in [0, 1], row 0 at the top (y = +VIEW); arrows [SHOW_POINTS, 2]:
    the direction each shown fake point is pushed by the generator's loss (-d loss_G / d x),
    unscaled. history: [K, 3] rows (step, loss_D, loss_G); vae_history [K, 2] (step, -ELBO)."""

    step: int
    loss: str
    real: np.ndarray
    fake: np.ndarray
    arrows: np.ndarray
    heat: np.ndarray
    vae: np.ndarray | None
    history: np.ndarray
    vae_history: np.ndarray
    coverage: Coverage
    vae_coverage: Coverage | None
    coverage_history: np.ndarray  # [K, 3] rows (step, covered, on_data)


class History:
    """Rows of floats, thinned by half whenever HISTORY_MAX is reached (old parts keep every
    other row, so a long run's plot still spans all of it)."""

    def __init__(self, width: int, limit: int = HISTORY_MAX):
        self.rows: list[tuple[float, ...]] = []
        self.width, self.limit, self.stride, self._skip = width, limit, 1, 0

    def add(self, *row: float) -> None:
        self._skip += 1
        if self._skip < self.stride:
            return
        self._skip = 0
        self.rows.append(row)
        if len(self.rows) >= self.limit:
            self.rows = self.rows[::2]
            self.stride *= 2

    def array(self) -> np.ndarray:
        return np.asarray(self.rows, np.float64).reshape(-1, self.width)


def _optimizer(params, lr: float, s: Settings) -> torch.optim.Optimizer:
    if s.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(s.beta1, s.beta2))


class PlaygroundRun:
    def __init__(self, data: PointData, settings: Settings, seed: int = 0, vae: bool = True):
        self.data, self.settings, self.seed = data, settings, int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.gen = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng(devices=[]):  # seeded weights without touching the global RNG
            torch.manual_seed(self.seed)
            self.G = generator(settings.noise_dim, settings.hidden, settings.layers)
            self.D = discriminator(settings.hidden, settings.layers, settings.spectral)
            self.vae = TinyVAE(VAEConfig()) if vae else None
        self.step_count = 0
        self.history, self.vae_history, self.coverage_history = History(3), History(2), History(3)
        # Fixed points to show: the same latents every frame, so a student sees points move, not flicker.
        self.show_real = data.sample(SHOW_POINTS, np.random.default_rng(self.seed + 1))
        self.z_fixed = torch.randn(COVERAGE_POINTS, settings.noise_dim, generator=self.gen)
        self.vae_z = torch.randn(COVERAGE_POINTS, 2, generator=self.gen)

    # The optimizers are made on first use: torch's first optimizer imports torch._dynamo (2-4 s of
    # CPU), and the tab's picture before anything runs (a run's step 0, drawn while the app starts)
    # needs none.
    @cached_property
    def opt_G(self) -> torch.optim.Optimizer:
        return _optimizer(self.G.parameters(), self.settings.lr_G, self.settings)

    @cached_property
    def opt_D(self) -> torch.optim.Optimizer:
        return _optimizer(self.D.parameters(), self.settings.lr_D, self.settings)

    @cached_property
    def opt_vae(self) -> torch.optim.Optimizer | None:
        return torch.optim.Adam(self.vae.parameters(), lr=VAE_LR) if self.vae else None

    def _real(self) -> torch.Tensor:
        return torch.from_numpy(self.data.sample(self.settings.batch, self.rng))

    def _noise(self) -> torch.Tensor:
        return torch.randn(self.settings.batch, self.settings.noise_dim, generator=self.gen)

    def _d_step(self) -> float:
        s = self.settings
        real = self._real()
        with torch.no_grad():
            fake = self.G(self._noise())
        loss = losses.loss_D(s.loss, self.D(real), self.D(fake))
        total = loss + s.gp * losses.gradient_penalty(self.D, real, fake, self.gen) if s.gp > 0 else loss
        self.opt_D.zero_grad(set_to_none=True)
        total.backward()
        self.opt_D.step()
        if s.clip > 0:
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-s.clip, s.clip)
        return float(loss.detach())  # the objective itself, without the penalty (what the papers plot)

    def _g_step(self) -> float:
        self.D.requires_grad_(False)  # G's step needs no gradient for D's weights
        try:
            loss = losses.loss_G(self.settings.loss, self.D(self.G(self._noise())))
            self.opt_G.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_G.step()
        finally:
            self.D.requires_grad_(True)
        return float(loss.detach())

    def _vae_step(self) -> float:
        recon, kl = self.vae.loss(self._real(), self.gen)
        loss = recon + kl
        self.opt_vae.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_vae.step()
        return float(loss.detach())

    def step(self, n: int = 1) -> None:
        """n generator steps, each after settings.d_steps discriminator steps (and a VAE step)."""
        for _ in range(max(0, int(n))):
            d = [self._d_step() for _ in range(self.settings.d_steps)]
            g = self._g_step()
            self.step_count += 1
            self.history.add(self.step_count, d[-1], g)
            if self.vae is not None:
                self.vae_history.add(self.step_count, self._vae_step())

    def retune(self, settings: Settings) -> None:
        """Take new learning rates and D steps without a restart (a student may slow a collapsing
        run down); the other fields must stay as they are."""
        fixed = ("loss", "noise_dim", "hidden", "layers", "spectral", "optimizer", "batch", "clip", "gp", "beta1",
                 "beta2")
        if any(getattr(settings, f) != getattr(self.settings, f) for f in fixed):
            raise ValueError("only lr_G, lr_D and d_steps change in a live run; start a new one")
        for opt, lr in ((self.opt_G, settings.lr_G), (self.opt_D, settings.lr_D)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.settings = settings

    def set_data(self, data: PointData) -> None:
        """Train on other data from the next step on (drawn points changed: G follows them)."""
        self.data = data
        self.show_real = data.sample(SHOW_POINTS, np.random.default_rng(self.seed + 1))

    @torch.no_grad()
    def fake_points(self) -> np.ndarray:
        """G on the fixed latents: float32 [COVERAGE_POINTS, 2]."""
        return self.G(self.z_fixed).numpy()

    def coverage(self) -> Coverage:
        return coverage(self.fake_points(), self.data)

    def _arrows(self, fake: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(fake[:SHOW_POINTS].copy()).requires_grad_(True)
        self.D.requires_grad_(False)
        try:
            loss = losses.loss_G(self.settings.loss, self.D(x)) * len(x)  # per point, not / batch
            grad, = torch.autograd.grad(loss, x)
        finally:
            self.D.requires_grad_(True)
        return (-grad).numpy()

    @torch.no_grad()
    def _heat(self) -> np.ndarray:
        axis = np.linspace(-VIEW, VIEW, HEAT_SIDE, dtype=np.float32)
        xx, yy = np.meshgrid(axis, axis[::-1])  # row 0 at the top
        grid = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1))
        return losses.surface(self.settings.loss, self.D(grid)).reshape(HEAT_SIDE, HEAT_SIDE).numpy()

    def snapshot(self) -> Snapshot:
        fake = self.fake_points()
        cov = coverage(fake, self.data)
        self.coverage_history.add(self.step_count, cov.covered, cov.on_data)
        vae, vae_cov = None, None
        if self.vae is not None:
            with torch.no_grad():
                vae_all = self.vae.decoder(self.vae_z).numpy()
            vae, vae_cov = vae_all[:SHOW_POINTS], coverage(vae_all, self.data)
        return Snapshot(self.step_count, self.settings.loss, self.show_real, fake[:SHOW_POINTS], self._arrows(fake),
                        self._heat(), vae, self.history.array(), self.vae_history.array(), cov, vae_cov,
                        self.coverage_history.array())
