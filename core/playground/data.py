"""The playground's 2D datasets: seeded samplers of points in the square [-VIEW, VIEW]^2.

Each dataset also carries a *reference* for coverage (core.playground.coverage): points on the
data's modes with a mode label each, the mass of every mode, and a distance `tol` (3 sigma of
the data's noise) within which a generated point counts as "on the data".
- Gaussian mixtures (ring, grid): the reference is the component centres, one mode each.
- Curves (moons, spiral) have no discrete modes; as a stand-in each curve is cut into
  `CURVE_PARTS` pieces of equal mass ("parts"), the reference is dense noiseless points on it.
- A drawn point cloud: the reference is the points themselves; its modes are the separate
  clusters (single linkage at `LINK`), so three blobs drawn apart are three modes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VIEW = 3.0  # every dataset lies inside [-VIEW, VIEW]^2; the views show exactly this square
RING_MODES, RING_RADIUS, RING_SIGMA = 8, 2.0, 0.05
GRID_SIDE, GRID_SIGMA = 5, 0.05  # 25 Gaussians at {-2, -1, 0, 1, 2}^2
CURVE_SIGMA, CURVE_PARTS = 0.05, 8
DRAWN_SIGMA = 0.05  # noise added around each drawn point when sampling
LINK = 0.35  # drawn points closer than this (chained) belong to the same cluster
MIN_POINTS, MAX_POINTS = 8, 2000  # a drawn cloud's size
BLOB_POINTS, BLOB_SIGMA = 24, 0.12  # what one click adds (demos call `blob`)

DATASETS = {
    "ring": "Ring of 8 Gaussians",
    "grid": "Grid of 25 Gaussians",
    "moons": "Two moons",
    "spiral": "Spiral",
    "drawn": "Your own points",
}


@dataclass(frozen=True, eq=False)
class PointData:
    """A 2D distribution. `sample(n, rng)` -> float32 [n, 2]. Reference: `reference` [M, 2] with
    `labels` [M] in [0, n_modes), `mode_mass` [n_modes] (sums to 1), `tol` (distance units).
    `mode_word` is what the coverage readout calls a mode ("modes", "parts", "clusters")."""

    name: str
    reference: np.ndarray
    labels: np.ndarray
    mode_mass: np.ndarray
    tol: float
    mode_word: str
    kind: str  # "mixture" | "curve" | "drawn"
    sigma: float
    points: np.ndarray | None = None  # drawn points (kind "drawn")

    @property
    def n_modes(self) -> int:
        return int(len(self.mode_mass))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "mixture":
            centre = self.reference[rng.integers(0, len(self.reference), n)]
        elif self.kind == "curve":
            centre = _CURVES[self.name](rng.random(n))
        else:
            centre = self.points[rng.integers(0, len(self.points), n)]
        return (centre + rng.normal(0.0, self.sigma, (n, 2))).astype(np.float32)


def _mixture(name: str, centres: np.ndarray, sigma: float) -> PointData:
    k = len(centres)
    return PointData(name, centres.astype(np.float32), np.arange(k), np.full(k, 1.0 / k), 3 * sigma, "modes",
                     "mixture", sigma)


def ring(n_modes: int = RING_MODES, radius: float = RING_RADIUS, sigma: float = RING_SIGMA) -> PointData:
    angle = 2 * np.pi * np.arange(n_modes) / n_modes
    return _mixture("ring", radius * np.stack([np.cos(angle), np.sin(angle)], 1), sigma)


def grid(side: int = GRID_SIDE, sigma: float = GRID_SIGMA) -> PointData:
    axis = np.arange(side) - (side - 1) / 2
    xx, yy = np.meshgrid(axis, axis)
    return _mixture("grid", np.stack([xx.ravel(), yy.ravel()], 1), sigma)


def _moons(u: np.ndarray) -> np.ndarray:
    """u in [0, 1) -> points on the two moons (the first half of u the upper moon), centred, x1.5."""
    upper = u < 0.5
    t = np.pi * np.where(upper, 2 * u, 2 * u - 1)
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return 1.5 * np.stack([x - 0.5, y - 0.25], 1)


SPIRAL_START, SPIRAL_END, SPIRAL_RADIUS = 0.75 * np.pi, 3.5 * np.pi, 2.4
SPIRAL_SHIFT = np.array([0.33, 0.34])


def _spiral(u: np.ndarray) -> np.ndarray:
    """u in [0, 1) -> points on an Archimedean spiral (sqrt(u): about even density along it),
    shifted so that its bounding box is centred."""
    theta = SPIRAL_START + (SPIRAL_END - SPIRAL_START) * np.sqrt(u)
    r = SPIRAL_RADIUS * theta / SPIRAL_END
    return np.stack([r * np.cos(theta), r * np.sin(theta)], 1) + SPIRAL_SHIFT


_CURVES = {"moons": _moons, "spiral": _spiral}


def curve(name: str, sigma: float = CURVE_SIGMA, parts: int = CURVE_PARTS, m: int = 800) -> PointData:
    u = (np.arange(m) + 0.5) / m
    labels = np.minimum((u * parts).astype(int), parts - 1)  # equal-mass pieces along the curve
    return PointData(name, _CURVES[name](u).astype(np.float32), labels, np.full(parts, 1.0 / parts), 3 * sigma,
                     "parts", "curve", sigma)


def check_points(points) -> np.ndarray:
    """A drawn point cloud as float32 [N, 2], or ValueError with a reason fit for the person: N in
    [MIN_POINTS, MAX_POINTS], every coordinate a finite number inside [-VIEW, VIEW]."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("the points must be a list of (x, y) number pairs") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"the points must be (x, y) pairs, an array of shape (N, 2), not {arr.shape}")
    if not MIN_POINTS <= len(arr) <= MAX_POINTS:
        raise ValueError(f"draw between {MIN_POINTS} and {MAX_POINTS} points (got {len(arr)})")
    if not np.isfinite(arr).all():
        raise ValueError("every coordinate must be a finite number")
    if np.abs(arr).max() > VIEW:
        raise ValueError(f"every point must lie inside the view, [-{VIEW:g}, {VIEW:g}] on both axes")
    return arr.astype(np.float32)


