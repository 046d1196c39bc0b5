"""InterFaceGAN-style attribute boundaries in the faces GAN's latent space (Shen et al. 2020), and the
conditional edit along them.

Each boundary is a hyperplane n . z + b = 0 with a unit normal n, fitted by logistic regression
(scikit-learn) on the latents of the labelled pool (`face_arithmetic`: 12,000 generated faces the
attribute classifier judged once): z [N, 100] -> "has the attribute" (p > 0.5). n . z + b is then a
face's signed distance to the boundary, in the latent's own units (a sample's |z| is about 10).
Attributes the generator almost never makes (fewer than MIN_SIDE faces on one side: moustaches, bald
heads) are fitted as InterFaceGAN itself samples: the top and bottom EXTREMES of the classifier's
logit. Such a normal still points where the classifier's score rises; its offset is then put where a
straight-line fit of the classifier's logit along the normal reaches 0 (p = 0.5), extrapolated beyond
the pool: so almost every face lies on the "without" side, and "remove the moustache" does not move a
face that has none.

Conditional manipulation: the edit moves z by the shortest step that changes the distances to the
asked boundaries by the asked amounts and leaves the distances to the `keep` boundaries unchanged:
with one asked and one kept attribute, the step is along n1 - (n1 . n2) n2 (InterFaceGAN's
projection); with several, the minimum-norm solution of those linear constraints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .disk_cache import lookup, store

MIN_SIDE = 50  # pool faces needed on each side of p = 0.5 to fit a boundary on the labels themselves
EXTREMES = 0.05  # else the top / bottom 5 % of the classifier's logit (600 faces each of 12,000)
RIDGE = 1e-3  # keeps the constrained step finite when an asked normal lies (almost) in the kept ones' span
CACHE_VERSION = 2  # bump when the fitting changes


@dataclass(frozen=True)
class Boundaries:
    """Fitted boundaries of `names`: normals [A, D] (unit), offsets [A], and how many pool faces the
    classifier gave each attribute (of `pool_size`)."""

    names: tuple[str, ...]
    normals: torch.Tensor
    offsets: torch.Tensor
    counts: torch.Tensor
    pool_size: int

    def index(self, name: str) -> int:
        if name not in self.names:
            raise KeyError(f"no boundary for {name!r}; fitted: {', '.join(self.names)}")
        return self.names.index(name)

    def distance(self, z: torch.Tensor) -> torch.Tensor:
        """Signed distances of latents z [N, D] to every boundary: [N, A] (> 0: the attribute's side)."""
        return z.float() @ self.normals.T + self.offsets

    def supported(self, name: str) -> bool:
        """Whether the pool has enough faces with and without `name` for a boundary on the labels."""
        n = int(self.counts[self.index(name)])
        return min(n, self.pool_size - n) >= MIN_SIDE

    def cosines(self) -> torch.Tensor:
        """[A, A]: how the attributes' normals align (Smiling and Male, e.g., point against each other)."""
        return self.normals @ self.normals.T


def _boundary(Z: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, float]:
    """Latents Z [N, D] and one attribute's probabilities p [N] -> (unit normal [D], offset)."""
    from sklearn.linear_model import LogisticRegression  # imported on the first fit only (~1 s)

    p = p.clip(1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p))
    X, y = Z, p > 0.5
    rare = min(y.sum(), (~y).sum()) < MIN_SIDE
    if rare:
        lo, hi = np.quantile(logit, [EXTREMES, 1 - EXTREMES])
        chosen = (logit <= lo) | (logit >= hi)
        X, y = Z[chosen], logit[chosen] >= hi
    if y.all() or not y.any():  # the classifier says the same of every face: no direction to find
        return np.zeros(Z.shape[1]), (1.0 if y.all() else -1.0)
    fit = LogisticRegression(C=1.0, max_iter=5000).fit(X, y)
    w, b = fit.coef_[0], float(fit.intercept_[0])
    scale = float(np.linalg.norm(w)) or 1.0
    normal, offset = w / scale, b / scale
    if rare:  # logit ~ slope * (n . z) + c over the pool: the boundary where that reaches 0
        slope, c = np.polyfit(Z @ normal, logit, 1)
        if slope > 1e-3:
            offset = c / slope
    return normal, offset


def fit_boundaries(z: torch.Tensor, probs: torch.Tensor, names) -> Boundaries:
    """Pool latents z [N, D] and the classifier's probabilities probs [N, A] (columns = names) -> Boundaries."""
    Z, P = z.double().numpy(), probs.double().numpy()
    fitted = [_boundary(Z, P[:, j]) for j in range(len(names))]
    return Boundaries(tuple(names), torch.tensor(np.stack([n for n, _ in fitted]), dtype=torch.float32),
                      torch.tensor([b for _, b in fitted], dtype=torch.float32),
                      torch.tensor((P > 0.5).sum(0)), len(z))


def cached_boundaries(z: torch.Tensor, probs: torch.Tensor, names, key: str) -> Boundaries:
    """fit_boundaries, kept in the disk cache under `key` (what the pool's labels depend on; '' = no cache)."""
    names = tuple(names)
    full = f"v{CACHE_VERSION}/{key}/{','.join(names)}/{MIN_SIDE}/{EXTREMES}"
    shape_ok = lambda t: tuple(t["normals"].shape) == (len(names), z.shape[1])  # noqa: E731
    stored = lookup("face_boundaries", full, shape_ok) if key else None
    if stored is not None:
        return Boundaries(names, stored["normals"], stored["offsets"], stored["counts"], len(z))
    b = fit_boundaries(z, probs, names)
    if key:
        store("face_boundaries", full, {"normals": b.normals, "offsets": b.offsets, "counts": b.counts})
    return b


def conditional_step(boundaries: Boundaries, changes: torch.Tensor, asked, keep) -> torch.Tensor:
    """The shortest latent steps [N, D] that move the signed distances to the `asked` boundaries by
    `changes` [N, len(asked)] and to the `keep` boundaries by 0 (conditional manipulation).
    Without `keep` and with one asked attribute this is changes * n: the plain InterFaceGAN edit."""
    keep = [k for k in keep if k not in asked]
    rows = boundaries.normals[[boundaries.index(n) for n in [*asked, *keep]]]  # [k, D]
    targets = torch.cat([changes.float(), torch.zeros(len(changes), len(keep))], 1)  # [N, k]
    gram = rows @ rows.T + RIDGE * torch.eye(len(rows))
    return torch.linalg.solve(gram, targets.T).T @ rows
