"""Lab colour for colorization (Zhang, Isola & Efros 2016; Zhang et al. 2017): conversions,
quantised ab bins, class rebalancing and colour hints.

Every conversion goes through kornia (`kornia.color.rgb_to_lab` / `lab_to_rgb`, sRGB D65). The
nets see normalised values:
- L in [-1, 1]: L / 50 - 1 (L in [0, 100]);
- ab in about [-1, 1]: ab / AB_SCALE (the sRGB gamut spans a in [-86, 98], b in [-108, 94]).
Bins are the points of a grid of BIN_SIZE ab units (Zhang: 10) that hold some sRGB colour; they are
kept in ab units (whole numbers, exact in a checkpoint's fp16 or as integers).
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F


@functools.cache
def _kornia_color():
    """kornia's colour module, imported on first use: importing kornia costs ~0.3 s, which the
    app's cold start (every tab's pipeline imported at launch) should not pay before a photo comes."""
    import kornia.color

    return kornia.color


AB_SCALE = 110.0  # ab units per unit of the nets' normalised ab
BIN_SIZE = 10  # ab units between bin centres (Zhang et al. 2016)
GAMUT_LEVELS = 64  # levels per RGB channel sampled to find the in-gamut bins
HINT_CHANNELS = 3  # a, b (normalised, the patch's mean colour) and a 0/1 mask
RGB_HINT_CHANNELS = 4  # sketch -> photo's hints: R, G, B in [-1, 1] and a 0/1 mask (sample_hints on a photo)


# ---- conversions ---------------------------------------------------------------------------
def rgb_to_lab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB [B, 3, H, W] in [0, 1] -> (L [B, 1, H, W] in [-1, 1], ab [B, 2, H, W] normalised)."""
    lab = _kornia_color().rgb_to_lab(rgb.float().clamp(0, 1))
    return lab[:, :1] / 50.0 - 1.0, lab[:, 1:] / AB_SCALE


def lab_to_rgb(L: torch.Tensor, ab: torch.Tensor, iterations: int = 4) -> torch.Tensor:
    """(L [B, 1, H, W] in [-1, 1], ab [B, 2, H, W] normalised) -> RGB [B, 3, H, W] in [0, 1].

    A colour outside the sRGB gamut is not clipped per channel (that changes its lightness: a dark
    pixel given a vivid ab would come out brighter); its chroma is reduced (ab scaled towards grey,
    hue kept) by bisection until it fits, so the output keeps the photo's L. Only those pixels are
    converted again, `iterations` times (the scale is found to 1 / 2**iterations).
    """
    lab = torch.cat([(L.float() + 1.0) * 50.0, ab.float() * AB_SCALE], 1)
    rgb = _kornia_color().lab_to_rgb(lab, clip=False)
    bad = _out_of_gamut(rgb, dim=1)  # [B, H, W]
    if bad.any():
        rgb = rgb.permute(0, 2, 3, 1).clone()  # [B, H, W, 3]
        rgb[bad] = _fit_chroma(lab.permute(0, 2, 3, 1)[bad], iterations)
        rgb = rgb.permute(0, 3, 1, 2)
    return rgb.clamp(0, 1)


def _fit_chroma(lab: torch.Tensor, iterations: int) -> torch.Tensor:
    """Out-of-gamut Lab colours [N, 3] (units) -> sRGB [N, 3] of the same L and hue with the
    largest chroma scale in [0, 1) that fits (bisection; grey, scale 0, always fits)."""
    lo, hi = torch.zeros(len(lab), device=lab.device), torch.ones(len(lab), device=lab.device)
    out = torch.zeros_like(lab)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        trial = _convert(lab, mid)
        ok = ~_out_of_gamut(trial, dim=1)
        out[ok] = trial[ok]
        lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
    never = lo == 0  # no trial fitted: near black or white, where only grey does
    if never.any():
        out[never] = _convert(lab[never], torch.zeros(int(never.sum()), device=lab.device))
    return out


