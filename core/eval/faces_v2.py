"""Evaluate faces v2 (a VAE-GAN, issue 17): the faces GAN's figures (FD_eff / KID_eff of samples,
coverage, arithmetic on the generated pool) plus what an encoder makes possible, on faces it never
saw: reconstruction (PSNR, the classifier's attribute agreement), walks between two encoded faces
(FD_eff of the midpoints against that of the endpoints), and the arithmetic with exemplars that
are real faces (encoded), labelled by the folder's attribute list or by the classifier."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..checkpoint import is_checkpoint
from ..data.faces import FaceDataset
from ..metrics.distribution import DistributionMetrics
from ..metrics.features import EfficientNetFeatures
from ..metrics.pixels import psnr
from ..pipelines.face_arithmetic import (CONFIDENT, PRESETS, RECORD_DRAWS, Concept, FaceArithmetic, exemplar_rules,
                                         fit_linear_probe)
from ..pipelines.face_attributes import REPORTED_ATTRIBUTES, AttributeClassifier
from ..pipelines.faces import INVERT_STEPS, FacesPipeline, slerp
from ..registry import get_spec
from . import faces

EXEMPLARS = 3  # faces per concept in an arithmetic draw, as in the pool's figures
# Real exemplars must also be typical along the latent's straight lines, as the pool's: their code lies this
# many logits on the concept's side of the pool's linear probe. 2 beat no probe on tuning draws (seed 1): 0.90 /
# 0.75 against 0.55 / 0.33 (smiling man / woman with glasses; 3 keeps too few men with glasses; docs/RESULTS.md).
REAL_LATENT_MARGIN = 2.0
REFINED = 100  # faces also inverted with the latent optimisation after the encoder (~1 s each on a CPU)


def evaluate(spec, data: Path | None, checkpoint: Path, precision: str = "fp32", limit: int | None = None,
             samples: int = 5000, seed: int = 0, draws: int = RECORD_DRAWS, classifier: Path | None = None,
             pool_size: int | None = None, **_) -> dict[str, float]:
    """All figures on `data` (a folder of faces), or without it on the registry's held-out faces
    (`pool_size`: generated faces behind the pool's arithmetic; default the tabs' POOL_SIZE)."""
    features = EfficientNetFeatures()
    folder, split = (data, "all") if data is not None else (spec.data.train, "val")
    out = faces.evaluate(spec, folder, checkpoint, precision=precision, limit=limit, samples=samples, seed=seed,
                         draws=draws, classifier=classifier, features=features, split=split,
                         pool_size=pool_size)
    pipe = FacesPipeline.from_checkpoint(checkpoint, precision=precision)
    clf_dir = classifier or get_spec("face_attributes").checkpoint_dir
    clf = AttributeClassifier.from_checkpoint(clf_dir) if is_checkpoint(clf_dir) else None
    ds = faces.eval_faces(spec, folder, split)
    n = min(len(ds), limit) if limit else len(ds)
    real = torch.stack([ds[i]["image"] for i in range(n)])
    u = pipe.encode(real)
    rec = pipe.decode(u)
    out.update(reconstruction(real, rec, clf))
    out.update(refined_reconstruction(pipe, real[:REFINED], clf))
    out.update(midpoints(pipe, u, real, features))
    out.update(prior_ablation(pipe, real, features, seed))
    if clf is not None:
        labels = folder_labels(ds, n, clf, real)
        arith = FaceArithmetic(pipe, clf, pool_size=pool_size, **exemplar_rules(spec.name))
        out.update({f"{k}_real": v for k, v in real_arithmetic(arith, u, labels, draws, seed).items()})
    return out


def reconstruction(real: torch.Tensor, rec: torch.Tensor, clf: AttributeClassifier | None) -> dict[str, float]:
    """Faces and their reconstructions [N, 3, 64, 64] in [-1, 1] -> PSNR (dB, on [0, 1], mean over
    faces) and, with a classifier, attribute agreement: the share of (face, reported attribute)
    where photo and reconstruction fall on the same side of 0.5 (and per attribute)."""
    out = {"rec_psnr": float(psnr(real, rec, data_range=2.0).mean()), "rec_n": len(real)}
    if clf is not None:
        names = [a for a in REPORTED_ATTRIBUTES if a in clf.names]
        cols = [clf.index(a) for a in names]
        same = (clf.probabilities(real)[:, cols] > 0.5) == (clf.probabilities(rec)[:, cols] > 0.5)
        out["rec_attribute_agreement"] = float(same.float().mean())
        out.update({f"rec_agreement_{a}": float(same[:, i].float().mean()) for i, a in enumerate(names)})
    return out


def refined_reconstruction(pipe: FacesPipeline, real: torch.Tensor, clf: AttributeClassifier | None,
                           steps: int = INVERT_STEPS) -> dict[str, float]:
    """The tabs' inversion (encoder, then `steps` of latent optimisation: FacesPipeline.invert) of
    faces [N, 3, 64, 64]: reconstruction's figures as `reconstruction`, keys rec_refined_*."""
    u = torch.stack([pipe.invert(face[None], steps)[0] for face in real])
    figures = reconstruction(real, pipe.decode(u), clf)
    return {k.replace("rec_", "rec_refined_", 1): v for k, v in figures.items()
            if k in ("rec_psnr", "rec_n", "rec_attribute_agreement")}


