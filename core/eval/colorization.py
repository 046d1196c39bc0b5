"""Evaluate a colorization model: the semantic test of Zhang et al. 2016, PSNR, colourfulness, and
the same figures with 1, 5 and 20 hints sampled from the truth (Zhang et al. 2017).

Inputs are the photos' centred largest squares at the model's training size (the un-augmented
training view); hints are 3 px patches of the true mean colour at positions seeded by the photo's
index, so every run sees the same inputs.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from ..data import colour
from ..data.colour_photos import PhotoDataset, photo_files
from ..metrics.features import EfficientNetFeatures
from ..metrics.pixels import colourfulness, psnr
from ..metrics.semantic import gap_recovered
from ..pipelines.colorization import HINT_SIZE, ColorizationPipeline

HINT_COUNTS = (1, 5, 20)


def eval_files(spec, data: Path | None):
    """The photos of DIR (all of them), or the registry's held-out split (never trained on)."""
    if data is not None:
        return photo_files([Path(data)])
    opts = spec.data.options
    return photo_files(opts.get("photos", []), opts.get("left_halves", []), "val", opts.get("holdout", 0.05))


def seeded_hints(ab: torch.Tensor, count: int, first_index: int) -> torch.Tensor:
    """`count` hints per photo of ab [B, 2, S, S] (3 px patches, true mean colour), seeded by each
    photo's index in the evaluation set -> hint map [B, 3, S, S]."""
    maps = [colour.sample_hints(ab[i:i + 1], torch.tensor([count]), HINT_SIZE,
                                torch.Generator().manual_seed(first_index + i), min_size=HINT_SIZE)
            for i in range(len(ab))]
    return torch.cat(maps)