def _convert(lab: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """Lab [N, 3] with ab scaled by chroma [N] -> unclipped sRGB [N, 3] (kornia, as a [1, 3, N, 1] image)."""
    scaled = torch.cat([lab[:, :1], lab[:, 1:] * chroma[:, None]], 1)
    return _kornia_color().lab_to_rgb(scaled.T[None, :, :, None], clip=False)[0, :, :, 0].T


def _out_of_gamut(rgb: torch.Tensor, dim: int, tol: float = 1e-3) -> torch.Tensor:
    """Unclipped sRGB values -> bool, `dim` (the channels) reduced: some channel outside [0, 1]."""
    return ((rgb < -tol) | (rgb > 1 + tol)).any(dim)


def gray_rgb(L: torch.Tensor) -> torch.Tensor:
    """L [B, 1, H, W] in [-1, 1] -> the grey RGB picture [B, 3, H, W] in [0, 1] (ab = 0)."""
    return lab_to_rgb(L, torch.zeros_like(L).expand(-1, 2, -1, -1))


def ab_of_colour(rgb: tuple[int, int, int]) -> tuple[float, float]:
    """An 8-bit (r, g, b) colour -> its normalised (a, b)."""
    x = torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1) / 255.0
    _, ab = rgb_to_lab(x)
    return float(ab[0, 0, 0, 0]), float(ab[0, 1, 0, 0])


# ---- bins ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def gamut_bins(levels: int = GAMUT_LEVELS) -> torch.Tensor:
    """Centres [Q, 2] (int64, ab units, multiples of BIN_SIZE) of the bins that hold an sRGB colour:
    RGB sampled at `levels` per channel, converted, rounded to the grid. Q = 261 for 64 levels
    (Zhang's 313 came from ImageNet's pixels with another converter; the count is not critical)."""
    v = torch.linspace(0, 1, levels)
    rgb = torch.stack(torch.meshgrid(v, v, v, indexing="ij")).reshape(1, 3, -1, 1)
    ab = _kornia_color().rgb_to_lab(rgb)[0, 1:, :, 0]
    grid = torch.round(ab / BIN_SIZE).long().T
    return torch.unique(grid, dim=0) * BIN_SIZE


CANDIDATES = 24  # bins searched per grid cell by soft_encode (21 lie within 22.4 units of a grid point)


class BinLookup:
    """Nearest bins for ab values by tables over the grid (O(1) per pixel).

    centres [Q, 2] in ab units. `table`: each grid cell's nearest bin (cells outside the gamut map
    to their nearest in-gamut bin); `candidates`: each cell's CANDIDATES nearest bins."""

    def __init__(self, centres: torch.Tensor):
        self.centres = centres.float()
        lo = int(self.centres.min()) - BIN_SIZE
        hi = int(self.centres.max()) + BIN_SIZE
        self.lo, self.n = lo, (hi - lo) // BIN_SIZE + 1
        axis = torch.arange(self.n, dtype=torch.float32) * BIN_SIZE + lo
        cells = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
        order = torch.cdist(cells, self.centres).argsort(1)  # [n * n, Q]
        self.table, self.candidates = order[:, 0], order[:, :min(CANDIDATES, len(centres))]

    def cell(self, ab_units: torch.Tensor) -> torch.Tensor:
        """ab [..., 2] in ab units -> grid cell index [...] (int64; outside the table: its edge)."""
        c = torch.round((ab_units.float() - self.lo) / BIN_SIZE).long().clamp(0, self.n - 1)
        return c[..., 0] * self.n + c[..., 1]

    def __call__(self, ab_units: torch.Tensor) -> torch.Tensor:
        """ab [..., 2] in ab units -> nearest bin index [...] (int64)."""
        return self.table.to(ab_units.device)[self.cell(ab_units)]


