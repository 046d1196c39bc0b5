"""Tiny MLPs for 2D data: generator z [B, noise_dim] -> x [B, 2], discriminator x [B, 2] -> score
[B] (a logit or a critic value, by the loss), and a VAE with a 2D latent."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class MLPConfig:
    """in_dim -> `layers` hidden layers of `hidden` units (activation `act`) -> out_dim."""

    in_dim: int
    out_dim: int
    hidden: int = 64
    layers: int = 3
    act: str = "relu"  # "relu" | "leaky" | "tanh"
    spectral: bool = False  # spectral norm on every linear layer (Miyato et al. 2018)
    gain: float = 1.0  # the output is multiplied by this (see SN_GAIN)

    def __post_init__(self) -> None:
        if min(self.in_dim, self.out_dim, self.hidden, self.layers) < 1 or not self.gain > 0:
            raise ValueError("in_dim, out_dim, hidden, layers and gain must be positive")
        if self.act not in ACTIVATIONS:
            raise ValueError(f"act must be one of {sorted(ACTIVATIONS)}, not {self.act!r}")


ACTIVATIONS = {"relu": nn.ReLU, "leaky": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


class MLP(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        dims = [config.in_dim] + [config.hidden] * config.layers
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [self._linear(a, b), ACTIVATIONS[config.act]()]
        layers.append(self._linear(dims[-1], config.out_dim))
        self.net = nn.Sequential(*layers)

    def _linear(self, a: int, b: int) -> nn.Module:
        layer = nn.Linear(a, b)
        return spectral_norm(layer) if self.config.spectral else layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x) * self.config.gain if self.config.gain != 1 else self.net(x)
        return out.squeeze(-1) if self.config.out_dim == 1 else out


def generator(noise_dim: int, hidden: int = 64, layers: int = 3) -> MLP:
    """z [B, noise_dim] -> points [B, 2]."""
    return MLP(MLPConfig(noise_dim, 2, hidden, layers, "relu"))


# Spectral norm holds every layer's gain to 1, and the product of those bounds is far below what the
# layers could reach together: such a D is nearly linear over the 4 units the data spans, while the
# hinge loss asks it for scores 2 apart between real and fake points. With gain 1 the hinge preset
# swept G's points across the ring as a whole and covered 0-1 of 8 modes in 1,500 steps; gain 4:
# 3-7; gain 10: 8/8 after 1,000-1,500 steps; gain 20: after 1,500-1,750 (seeds 0-2).
SN_GAIN = 10.0


def discriminator(hidden: int = 64, layers: int = 3, spectral: bool = False) -> MLP:
    """points [B, 2] -> score [B]; with spectral norm, Lipschitz at most SN_GAIN."""
    return MLP(MLPConfig(2, 1, hidden, layers, "leaky", spectral, SN_GAIN if spectral else 1.0))


@dataclass(frozen=True)
class VAEConfig:
    """Encoder x [B, 2] -> (mu, logvar) [B, latent]; decoder z -> x mean [B, 2]. The decoder's
    output noise has a fixed std `decoder_sigma`: the reconstruction term is then a squared error
    scaled by 1 / (2 sigma^2), and a larger sigma means blurrier samples (more averaging)."""

    latent: int = 2
    hidden: int = 64
    layers: int = 2
    decoder_sigma: float = 0.15

    def __post_init__(self) -> None:
        if min(self.latent, self.hidden, self.layers) < 1 or not self.decoder_sigma > 0:
            raise ValueError("latent, hidden, layers and decoder_sigma must be positive")


class TinyVAE(nn.Module):
    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = config
        self.encoder = MLP(MLPConfig(2, 2 * config.latent, config.hidden, config.layers, "relu"))
        self.decoder = MLP(MLPConfig(config.latent, 2, config.hidden, config.layers, "relu"))

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, KL) per point, averaged over the batch x [B, 2] (their sum is the
        negative ELBO up to a constant)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        logvar = logvar.clamp(-10, 10)
        eps = torch.randn(mu.shape, generator=generator)
        x_hat = self.decoder(mu + eps * (0.5 * logvar).exp())
        recon = ((x_hat - x) ** 2).sum(-1).mean() / (2 * self.config.decoder_sigma ** 2)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1).mean()
        return recon, kl

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decoder means of n latents z ~ N(0, I): [n, 2] (the points a VAE "generates"; the
        decoder noise on top is left out, as is usual in pictures)."""
        return self.decoder(torch.randn(n, self.config.latent, generator=generator))