def prior_ablation(pipe: FacesPipeline, real: torch.Tensor, features, seed: int = 0) -> dict[str, float]:
    """Why P (the code Gaussian fitted after training): FD_eff against the real faces of as many
    samples decoded from P as from the VAE's nominal prior N(0, I) fed to G directly."""
    gen = torch.Generator().manual_seed(seed + 1)
    u = torch.randn(len(real), pipe.z_dim, generator=gen)
    out = {}
    for name, code in (("fitted", pipe._codes), ("standard", lambda z: z.to(pipe.device, pipe.dtype))):
        dist = DistributionMetrics(features)
        dist.add(real=real * 0.5 + 0.5)
        with torch.inference_mode():
            fake = torch.cat([pipe.G(code(chunk)).float().cpu() for chunk in u.split(256)])
        dist.add(fake=fake.clamp(-1, 1) * 0.5 + 0.5)
        out[f"prior_fd_{name}"] = dist.compute()["fd_eff"]
    return out


def midpoints(pipe: FacesPipeline, u: torch.Tensor, real: torch.Tensor, features) -> dict[str, float]:
    """Walks between encoded faces stay faces: pairs (i, i + N/2); FD_eff against the real faces of
    the N/2 midpoints (slerp, the tabs' walk) and of N/2 endpoints (equal counts); ratio <= 1.2 is
    the goal."""
    half = len(u) // 2
    a, b = u[:half], u[half:2 * half]
    mids = torch.stack([slerp(x, y, 0.5) for x, y in zip(a, b)])
    figures = {}
    for name, z in (("endpoints", a), ("midpoints", mids)):
        dist = DistributionMetrics(features)
        dist.add(real=real * 0.5 + 0.5)
        dist.add(fake=pipe.decode(z) * 0.5 + 0.5)
        figures[name] = dist.compute()["fd_eff"]
    return {"walk_fd_endpoints": figures["endpoints"], "walk_fd_midpoints": figures["midpoints"],
            "walk_midpoint_ratio": figures["midpoints"] / figures["endpoints"], "walk_pairs": half}


def folder_labels(ds: FaceDataset, n: int, clf: AttributeClassifier, real: torch.Tensor) -> dict[str, torch.Tensor]:
    """Attribute -> [n] labels of the eval faces in {1, 0, -1 (unsure)}: the folder's attribute list
    for the faces it lists, else the classifier when confident (p >= CONFIDENT or <= 1 - CONFIDENT)."""
    probs = clf.probabilities(real)
    names = sorted({a for p in PRESETS.values() for c in (p.A, p.B, p.C) for a, _ in c.attrs})
    table_names, table = ds.names, ds.table
    out = {}
    for a in names:
        p = probs[:, clf.index(a)]
        lab = torch.where(p >= CONFIDENT, 1, torch.where(p <= 1 - CONFIDENT, 0, -1))
        if a in table_names:
            col = table_names.index(a)
            for i in range(n):
                row = table.get(ds.files[i].name)
                if row is not None:
                    lab[i] = int(row[col])
        out[a] = lab
    return out


def real_arithmetic(arith: FaceArithmetic, u: torch.Tensor, labels: dict[str, torch.Tensor], draws: int,
                    seed: int, latent_margin: float = REAL_LATENT_MARGIN) -> dict[str, float]:
    """The presets with exemplars drawn from real faces (encoded, u [N, D]): labelled so, and with the
    code `latent_margin` logits on the concept's side of a linear probe fitted on the generated pool
    (all labelled ones when fewer than EXEMPLARS pass). arithmetic_success (mean over presets) and
    success_<result> per preset; None when a concept has fewer than EXEMPLARS faces."""
    rng = np.random.default_rng(seed)
    probes: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    out, rates = {}, []
    for preset in PRESETS.values():
        key = preset.result_label.replace(" ", "_")
        members = {k: _typical(_members(c, labels), c, u, arith, probes, latent_margin)
                   for k, c in (("A", preset.A), ("B", preset.B), ("C", preset.C))}
        if min(len(m) for m in members.values()) < EXEMPLARS:
            out[f"success_{key}"] = None
            continue
        results = []
        for _ in range(draws):
            ex = {k: u[m[rng.choice(len(m), EXEMPLARS, replace=False)]] for k, m in members.items()}
            results.append(arith.combine(ex).result)
        rate = float(arith.satisfied(arith.judge(torch.stack(results)), preset.expect).float().mean())
        out[f"success_{key}"] = rate
        rates.append(rate)
        out.update({f"exemplars_{key}_{k}": len(m) for k, m in members.items()})
    out["arithmetic_success"] = sum(rates) / len(rates) if len(rates) == len(PRESETS) else None
    out["latent_margin"] = latent_margin
    return out


def _typical(members: torch.Tensor, concept: Concept, u: torch.Tensor, arith: FaceArithmetic,
             probes: dict[str, tuple[torch.Tensor, torch.Tensor]], margin: float) -> torch.Tensor:
    """The members whose code lies `margin` logits on the concept's side of each of its attributes'
    probes (fitted once on the pool: z -> the classifier's label); all of them when too few pass."""
    if margin <= 0:
        return members
    keep = torch.ones(len(members), dtype=torch.bool)
    for name, wanted in concept.attrs:
        if name not in probes:
            probes[name] = fit_linear_probe(arith.pool.z, (arith.pool.probs[:, arith.classifier.index(name)] > 0.5).float())
        w, b = probes[name]
        logit = u[members].float() @ w + b
        keep &= (logit >= margin) if wanted else (logit <= -margin)
    return members[keep] if int(keep.sum()) >= EXEMPLARS else members


def _members(concept: Concept, labels: dict[str, torch.Tensor]) -> torch.Tensor:
    keep = torch.ones(len(next(iter(labels.values()))), dtype=torch.bool)
    for name, wanted in concept.attrs:
        keep &= labels[name] == int(wanted)
    return keep.nonzero().flatten()