def clusters(points: np.ndarray, link: float = LINK) -> np.ndarray:
    """Single-linkage cluster label [N] of each point (points chained by steps < link share one),
    labels 0..K-1 in order of first appearance. N <= MAX_POINTS: the N x N distances are small."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    d2 = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    _, labels = connected_components(csr_matrix(d2 < link * link), directed=False)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # relabel by first appearance
    return rank[inverse]


def drawn(points) -> PointData:
    pts = check_points(points)
    labels = clusters(pts)
    mass = np.bincount(labels).astype(np.float64) / len(pts)
    return PointData("drawn", pts, labels, mass, 3 * DRAWN_SIGMA, "clusters", "drawn", DRAWN_SIGMA, pts)


def make_dataset(name: str, points=None) -> PointData:
    """The dataset called `name` (a key of DATASETS); "drawn" needs `points` (see check_points)."""
    if name == "ring":
        return ring()
    if name == "grid":
        return grid()
    if name in _CURVES:
        return curve(name)
    if name == "drawn":
        if points is None or len(points) == 0:
            raise ValueError("there are no drawn points yet: click on the drawing pad to add some")
        return drawn(points)
    raise ValueError(f"unknown dataset {str(name)[:40]!r}; choose one of {', '.join(DATASETS)}")


def blob(x: float, y: float, rng: np.random.Generator, n: int = BLOB_POINTS, sigma: float = BLOB_SIGMA) -> np.ndarray:
    """`n` points scattered around (x, y) (what one click on the drawing pad adds), kept in the view."""
    pts = np.array([x, y]) + rng.normal(0.0, sigma, (n, 2))
    return np.clip(pts, -VIEW + 0.05, VIEW - 0.05).astype(np.float32)
