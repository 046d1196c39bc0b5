"""The six GAN objectives by name, as in the papers: `loss_D` (what the discriminator/critic
minimises) and `loss_G` (the generator's). D's output is a logit for the first three and an
unbounded critic score for the Wasserstein and hinge losses.

- minimax: Goodfellow et al. 2014, G minimises log(1 - D(G(z))) (saturates when D wins);
- nonsaturating: the same D, G maximises log D(G(z)) (the paper's own practical advice);
- lsgan: Mao et al. 2017, least squares with targets 1 (real) and 0 (fake);
- wgan: Arjovsky et al. 2017, critic D(fake) - D(real), weights clipped to [-c, c] after each step;
- wgan_gp: Gulrajani et al. 2017, the same plus lambda (||grad D(x_hat)|| - 1)^2 on random mixes;
- hinge: Miyato et al. 2018 / Lim & Ye 2017, with spectral norm on D's layers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = {
    "minimax": "Minimax (original)",
    "nonsaturating": "Non-saturating",
    "lsgan": "LSGAN (least squares)",
    "wgan": "WGAN (weight clipping)",
    "wgan_gp": "WGAN-GP (gradient penalty)",
    "hinge": "Hinge + spectral norm",
}
LOGIT_LOSSES = ("minimax", "nonsaturating", "lsgan")  # D's score reads as a probability (sigmoid/0..1)


def check_loss(name: str) -> str:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {str(name)[:40]!r}; choose one of {', '.join(LOSSES)}")
    return name


def loss_D(name: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from its scores on a real batch and a fake batch ([B] each)."""
    if name in ("minimax", "nonsaturating"):  # -log D(x) - log(1 - D(G(z))), D = sigmoid(score)
        return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    if name == "lsgan":
        return 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake ** 2).mean()
    if name in ("wgan", "wgan_gp"):
        return d_fake.mean() - d_real.mean()
    if name == "hinge":
        return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
    raise ValueError(check_loss(name))


def loss_G(name: str, d_fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss from D's scores on its points [B]."""
    if name == "minimax":  # log(1 - sigmoid(s)) = -softplus(s)
        return -F.softplus(d_fake).mean()
    if name == "nonsaturating":  # -log sigmoid(s)
        return F.softplus(-d_fake).mean()
    if name == "lsgan":
        return 0.5 * ((d_fake - 1) ** 2).mean()
    if name in ("wgan", "wgan_gp", "hinge"):
        return -d_fake.mean()
    raise ValueError(check_loss(name))


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's penalty (||grad_x D(x_hat)|| - 1)^2, x_hat on random points between real and fake."""
    t = torch.rand(len(real), 1, generator=generator)
    x_hat = (t * real + (1 - t) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def surface(name: str, scores: torch.Tensor) -> torch.Tensor:
    """D's scores as a picture's values in [0, 1]: the probability "real" for the logit losses
    (LSGAN: the score itself, clamped), else the critic's scores scaled to the shown range."""
    if name in ("minimax", "nonsaturating"):
        return torch.sigmoid(scores)
    if name == "lsgan":
        return scores.clamp(0, 1)
    lo, hi = scores.min(), scores.max()
    return (scores - lo) / (hi - lo).clamp_min(1e-6)
