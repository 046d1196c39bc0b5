"""Evaluate inpainting: ours, the biharmonic baseline and the faces GAN's prior, on centre squares and
on a fixed seeded set of free-form holes (core.data.masks.eval_mask), through the pipeline's own
methods (the tab's path: prepare, fill, composite).

Faces are cut as for training (the faces GAN's crop, at the model size); by default the registry's
held-out split (the last 10 % of the sorted CelebA files, never trained on). The faces GAN itself was
trained on all 9,000 faces, so for the prior these faces are not unseen.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.faces import FaceDataset
from ..data.images import pil_to_tensor
from ..data.masks import MASK_KINDS, eval_mask
from ..metrics.distribution import DistributionMetrics
from ..metrics.features import EfficientNetFeatures
from ..metrics.masked import hole_psnr, hole_ssim
from ..pipelines import faces as faces_pipeline
from ..pipelines.gan_prior import RESTARTS, STEPS
from ..pipelines.inpainting import InpaintingPipeline, Prepared

METHODS = ("ours", "baseline", "prior")
PREFIX = {"ours": "", "baseline": "baseline_", "prior": "prior_"}


def eval_faces(spec, data: Path | None, size: int) -> FaceDataset:
    """The faces of DIR (all of them), or the registry's held-out split, un-augmented, at `size`."""
    opts = spec.data.options
    return FaceDataset(Path(data) if data is not None else spec.data.train, image_size=size, augment=False,
                       crop_fraction=opts["crop_fraction"], center_y=opts["center_y"],
                       split="all" if data is not None else "val", holdout=opts.get("holdout", 0.1))


def evenly(n_items: int, n: int | None) -> list[int]:
    """n indices evenly spaced through range(n_items) (all of them when n is None or larger)."""
    if n is None or n >= n_items:
        return list(range(n_items))
    return torch.linspace(0, n_items - 1, n).round().long().tolist()


