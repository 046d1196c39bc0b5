"""Evaluate the face attribute classifier: accuracy per attribute on the held-out labelled part."""
from __future__ import annotations

from pathlib import Path

import torch

from ..data.faces import FaceDataset
from ..pipelines.face_arithmetic import AttributeClassifier

REPORTED = ["Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair", "Black_Hair", "Mustache", "Wearing_Hat", "Bald"]


def evaluate(spec, data: Path, checkpoint: Path, limit: int | None = None, batch_size: int = 256,
             attributes: Path | None = None, **_) -> dict[str, float]:
    """`data` is the image folder; labels come from the registry's attribute file (or
    `attributes`). Returns accuracy_<name> for every attribute, the mean, and the majority-class
    baseline of each reported attribute (to show the classifier beats guessing)."""
    clf = AttributeClassifier.from_checkpoint(checkpoint)
    opts = spec.data.options
    ds = FaceDataset(data, attr_file=attributes or opts["attributes"], augment=False, labelled_only=True,
                     split="val", holdout=opts.get("holdout", 0.1))
    if clf.names != ds.names:
        raise ValueError("the classifier's attribute names differ from the attribute file's")
    n = min(len(ds), limit) if limit else len(ds)
    correct = torch.zeros(len(ds.names))
    positives = torch.zeros(len(ds.names))
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            items = [ds[i] for i in range(start, min(n, start + batch_size))]
            y = torch.stack([it["attrs"] for it in items])
            pred = (clf.probabilities(torch.stack([it["image"] for it in items])) > 0.5).float()
            correct += (pred == y).float().sum(0)
            positives += y.sum(0)
    acc = correct / n
    out = {f"accuracy_{name}": round(float(a), 4) for name, a in zip(ds.names, acc)}
    out["accuracy_mean"] = round(float(acc.mean()), 4)
    for name in REPORTED:
        if name in ds.names:
            p = float(positives[ds.names.index(name)] / n)
            out[f"majority_baseline_{name}"] = round(max(p, 1 - p), 4)
    out["n"] = n
    return out