def soft_encode(ab: torch.Tensor, lookup: "BinLookup", k: int = 5, sigma: float = 5.0
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Zhang's soft target: each pixel's k nearest bins, weighted by a Gaussian (sigma, ab units)
    of the distance. ab [N, 2] normalised -> (bins [N, k] int64, nearest first; weights [N, k]
    summing to 1). Only the grid cell's CANDIDATES nearest bins are searched (exact inside the
    gamut, where the 5 nearest of a point lie within 22.4 units of its cell's centre)."""
    pts = ab.float() * AB_SCALE
    cand = lookup.candidates.to(pts.device)[lookup.cell(pts)]  # [N, CANDIDATES]
    dist = (pts[:, None, :] - lookup.centres.to(pts.device)[cand]).square().sum(-1)  # squared, [N, C]
    d2, j = dist.topk(k, dim=1, largest=False)
    weights = torch.softmax(-d2 / (2 * sigma ** 2), dim=1)  # = normalised Gaussian weights
    return cand.gather(1, j), weights


def bin_histogram(ab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Share of the pixels of ab [B, 2, H, W] (normalised) in each bin -> [Q] summing to 1."""
    idx = BinLookup(centres)(ab.permute(0, 2, 3, 1) * AB_SCALE)
    counts = torch.bincount(idx.flatten(), minlength=len(centres)).double()
    return (counts / counts.sum().clamp_min(1)).float()


def smooth_distribution(p: torch.Tensor, centres: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """p [Q] convolved with a Gaussian of `sigma` ab units over the bin centres, renormalised."""
    if sigma <= 0:
        return p / p.sum()
    c = centres.float()
    kernel = torch.exp(-torch.cdist(c, c) ** 2 / (2 * sigma ** 2))
    q = kernel @ p.float()
    return q / q.sum()


def rebalance_weights(p_smooth: torch.Tensor, lam: float = 0.5) -> torch.Tensor:
    """Zhang's class rebalancing: w ~ 1 / ((1 - lam) p~ + lam / Q), scaled so that the expected
    weight under p~ is 1 (rare colours weigh more; lam = 1 gives all ones). [Q] -> [Q]."""
    q = len(p_smooth)
    w = 1.0 / ((1 - lam) * p_smooth + lam / q)
    return w / (p_smooth * w).sum()


# ---- hints --------------------------------------------------------------------------------------
def hint_counts(n: int, p: float = 1 / 8, free_share: float = 0.5, max_hints: int = 64,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Number of hints per item [n] (int64): 0 for a `free_share` of the items (the net must also
    colorize alone), else 1 + Geometric(p) (Zhang et al. 2017: p = 1/8), capped at max_hints."""
    u = torch.rand(n, generator=generator).clamp_min(1e-12)
    # Inverse CDF of the geometric distribution (failures before the first success), with a generator.
    k = 1 + torch.floor(torch.log(u) / torch.log1p(torch.tensor(-p))).long() if p < 1 else torch.ones(n).long()
    free = torch.rand(n, generator=generator) < free_share
    return torch.where(free, torch.zeros_like(k), k.clamp(max=max_hints))


def sample_hints(values: torch.Tensor, counts: torch.Tensor, max_size: int = 5,
                 generator: torch.Generator | None = None, min_size: int = 1,
                 where: torch.Tensor | None = None) -> torch.Tensor:
    """Hints from the true colours: for item i, counts[i] square patches of side min_size..max_size
    px, each filled with the patch's mean true colour, plus a mask. Patches sit at uniform positions,
    or, with `where` [B, H, W] bool, centred on uniformly drawn True pixels (e.g. the object, not the
    paper; an item with no True pixel gets none).
    values [B, C, H, W] (ab normalised, or RGB in [-1, 1]) -> hint map [B, C + 1, H, W] (the colour
    channels, then the mask in {0, 1}; zero where there is no hint)."""
    b, c, h, w = values.shape
    hints = torch.zeros(b, c + 1, h, w, device=values.device)
    for i in range(b):
        spots = where[i].nonzero().cpu() if where is not None else None
        for _ in range(int(counts[i])):
            s = min(int(torch.randint(min_size, max_size + 1, (), generator=generator)), h, w)
            if spots is None:
                y = int(torch.randint(0, h - s + 1, (), generator=generator))
                x = int(torch.randint(0, w - s + 1, (), generator=generator))
            elif len(spots):
                cy, cx = spots[int(torch.randint(0, len(spots), (), generator=generator))].tolist()
                y, x = min(max(cy - s // 2, 0), h - s), min(max(cx - s // 2, 0), w - s)
            else:
                break
            mean = values[i, :, y:y + s, x:x + s].float().mean(dim=(1, 2))
            hints[i, :c, y:y + s, x:x + s] = mean[:, None, None]
            hints[i, c, y:y + s, x:x + s] = 1.0
    return hints


def sample_washes(photo: torch.Tensor, where: torch.Tensor, generator: torch.Generator | None = None,
                  whole_share: float = 0.5, flat_share: float = 0.4, cell: int = 16, max_strokes: int = 4
                  ) -> torch.Tensor:
    """Dense hints, as a person paints them: colour washed over the object, not a few dots (a net
    fine-tuned on dots learned light and dark from them, not hue). Per item the washed region is the
    whole object (`whole_share` of the items) or 1..max_strokes thick brush strokes on it, and its
    colour the object's coarse colour layout (its mean over `cell`-px cells, bilinear) or, for a
    `flat_share`, its one mean colour ("make it red").
    photo [B, C, H, W] (RGB in [-1, 1]), where [B, H, W] bool (the object) -> [B, C + 1, H, W]
    (the colour, then the 0/1 mask; zero where there is no hint; an item with no object gets none)."""
    b, c, h, w = photo.shape
    m = where[:, None].to(photo.device, torch.float32)
    x = photo.float() * m
    mean = x.sum((2, 3)) / m.sum((2, 3)).clamp_min(1.0)  # [B, C], the object's mean colour
    cells = F.avg_pool2d(m, cell, ceil_mode=True)
    coarse = torch.where(cells > 0, F.avg_pool2d(x, cell, ceil_mode=True) / cells.clamp_min(1e-6),
                         mean[:, :, None, None])
    layout = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    flat = (torch.rand(b, generator=generator) < flat_share).to(photo.device)[:, None, None, None]
    paint = torch.where(flat, mean[:, :, None, None].expand_as(layout), layout)
    whole = (torch.rand(b, generator=generator) < whole_share).tolist()
    region = torch.zeros(b, h, w, dtype=torch.bool, device=photo.device)
    for i in range(b):
        region[i] = True if whole[i] else _brush_strokes(where[i], max_strokes, generator)
    region &= where.to(photo.device)
    return torch.cat([paint * region[:, None], region[:, None].float()], 1)


def _brush_strokes(where: torch.Tensor, max_strokes: int, generator: torch.Generator | None) -> torch.Tensor:
    """1..max_strokes straight strokes (capsules: a segment and a radius) starting on uniformly drawn
    True pixels of where [H, W] -> [H, W] bool. Sizes scale with the picture (at 128 px: radius 3-12
    px, length up to 48 px)."""
    h, w = where.shape
    spots = where.nonzero().cpu()
    out = torch.zeros(h, w, dtype=torch.bool)
    if not len(spots):
        return out.to(where.device)
    scale = min(h, w) / 128
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    for _ in range(int(torch.randint(1, max_strokes + 1, (), generator=generator))):
        p = spots[int(torch.randint(0, len(spots), (), generator=generator))].float()
        q = p + (torch.rand(2, generator=generator) * 2 - 1) * 48 * scale
        r = (3 + 9 * float(torch.rand((), generator=generator))) * scale
        d = q - p
        t = (((ys - p[0]) * d[0] + (xs - p[1]) * d[1]) / d.square().sum().clamp_min(1e-6)).clamp(0, 1)
        out |= (ys - p[0] - t * d[0]).square() + (xs - p[1] - t * d[1]).square() <= r * r
    return out.to(where.device)


def on_object(photo: torch.Tensor, paper: float = 0.85) -> torch.Tensor:
    """Where a product photo shows the object, not the white paper around it: photo [B, 3, H, W] in
    [-1, 1] -> [B, H, W] bool, True where some channel is below `paper` (on the [0, 1] scale). Hints
    for sketch -> photo sit there."""
    return (photo.float() * 0.5 + 0.5 < paper).any(1)


def place_hints(points: list[tuple[float, float, float, float]], height: int, width: int,
                size: int = 3) -> torch.Tensor:
    """User hints -> hint map [1, 3, height, width]: each (y, x, a, b) (pixel position in this
    map, normalised ab) becomes a size x size patch centred there, clipped to the map."""
    hints = torch.zeros(1, HINT_CHANNELS, height, width)
    r = size // 2
    for y, x, a, b in points:
        cy, cx = min(max(int(round(y)), 0), height - 1), min(max(int(round(x)), 0), width - 1)
        ys, xs = slice(max(cy - r, 0), cy + size - r), slice(max(cx - r, 0), cx + size - r)
        hints[0, 0, ys, xs], hints[0, 1, ys, xs], hints[0, 2, ys, xs] = a, b, 1.0
    return hints


def upsample_ab(ab: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """ab [B, 2, h, w] -> [B, 2, height, width] (bilinear: colour is low-frequency)."""
    if ab.shape[-2:] == (height, width):
        return ab
    return F.interpolate(ab.float(), size=(height, width), mode="bilinear", align_corners=False)
