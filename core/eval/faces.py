"""Evaluate the faces GAN: FD_eff / KID_eff of generated samples against a folder of faces, and
how often the preset latent arithmetic gives the intended face (judged by our classifier)."""
from __future__ import annotations

from pathlib import Path

import torch

from ..checkpoint import is_checkpoint
from ..data.faces import FaceDataset
from ..metrics.distribution import DistributionMetrics
from ..metrics.features import EfficientNetFeatures
from ..pipelines.face_arithmetic import PRESETS, RECORD_DRAWS, FaceArithmetic, exemplar_rules
from ..pipelines.face_attributes import AttributeClassifier
from ..pipelines.faces import FacesPipeline
from ..registry import get_spec

COVERAGE_ATTRIBUTES = ("Male", "Eyeglasses", "Smiling", "Young", "Blond_Hair", "Black_Hair")


def evaluate(spec, data: Path, checkpoint: Path, precision: str = "fp32", limit: int | None = None,
             samples: int = 5000, batch_size: int = 250, seed: int = 0, draws: int = RECORD_DRAWS,
             classifier: Path | None = None, features: EfficientNetFeatures | None = None, split: str = "all",
             pool_size: int | None = None, **_) -> dict[str, float]:
    """FD_eff and KID_eff between `samples` generated faces (fixed seed) and the faces in `data`
    (cut and resized exactly like the training images; at most `limit` of them; `split` "val": only
    the registry's held-out part of the folder); then, when the
    attribute classifier is trained, attribute coverage (rate_real_X / rate_fake_X: the share of
    real and of generated faces the classifier calls X; a GAN that drops modes makes fewer men or
    glasses than the data holds) and arithmetic_success: the share of `draws` random exemplar
    triples per preset whose A - B + C face has the intended attributes (mean over presets)."""
    pipe = FacesPipeline.from_checkpoint(checkpoint, precision=precision)
    clf_dir = classifier or get_spec("face_attributes").checkpoint_dir
    clf = AttributeClassifier.from_checkpoint(clf_dir) if is_checkpoint(clf_dir) else None
    ds = eval_faces(spec, data, split)
    n_real = min(len(ds), limit) if limit else len(ds)
    dist = DistributionMetrics(features)
    probs = {"real": [], "fake": []}
    with torch.inference_mode():
        for start in range(0, n_real, batch_size):
            real = torch.stack([ds[i]["image"] for i in range(start, min(n_real, start + batch_size))])
            dist.add(real=real * 0.5 + 0.5)
            if clf is not None:
                probs["real"].append(clf.probabilities(real))
        gen = torch.Generator().manual_seed(seed)
        for start in range(0, samples, batch_size):
            z = torch.randn(min(batch_size, samples - start), pipe.z_dim, generator=gen)
            fake = pipe.decode(z)
            dist.add(fake=fake * 0.5 + 0.5)
            if clf is not None:
                probs["fake"].append(clf.probabilities(fake))
    out = {**dist.compute(), "n_fake": samples, "n_real": n_real, "features_precision": dist.features.precision}
    if clf is not None:
        for kind, chunks in probs.items():
            out.update({f"rate_{kind}_{n}": v for n, v in clf.shares(torch.cat(chunks), COVERAGE_ATTRIBUTES).items()})
        out.update(arithmetic(FaceArithmetic(pipe, clf, pool_size=pool_size, **exemplar_rules(spec.name)), draws, seed))
    return out


def eval_faces(spec, folder: Path, split: str = "all") -> FaceDataset:
    """The faces of `folder` cut and resized exactly as `spec` trains on them, un-augmented (`split`
    "val": only the registry's held-out part)."""
    opts = spec.data.options
    return FaceDataset(folder, augment=False, crop_fraction=opts.get("crop_fraction", 0.72),
                       center_y=opts.get("center_y", 0.55), split=split, holdout=opts.get("holdout", 0.1))


def arithmetic(arith: FaceArithmetic, draws: int = RECORD_DRAWS, seed: int = 0) -> dict[str, float]:
    """arithmetic_success (mean over presets) and one success_<result> per preset, plus the base
    rate: how often a random pool face already has the intended attributes. A preset whose
    exemplars cannot be found scores None (and so does the mean)."""
    out, rates = {}, []
    for preset in PRESETS.values():
        key = preset.result_label.replace(" ", "_")
        try:
            rate = arith.success_rate(preset, draws=draws, seed=seed)
        except LookupError as e:  # the classifier finds too few exemplars among the generated faces
            out[f"success_{key}"], out[f"error_{key}"] = None, str(e)
        else:
            rates.append(rate)
            out[f"success_{key}"] = rate
        out[f"base_rate_{key}"] = arith.base_rate(preset)
    out["arithmetic_success"] = sum(rates) / len(rates) if len(rates) == len(PRESETS) else None
    out["arithmetic_draws"] = draws
    # the exemplar rule the figures hold for (docs/RESULTS.md compares rules)
    out.update(arithmetic_pool=arith.pool_size, arithmetic_confident=arith.confident,
               arithmetic_latent_margin=arith.latent_margin)
    return out