def masked_case(pipe: InpaintingPipeline, ds: FaceDataset, i: int, kind: str) -> tuple[Prepared, torch.Tensor]:
    """Face i with its evaluation hole: (Prepared, truth [1, 3, s, s] in [0, 1])."""
    truth = ds[i]["image"][None] * 0.5 + 0.5
    pixels = (truth[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    return pipe.prepare(Image.fromarray(pixels), eval_mask(kind, pipe.image_size, i)), truth


def _scores(fill_image: Image.Image, truth: torch.Tensor, prepared: Prepared) -> tuple[torch.Tensor, float, float]:
    out = pil_to_tensor(fill_image)[None]
    hole = torch.from_numpy(prepared.hole)[None, None].float()
    return out, float(hole_psnr(out, truth, hole)), float(hole_ssim(out, truth, hole))


def evaluate(spec, data: Path | None, checkpoint: Path, precision: str = "bf16", limit: int | None = None,
             prior_limit: int = 200, prior_steps: int = STEPS, prior_restarts: int = RESTARTS, batch_size: int = 50,
             features: EfficientNetFeatures | None = None, run_prior: bool = True, **_) -> dict:
    """Per mask kind ("center", "free"), for ours (no prefix), baseline_ and prior_:
    hole_psnr, hole_ssim (inside the hole, mean over faces), fd_eff / kid_eff (the completed faces
    against the true ones, EfficientNet-Lite0 features) and ms_per_fill (the method's wall clock,
    compositing included; the prior per face of a batch of up to batch_size faces). n faces
    (`limit`: evenly spaced); the prior runs on prior_n <= prior_limit of them (evenly spaced, it
    takes seconds a face), so its fd_eff is over fewer faces and FD grows as n shrinks: ours and the
    baseline's fd_eff / kid_eff on the same faces are given as *_prior_subset for comparison.
    hole_share: the mean share of the face in the hole. gain_center_db: ours - baseline hole PSNR on
    centre squares (the issue's goal: >= 3). Without the faces GAN, or with run_prior False (the
    prior's figures do not depend on our net), the prior_ keys are None; the *_prior_subset ones
    are still given."""
    pipe = InpaintingPipeline.from_checkpoint(checkpoint, precision=precision)
    feats = features or EfficientNetFeatures(precision=precision)
    ds = eval_faces(spec, data, pipe.image_size)
    order = evenly(len(ds), limit)
    prior_set = set(np.array(order)[evenly(len(order), prior_limit)].tolist())
    has_prior = run_prior and faces_pipeline.has_checkpoint()
    out = {}
    for kind in MASK_KINDS:
        sums: dict[str, float] = {}
        dists = {m: DistributionMetrics(feats) for m in (*METHODS, "ours_sub", "baseline_sub")}
        for start in range(0, len(order), batch_size):
            cases = [(i, *masked_case(pipe, ds, i, kind)) for i in order[start:start + batch_size]]
            fills = {"ours": [pipe.fill(p) for _, p, _ in cases], "baseline": [pipe.baseline(p) for _, p, _ in cases]}
            sub = [k for k, (i, _, _) in enumerate(cases) if i in prior_set]
            if has_prior and sub:
                prior = pipe.prior_batch([cases[k][1] for k in sub], steps=prior_steps, restarts=prior_restarts)
                fills["prior"] = dict(zip(sub, prior))
            truths = torch.cat([t for _, _, t in cases])
            real = feats(truths)
            for method, method_fills in fills.items():
                keys = method_fills.keys() if isinstance(method_fills, dict) else range(len(cases))
                images = []
                for k in keys:
                    _, prepared, truth = cases[k]
                    image, p, s = _scores(method_fills[k].image, truth, prepared)
                    images.append(image)
                    for name, v in (("hole_psnr", p), ("hole_ssim", s), ("seconds", method_fills[k].seconds)):
                        sums[f"{method}/{name}"] = sums.get(f"{method}/{name}", 0.0) + v
                    sums[f"{method}/n"] = sums.get(f"{method}/n", 0) + 1
                idx = torch.tensor(list(keys))
                fake = feats(torch.cat(images))
                dists[method].add_features(real=real[idx], fake=fake)
                if method in ("ours", "baseline") and sub:
                    dists[f"{method}_sub"].add_features(real=real[sub], fake=fake[sub])
            sums["hole_share"] = sums.get("hole_share", 0.0) + sum(float(p.hole.mean()) for _, p, _ in cases)
            sums["subset_n"] = sums.get("subset_n", 0) + len(sub)
        out[kind] = _summary(sums, dists, len(order))
    centre = out["center"]
    return {**out, "gain_center_db": round(centre["hole_psnr"] - centre["baseline_hole_psnr"], 3),
            "n": len(order), "size": pipe.image_size, "prior_steps": prior_steps, "prior_restarts": prior_restarts,
            "features_precision": feats.precision}


def _summary(sums: dict[str, float], dists: dict[str, DistributionMetrics], n: int) -> dict:
    """The per-kind JSON: means, distribution figures, counts (None for a method that did not run)."""
    res: dict = {"n": n, "hole_share": round(sums["hole_share"] / n, 4)}
    for method in METHODS:
        p, count = PREFIX[method], sums.get(f"{method}/n", 0)
        if not count:
            res.update({f"{p}{k}": None for k in ("hole_psnr", "hole_ssim", "fd_eff", "kid_eff", "ms_per_fill")})
            continue
        dist = dists[method].compute()
        res.update({f"{p}hole_psnr": round(sums[f"{method}/hole_psnr"] / count, 3),
                    f"{p}hole_ssim": round(sums[f"{method}/hole_ssim"] / count, 4),
                    f"{p}fd_eff": round(dist["fd_eff"], 3), f"{p}kid_eff": round(dist.get("kid_eff", float("nan")), 5),
                    f"{p}ms_per_fill": round(1000 * sums[f"{method}/seconds"] / count, 1)})
    res["prior_n"] = sums.get("prior/n", 0)
    if 0 < sums.get("subset_n", 0) < n:
        for method in ("ours", "baseline"):
            dist = dists[f"{method}_sub"].compute()
            res[f"{PREFIX[method]}fd_eff_prior_subset"] = round(dist["fd_eff"], 3)
            res[f"{PREFIX[method]}kid_eff_prior_subset"] = round(dist.get("kid_eff", float("nan")), 5)
    return res


__all__ = ["METHODS", "eval_faces", "evaluate", "evenly", "masked_case"]
