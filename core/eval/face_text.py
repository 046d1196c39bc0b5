"""Evaluate the face-text model (`face_text`, the image-text model behind the text-score edit) on the
held-out labelled faces and on generated faces.

    python -m core.eval.face_text [--data ../shared/data/celeba/img] [--json FILE] [--generated 1000]

- zero-shot balanced accuracy per attribute of `PROBES` (core/data/face_captions.py): the face is
  called smiling when it is nearer "This person is smiling." than "This person is not smiling.";
  balanced (the mean of both classes' recalls: 0.5 is chance however rare the attribute), on the faces
  as they are and blurred + noised as in the classifier's eval (`degraded`: generated faces are
  blurrier than photos);
- retrieval_at_1: each face's nearest caption among the held-out faces' first captions holds for it
  (all its claims agree with the face's labels); text_retrieval_at_1: each caption's nearest face is
  one it holds for; with the chance levels (the share of pairs that hold);
- on `--generated` faces of the shipped faces GAN (seeds 0..N-1), the zero-shot verdicts' balanced
  accuracy against the attribute classifier's (p > 0.5): the text-score edit scores generated faces.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torchmetrics.functional.classification import multiclass_accuracy

from ..checkpoint import is_checkpoint, read_config
from ..data import face_captions
from ..data.face_captions import PROBES, caption_bank, holds
from ..data.faces import FaceDataset
from ..device import setup_threads
from ..registry import get_spec
from ..train.tasks.face_text import zero_shot
from .attributes import degraded
from .report import report


def balanced(verdict: torch.Tensor, truth: torch.Tensor) -> float:
    """Balanced accuracy of bool verdicts [N] against bool truth [N]."""
    return float(multiclass_accuracy(verdict.long(), truth.long(), num_classes=2, average="macro"))


def probes(names: list[str]) -> tuple[list[str], torch.Tensor]:
    """The PROBES of the attributes in `names`: (their names, embeddings [P, 2, 384])."""
    kept = [a for a in PROBES if a in names]
    emb = face_captions.embed_texts([t for a in kept for t in PROBES[a]]).float()
    return kept, emb.view(len(kept), 2, -1)


def evaluate(spec, data: Path | None, checkpoint: Path, limit: int | None = None, generated: int = 1000,
             batch_size: int = 128, **_) -> dict:
    """The metrics dict (see the module's docstring)."""
    from ..pipelines.text_score import FaceTextModel

    model = FaceTextModel.from_checkpoint(checkpoint)
    opts = spec.data.options
    ds = FaceDataset(data or spec.data.train, attr_file=opts["attributes"], augment=False, labelled_only=True,
                     split="val", holdout=opts.get("holdout", 0.1), crop_fraction=opts.get("crop_fraction", 0.72),
                     center_y=opts.get("center_y", 0.55))
    n = min(len(ds), limit) if limit else len(ds)
    items = [ds[i] for i in range(n)]
    x, labels = torch.stack([it["image"] for it in items]), torch.stack([it["attrs"] for it in items])
    with torch.inference_mode():
        image = torch.cat([model.embed(c).cpu() for c in x.split(batch_size)])
        blurred = torch.cat([model.embed(degraded(c, i)).cpu() for i, c in enumerate(x.split(batch_size))])
    names, probe_emb = probes(ds.names)
    cols = [ds.names.index(a) for a in names]
    truth = labels[:, cols] > 0.5
    out: dict = {"n": n}
    for view, emb in (("", image), ("degraded_", blurred)):
        verdict = zero_shot(emb, probe_emb)
        accs = [balanced(verdict[:, j], truth[:, j]) for j in range(len(names))]
        out.update({f"zero_shot_{view}{a}": round(v, 4) for a, v in zip(names, accs)})
        out[f"zero_shot_{view}mean"] = round(sum(accs) / len(accs), 4)
    keys = [f.name for f in ds.files[:n]]
    texts, claims = caption_bank([ds.table[k] for k in keys], keys, ds.names, 1, seed=0)
    text = face_captions.embed_texts([t[0] for t in texts]).float()
    fits = holds(torch.from_numpy(claims[:, 0]).float(), labels)  # [captions, faces]
    sims = image @ text.T  # [faces, captions]
    out["retrieval_at_1"] = round(float(fits[sims.argmax(1), torch.arange(n)].float().mean()), 4)
    out["text_retrieval_at_1"] = round(float(fits[torch.arange(n), sims.argmax(0)].float().mean()), 4)
    out["retrieval_chance"] = round(float(fits.float().mean()), 4)
    if generated:
        out.update(on_generated(model, names, probe_emb, generated, batch_size))
    return out


def on_generated(model, names: list[str], probe_emb: torch.Tensor, count: int, batch_size: int = 128) -> dict:
    """Zero-shot verdicts on `count` generated faces (seeds 0..count-1) against the shipped attribute
    classifier's: balanced accuracy per attribute and the mean; {} without the faces models."""
    from ..pipelines import face_attributes, faces

    if not all(is_checkpoint(get_spec(m).checkpoint_dir) for m in ("faces", "face_attributes")):
        return {}
    gan, clf = faces.load(), face_attributes.load()
    out = {}
    verdicts, judged = [], []
    with torch.inference_mode():
        for chunk in torch.arange(count).split(batch_size):
            images = gan.decode(gan.zs(chunk.tolist()))
            verdicts.append(zero_shot(model.embed(images).cpu(), probe_emb))
            p = clf.probabilities(images)
            judged.append(torch.stack([p[:, clf.index(a)] > 0.5 for a in names], 1))
    v, j = torch.cat(verdicts), torch.cat(judged)
    accs = {a: balanced(v[:, k], j[:, k]) for k, a in enumerate(names) if 0 < int(j[:, k].sum()) < len(j)}
    out.update({f"generated_agreement_{a}": round(x, 4) for a, x in accs.items()})
    out["generated_agreement_mean"] = round(sum(accs.values()) / max(1, len(accs)), 4)
    out["generated_faces"] = count
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.eval.face_text", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="face images (default: the registry's folder, held-out split)")
    p.add_argument("--checkpoint", type=Path, help="default: checkpoints/face_text")
    p.add_argument("--json", type=Path, help="also write the metrics here")
    p.add_argument("--limit", type=int, help="only the first N held-out faces")
    p.add_argument("--generated", type=int, default=1000,
                   help="generated faces to compare with the classifier (0: none)")
    args = p.parse_args(argv)
    spec = get_spec("face_text")
    checkpoint = args.checkpoint or spec.checkpoint_dir
    if not is_checkpoint(checkpoint):
        p.error(f"no checkpoint in {checkpoint} (train first: python -m core.train face_text --promote)")
    setup_threads()
    t0 = time.time()
    metrics = evaluate(spec, args.data, checkpoint, args.limit, args.generated)
    metrics["step"] = read_config(checkpoint).get("meta", {}).get("step")
    metrics["seconds"] = round(time.time() - t0, 1)
    report(metrics, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