def _psnrs(L: torch.Tensor, ab: torch.Tensor, real_ab: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per photo: PSNR of the RGB result against the truth ([0, 1]; L is shared, so it measures
    colour only) and of ab itself (normalised ab, range 2 = 220 ab units)."""
    return {"psnr_rgb": psnr(colour.lab_to_rgb(L, ab), truth),
            "psnr_ab": psnr(ab.clamp(-1, 1), real_ab.clamp(-1, 1), data_range=2.0)}


def per_photo(colourers: list, ds: PhotoDataset, order, feats: EfficientNetFeatures, hint_counts=HINT_COUNTS,
              batch_size: int = 32):
    """The semantic test, PSNR and colourfulness of each photo ds[i], i in `order`, for each way of
    colouring it, `colourers`: fn(L [B, 1, S, S] in [-1, 1], hint map [B, 3, S, S] or None) -> ab at
    any size (e.g. a pipeline's `run`). Yields per batch (positions start..start + B - 1 in `order`):
    ({"hit_gray", "colourfulness_truth"}, [per colourer {"hit", "psnr_rgb", "psnr_ab", "colourfulness",
    and for k in hint_counts "hints_k/hit", "hints_k/psnr_rgb", ...}]), each a tensor [B]. "hit": the
    classifier gives it the top-1 class it gives the colour photo. Hints: `seeded_hints`, seeded by the
    position in `order`, so every colourer and every run sees the same."""
    order = list(order)
    for start in range(0, len(order), batch_size):
        truth = torch.stack([ds[i]["image"] for i in order[start:start + batch_size]]) * 0.5 + 0.5
        L, real_ab = colour.rgb_to_lab(truth)
        truth = colour.lab_to_rgb(L, real_ab)  # the same round trip as ours (8-bit photo -> float Lab)
        top = feats.logits(truth).argmax(1)
        shared = {"hit_gray": feats.logits(colour.gray_rgb(L)).argmax(1) == top, "colourfulness_truth": colourfulness(truth)}
        hint_maps = {k: seeded_hints(real_ab, k, start) for k in hint_counts}
        rows = []
        for colour_of in colourers:
            row = {}
            for prefix, hints in (("", None), *((f"hints_{k}/", m) for k, m in hint_maps.items())):
                ab = colour.upsample_ab(colour_of(L, hints), *L.shape[-2:])
                ours = colour.lab_to_rgb(L, ab)
                row[f"{prefix}hit"] = feats.logits(ours).argmax(1) == top
                row[f"{prefix}colourfulness"] = colourfulness(ours)
                row.update({prefix + key: v for key, v in _psnrs(L, ab, real_ab, truth).items()})
            rows.append(row)
        yield shared, rows


def evaluate(spec, data: Path | None, checkpoint: Path, precision: str = "bf16", limit: int | None = None,
             batch_size: int = 32, features: EfficientNetFeatures | None = None, **_) -> dict:
    """Returns
    - acc_gray / acc_ours: how often EfficientNet-Lite0 (ImageNet) gives the grey version / our
      colorization the top-1 class it gives the colour photo; gap_recovered = (acc_ours - acc_gray)
      / (1 - acc_gray): the share of what colour is worth to the classifier that we give back;
    - psnr_rgb, psnr_ab (dB, without hints; see _psnrs);
    - colourfulness (Hasler-Suesstrunk) of ours and of the truth, and their ratio;
    - hints_1, hints_5, hints_20: {"acc_ours", "gap_recovered", "psnr_rgb", "psnr_ab",
      "colourfulness_ratio"} with that many true-colour hints;
    - by_folder: {folder label: {"n", "acc_gray", "acc_ours", "gap_recovered"}} without hints, per
      source folder (flowers, faces, ...): where colour matters to the classifier and where it is won
      (gap_recovered None where the grey versions always agree);
    - n, size (the model's input side), temperature, features_precision.
    The classifier runs in fp32 by default: agreement is a decision per photo, which bf16 flips for
    borderline ones (as in the horse2zebra eval)."""
    pipe = ColorizationPipeline.from_checkpoint(checkpoint, precision=precision)
    feats = features or EfficientNetFeatures(precision="fp32")
    ds = PhotoDataset(eval_files(spec, data), crop_size=pipe.image_size, augment=False)
    # --limit N: N photos evenly spaced through the set (its folders come one after another).
    order = torch.linspace(0, len(ds) - 1, min(limit, len(ds))).round().long().tolist() if limit else range(len(ds))
    n = len(order)
    sums: dict[str, float] = {}
    folders = [folder_label(ds.files[i].path) for i in order]
    per_folder: dict[str, list[int]] = {}  # label -> [n, grey hits, our hits]
    with torch.inference_mode():
        for start, (shared, (ours,)) in zip(range(0, n, batch_size), per_photo([pipe.run], ds, order, feats,
                                                                                batch_size=batch_size)):
            for folder, hit_gray, hit_ours in zip(folders[start:start + batch_size], shared["hit_gray"], ours["hit"]):
                counts = per_folder.setdefault(folder, [0, 0, 0])
                for j, hit in enumerate((True, hit_gray, hit_ours)):
                    counts[j] += int(hit)
            for key, values in {**shared, **ours}.items():
                sums[key] = sums.get(key, 0.0) + float(values.float().sum())
    mean = {k: v / max(n, 1) for k, v in sums.items()}
    acc_gray, acc_ours = mean["hit_gray"], mean["hit"]
    truth_colour = max(mean["colourfulness_truth"], 1e-6)
    hinted = {f"hints_{k}": {"acc_ours": round(mean[f"hints_{k}/hit"], 5),
                             "gap_recovered": _gap(acc_gray, mean[f"hints_{k}/hit"]),
                             **{key: round(mean[f"hints_{k}/{key}"], 5) for key in ("psnr_rgb", "psnr_ab")},
                             "colourfulness_ratio": round(mean[f"hints_{k}/colourfulness"] / truth_colour, 5)}
              for k in HINT_COUNTS}
    return {"acc_gray": acc_gray, "acc_ours": acc_ours, "gap_recovered": gap_recovered(acc_gray, acc_ours),
            "psnr_rgb": mean["psnr_rgb"], "psnr_ab": mean["psnr_ab"],
            "colourfulness": mean["colourfulness"], "colourfulness_truth": mean["colourfulness_truth"],
            "colourfulness_ratio": mean["colourfulness"] / truth_colour, **hinted,
            "by_folder": _by_folder(per_folder), "n": n, "size": pipe.image_size, "temperature": pipe.temperature,
            "features_precision": feats.precision}


def _gap(acc_gray: float, acc_ours: float, digits: int = 5) -> float | None:
    gap = gap_recovered(acc_gray, acc_ours)
    return None if gap is None else round(gap, digits)


def folder_label(path: Path) -> str:
    """A photo's source, named by its folder and that folder's parent ("flowers102/jpg")."""
    return f"{path.parent.parent.name}/{path.parent.name}"


def _by_folder(per_folder: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    """{label: [n, grey hits, our hits]} -> {label: n, acc_gray, acc_ours, gap_recovered}."""
    out = {}
    for name, (n, hits_gray, hits_ours) in sorted(per_folder.items()):
        gray, ours = hits_gray / n, hits_ours / n
        out[name] = {"n": n, "acc_gray": round(gray, 5), "acc_ours": round(ours, 5), "gap_recovered": _gap(gray, ours)}
    return out


def val_grid(pipes: dict[str, ColorizationPipeline], spec, data: Path | None, out: Path, n: int = 16) -> Path:
    """One row per photo (evenly spaced through the set): grey | each pipe's colorization (in the
    order of `pipes`, e.g. the L2 baseline, ours) | truth, at the first pipe's size. Shows
    dataset pixels: look, never commit."""
    first = next(iter(pipes.values()))
    ds = PhotoDataset(eval_files(spec, data), crop_size=first.image_size, augment=False)
    tiles = []
    for i in torch.linspace(0, len(ds) - 1, min(n, len(ds))).round().long().tolist():
        L, real_ab = colour.rgb_to_lab(ds[i]["image"][None] * 0.5 + 0.5)
        tiles.append(colour.gray_rgb(L)[0])
        tiles += [colour.lab_to_rgb(L, colour.upsample_ab(p.run(L), *L.shape[-2:]))[0] for p in pipes.values()]
        tiles.append(colour.lab_to_rgb(L, real_ab)[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(make_grid(torch.stack(tiles), nrow=len(pipes) + 2, padding=2, pad_value=1.0), out)
    return out
