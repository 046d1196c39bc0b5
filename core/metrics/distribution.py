"""FD_eff and KID_eff: torchmetrics' FID/KID formulas on EfficientNet-Lite0 features."""
from __future__ import annotations

import warnings

import torch
from torch import nn
# Imported from their modules: the package root only exports FID/KID when torch-fidelity (for
# Inception weights, which do not exist here) is installed; a custom `feature=` needs neither.
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from .features import EfficientNetFeatures

# Seed of the random subsets KID averages over (see DistributionMetrics.compute).
KID_SEED = 0


class _Precomputed(nn.Module):
    """Identity "feature extractor": lets torchmetrics' FID/KID consume features computed once."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class DistributionMetrics:
    """FD_eff and KID_eff between real and generated image sets.

    Feed batches [B, 3, H, W] in [0, 1] with add(real=..., fake=...); EfficientNet-Lite0 features
    are extracted once and shared by both metrics. Compare only results made from equal sample
    counts; KID is unbiased and better suited to the small sets used here.
    """

    def __init__(self, features: EfficientNetFeatures | None = None):
        self.features = features or EfficientNetFeatures()
        self.real: list[torch.Tensor] = []
        self.fake: list[torch.Tensor] = []

    def add(self, real: torch.Tensor | None = None, fake: torch.Tensor | None = None) -> None:
        self.add_features(real=None if real is None else self.features(real.float()),
                          fake=None if fake is None else self.features(fake.float()))

    def add_features(self, real: torch.Tensor | None = None, fake: torch.Tensor | None = None) -> None:
        """Features already extracted by self.features (e.g. with features_and_logits)."""
        if real is not None:
            self.real.append(real.double())
        if fake is not None:
            self.fake.append(fake.double())

    def compute(self) -> dict[str, float]:
        real, fake = torch.cat(self.real), torch.cat(self.fake)
        d = self.features.num_features
        # sync_on_compute=False: under torchrun only rank 0 measures; a gather would wait forever.
        fd = FrechetInceptionDistance(feature=_Precomputed(d), sync_on_compute=False)
        fd.update(real, real=True)
        fd.update(fake, real=False)
        out = {"fd_eff": float(fd.compute())}
        subset = min(100, len(real), len(fake))
        if subset >= 2:
            with warnings.catch_warnings():  # "KID keeps all features in memory": a few MB here
                warnings.simplefilter("ignore")
                kid = KernelInceptionDistance(feature=_Precomputed(d), subsets=50, subset_size=subset,
                                              sync_on_compute=False)
            kid.update(real, real=True)
            kid.update(fake, real=False)
            # KID averages over random subsets: drawn from a fixed seed, so the same outputs give the same
            # figure in every run (from the process's unseeded RNG it moved by about a fifth of its std).
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(KID_SEED)
                mean, std = kid.compute()
            out["kid_eff"], out["kid_eff_std"] = float(mean), float(std)
        return out
