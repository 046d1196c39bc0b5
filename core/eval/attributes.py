"""Evaluate the face attribute classifier: accuracy per attribute on the held-out labelled part."""
from __future__ import annotations

from pathlib import Path

import kornia
import torch

from ..data.faces import FaceDataset
from ..pipelines.face_arithmetic import AttributeClassifier

def degraded(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A fixed stand-in for a generated face's flaws: Gaussian blur (sigma 1) and noise (std 0.05).
    Images [N, 3, H, W] in [-1, 1] -> the same, degraded."""
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed)) * 0.1  # 0.05 in [0, 1]
    return (kornia.filters.gaussian_blur2d(images, (5, 5), (1.0, 1.0)) + noise).clamp(-1, 1)


def low_res(images: torch.Tensor, side: int = 32) -> torch.Tensor:
    """Detail lost another way (not among the training degradations): down to `side` px and back."""
    small = torch.nn.functional.interpolate(images, size=side, mode="area")
    return torch.nn.functional.interpolate(small, size=images.shape[-1], mode="bilinear", align_corners=False)


REPORTED = ["Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair", "Black_Hair", "Mustache", "Wearing_Hat", "Bald"]


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
    correct = torch.zeros(len(ds.names))
    correct_degraded = torch.zeros(len(ds.names))
    correct_low = torch.zeros(len(ds.names))
    positives = torch.zeros(len(ds.names))
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            items = [ds[i] for i in range(start, min(n, start + batch_size))]
            y = torch.stack([it["attrs"] for it in items])
            x = torch.stack([it["image"] for it in items])
            pred = (clf.probabilities(x) > 0.5).float()
            correct += (pred == y).float().sum(0)
            correct_degraded += ((clf.probabilities(degraded(x, seed=start)) > 0.5).float() == y).float().sum(0)
            correct_low += ((clf.probabilities(low_res(x)) > 0.5).float() == y).float().sum(0)
            positives += y.sum(0)
    acc = correct / n
    out = {f"accuracy_{name}": round(float(a), 4) for name, a in zip(ds.names, acc)}
    out["accuracy_mean"] = round(float(acc.mean()), 4)
    reported = [ds.names.index(name) for name in REPORTED if name in ds.names]
    for i in reported:
        p = float(positives[i] / n)
        out[f"majority_baseline_{ds.names[i]}"] = round(max(p, 1 - p), 4)
        out[f"accuracy_degraded_{ds.names[i]}"] = round(float(correct_degraded[i] / n), 4)
        out[f"accuracy_lowres_{ds.names[i]}"] = round(float(correct_low[i] / n), 4)
    if reported:
        out["accuracy_reported_mean"] = round(float(acc[reported].mean()), 4)
        out["accuracy_degraded_reported_mean"] = round(float((correct_degraded[reported] / n).mean()), 4)
        out["accuracy_lowres_reported_mean"] = round(float((correct_low[reported] / n).mean()), 4)
    out["n"] = n
    return out
