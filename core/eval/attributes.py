"""Evaluate the face attribute classifier: accuracy per attribute on the held-out labelled part."""
from __future__ import annotations

from pathlib import Path

import kornia
import torch

from ..data.faces import FaceDataset
from ..pipelines.face_attributes import REPORTED_ATTRIBUTES, AttributeClassifier


def degraded(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A fixed stand-in for a generated face's flaws: Gaussian blur (sigma 1) and noise (std 0.05).
    Images [N, 3, H, W] in [-1, 1] -> the same, degraded."""
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed)) * 0.1  # 0.05 in [0, 1]
    return (kornia.filters.gaussian_blur2d(images, (5, 5), (1.0, 1.0)) + noise).clamp(-1, 1)


def low_res(images: torch.Tensor, side: int = 32) -> torch.Tensor:
    """Detail lost another way (not among the training degradations): down to `side` px and back."""
    small = torch.nn.functional.interpolate(images, size=side, mode="area")
    return torch.nn.functional.interpolate(small, size=images.shape[-1], mode="bilinear", align_corners=False)


REPORTED = REPORTED_ATTRIBUTES


def evaluate(spec, data: Path, checkpoint: Path, limit: int | None = None, batch_size: int = 256,
             attributes: Path | None = None, **_) -> dict[str, float]:
    """`data` is the image folder; labels come from the registry's attribute file (or
    `attributes`). Returns accuracy_<name> for every attribute, the mean, and the majority-class
    baseline of each reported attribute (to show the classifier beats guessing), and the accuracy
    of each reported attribute on the same faces blurred and noised (`degraded`) and at half
    resolution (`lowres`): how far the judge of generated faces, which are blurrier than photos,
    can be trusted."""
    clf = AttributeClassifier.from_checkpoint(checkpoint)
    opts = spec.data.options
    ds = FaceDataset(data, attr_file=attributes or opts["attributes"], augment=False, labelled_only=True,
                     split="val", holdout=opts.get("holdout", 0.1))
    if clf.names != ds.names:
        raise ValueError("the classifier's attribute names differ from the attribute file's")
    n = min(len(ds), limit) if limit else len(ds)
    # The same faces seen three ways: as they are, blurred + noised (seeded per batch), half-res.
    views = {"": lambda x, start: x, "degraded_": degraded, "lowres_": lambda x, start: low_res(x)}
    correct = {view: torch.zeros(len(ds.names)) for view in views}
    positives = torch.zeros(len(ds.names))
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            items = [ds[i] for i in range(start, min(n, start + batch_size))]
            y = torch.stack([it["attrs"] for it in items])
            x = torch.stack([it["image"] for it in items])
            for view, see in views.items():
                correct[view] += ((clf.probabilities(see(x, start)) > 0.5).float() == y).float().sum(0)
            positives += y.sum(0)
    acc = {view: c / n for view, c in correct.items()}
    out = {f"accuracy_{name}": round(float(a), 4) for name, a in zip(ds.names, acc[""])}
    out["accuracy_mean"] = round(float(acc[""].mean()), 4)
    reported = [ds.names.index(name) for name in REPORTED if name in ds.names]
    for i in reported:
        p = float(positives[i] / n)
        out[f"majority_baseline_{ds.names[i]}"] = round(max(p, 1 - p), 4)
        for view in ("degraded_", "lowres_"):
            out[f"accuracy_{view}{ds.names[i]}"] = round(float(acc[view][i]), 4)
    if reported:
        for view in views:
            out[f"accuracy_{view}reported_mean"] = round(float(acc[view][reported].mean()), 4)
    out["n"] = n
    return out
