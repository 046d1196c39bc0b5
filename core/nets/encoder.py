"""A face encoder for the faces v2 model (a VAE-GAN, Larsen et al. 2016): image -> the mean and
log-variance of a Gaussian over the generator's latent."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import init_weights


@dataclass(frozen=True)
class FaceEncoderConfig:
    """image [B, in_channels, 64, 64] -> (mu, logvar) [B, z_dim] each; channels c, 2c, 4c, 8c
    (the DCGAN discriminator's layout, with batch norm), then one linear layer."""

    in_channels: int = 3
    base_channels: int = 64
    z_dim: int = 128

    def __post_init__(self) -> None:
        if min(self.in_channels, self.base_channels, self.z_dim) < 1:
            raise ValueError("in_channels, base_channels and z_dim must be positive")


class FaceEncoder(nn.Module):
    def __init__(self, config: FaceEncoderConfig):
        super().__init__()
        self.config = cfg = config
        c = cfg.base_channels
        chans = [cfg.in_channels, c, 2 * c, 4 * c, 8 * c]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(chans, chans[1:])):
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, True))
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(8 * c * 4 * 4, 2 * cfg.z_dim)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, in_channels, 64, 64] in [-1, 1] -> (mu [B, z_dim], logvar [B, z_dim])."""
        mu, logvar = self.head(self.body(x).flatten(1)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 6.0)  # exp() stays finite under bf16


@dataclass(frozen=True)
class LatentGaussianConfig:
    """A full-covariance Gaussian over a latent of z_dim dimensions (no trainable weights)."""

    z_dim: int = 128


class LatentGaussian(nn.Module):
    """The encoder's aggregate posterior, fitted after the fact (ex-post density estimation,
    Ghosh et al. 2020): a VAE decodes its prior N(0, I) worse than the codes of real faces, because
    those do not fill the prior; sampling this Gaussian instead gives faces like the data's. Buffers
    `mean` [z_dim] and `scale_tril` [z_dim, z_dim] (Cholesky factor of the covariance)."""

    def __init__(self, config: LatentGaussianConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.z_dim))
        self.register_buffer("scale_tril", torch.eye(config.z_dim))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Whitened u [B, z_dim] ~ N(0, I) -> generator latents [B, z_dim] ~ N(mean, cov)."""
        return self.mean + u @ self.scale_tril.T

    def whiten(self, z: torch.Tensor) -> torch.Tensor:
        """Generator latents z [B, z_dim] -> whitened u [B, z_dim] (the inverse of forward)."""
        return torch.linalg.solve_triangular(self.scale_tril, (z - self.mean).T, upper=False).T

    @torch.no_grad()
    def fit(self, mean: torch.Tensor, cov: torch.Tensor, jitter: float = 1e-4) -> None:
        """Set from a mean [z_dim] and covariance [z_dim, z_dim] (jitter keeps it positive definite)."""
        cov = (cov + cov.T) / 2 + jitter * torch.eye(len(cov), dtype=cov.dtype, device=cov.device)
        self.mean.copy_(mean)
        self.scale_tril.copy_(torch.linalg.cholesky(cov))
