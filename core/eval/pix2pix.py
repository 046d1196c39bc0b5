"""Evaluate a paired translation model (sketch2photo) on a folder of side-by-side pairs."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from ..data import colour
from ..data.paired import PairedDataset
from ..data.sketches import DRAWINGS, draw, outline_interior
from ..metrics.distribution import DistributionMetrics
from ..metrics.features import EfficientNetFeatures
from ..metrics.paired import PairedMetrics
from ..metrics.pixels import colourfulness, interior_fill, object_share
from ..pipelines.sketch2photo import Sketch2PhotoPipeline, colour_hints

# "Make it this colour" in the eval: the code drawings get these in turn (red, blue, yellow, green, brown,
# pink: bright and dark, warm and cool), as a person would pick them in the tab.
PALETTE = ((200, 30, 40), (30, 70, 200), (240, 200, 40), (40, 150, 60), (120, 70, 30), (230, 110, 170))
VAL_HINTS = 5  # true-colour hints per val item for the hinted figures (hints_psnr, ...)


def evaluate(spec, data: Path, checkpoint: Path, photo_left: bool = False, precision: str = "bf16",
             limit: int | None = None, batch_size: int = 16, features: EfficientNetFeatures | None = None,
             inputs: str = "edges", paper_test: bool = False, dropout_seed: int = 0, **_) -> dict[str, float]:
    """Translate every A of `data` and compare with its B.

    paper_test: G makes the outputs of the set figures (FD, KID, SSIM, ...) as the pix2pix paper
    tests it (`paper_outputs`) instead of as the app serves it (eval mode: BatchNorm's running
    statistics, no dropout); the hinted and code-drawing figures stay in eval mode. dropout_seed picks
    the draw of its dropout (0, 1, ...: every draw is a fair sample; their mean is the recipe's figure).

    inputs "edges": the dataset's edge maps, un-augmented, at the model size. "drawing": a fixed,
    seeded drawing-like sketch of each edge map (core/data/drawing_style.py: simplified edges and
    outlines, normalised like a canvas drawing), plus the example drawings made in code.
    Returns fd_eff / kid_eff (outputs vs targets as sets), ssim, psnr (dB) and l1 (mean absolute
    error on the [0, 1] scale), colourfulness of outputs and photos (Hasler-Suesstrunk) and their
    ratio (outputs' mean / photos' mean), object_share_ratio (the share of the frame that is not
    white paper, outputs' mean / photos' mean: a pale ghost scores low), n; for "drawing" also the
    code drawings' colourfulness and object-share ratios (their outputs' mean / the val photos'
    mean), and how solidly they fill their outlines: code_drawings_filled (mean), _filled_min (the
    worst drawing) and _chroma (core.metrics.pixels.interior_fill; a pale ghost fills little).
    `features`: the FD/KID feature extractor.
    """
    pipe = Sketch2PhotoPipeline.from_checkpoint(checkpoint, precision=precision)
    ds = PairedDataset(data, crop_size=pipe.image_size, augment=False, photo_left=photo_left,
                       input_mode=spec.data.options.get("input_mode", "rgb"), inputs=inputs)
    n = min(len(ds), limit) if limit else len(ds)
    dist, paired, hinted = DistributionMetrics(features), PairedMetrics(), PairedMetrics()
    colour_out, colour_real, share_out, share_real = [], [], [], []
    with torch.inference_mode():
        for start, real_A, real_B, fake_B in val_outputs(pipe, ds, n, batch_size, paper_test, dropout_seed):
            if pipe.hinted:
                hinted.add(_true_hints(pipe, real_A, real_B, start), real_B * 0.5 + 0.5)
            out, target = (fake_B * 0.5 + 0.5).clamp(0, 1), real_B * 0.5 + 0.5
            dist.add(real=target, fake=out)
            paired.add(out, target)
            colour_out.append(colourfulness(out))
            colour_real.append(colourfulness(target))
            share_out.append(object_share(out))
            share_real.append(object_share(target))
    c_out, c_real = float(torch.cat(colour_out).mean()), float(torch.cat(colour_real).mean())
    s_out, s_real = float(torch.cat(share_out).mean()), float(torch.cat(share_real).mean())
    result = {**dist.compute(), **paired.compute(), "colourfulness": c_out, "colourfulness_photos": c_real,
              "colourfulness_ratio": c_out / c_real,
              "object_share_ratio": s_out / s_real,
              "n": n, "inputs": inputs, "test_mode": "paper" if paper_test else "eval",
              **({"dropout_seed": dropout_seed} if paper_test else {}),
              "features_precision": dist.features.precision}
    if pipe.hinted:
        result.update({f"hints_{k}": v for k, v in hinted.compute().items()})
    if inputs == "drawing":
        drawings, x = code_drawings(pipe)
        filled, chroma = interior_fill(drawings, outline_interior(x[:, 0] < 0))
        result["code_drawings_colourfulness_ratio"] = float(colourfulness(drawings).mean()) / c_real
        result["code_drawings_object_share_ratio"] = float(object_share(drawings).mean()) / s_real
        result["code_drawings_filled"] = float(filled.mean())
        result["code_drawings_filled_min"] = float(filled.min())
        result["code_drawings_chroma"] = float(chroma.mean())
        if pipe.hinted:
            result.update(_coloured_drawings(pipe, x))
    return result


def val_outputs(pipe: Sketch2PhotoPipeline, ds: PairedDataset, n: int, batch_size: int = 16,
                paper_test: bool = False, dropout_seed: int = 0
                ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The first n items of `ds` through G in batches, in order: (index of the batch's first item,
    real_A [B, C, S, S], real_B [B, 3, S, S], fake_B [B, 3, S, S]), all in [-1, 1]. Eval mode as
    served, or as the paper tests (`paper_outputs`, its dropout draw `dropout_seed`)."""
    for start in range(0, n, batch_size):
        items = [ds[i] for i in range(start, min(n, start + batch_size))]
        real_A, real_B = torch.stack([it["A"] for it in items]), torch.stack([it["B"] for it in items])
        yield start, real_A, real_B, (paper_outputs(pipe, real_A, start, dropout_seed) if paper_test
                                      else pipe.run(real_A))


DRAW_STRIDE = 1_000_003  # dropout seeds of draw k: k * DRAW_STRIDE + the item's index (draws never share one)


def paper_outputs(pipe: Sketch2PhotoPipeline, real_A: torch.Tensor, first_index: int, draw: int = 0) -> torch.Tensor:
    """G's photos for real_A [B, 1, S, S] as the pix2pix paper tests (Isola et al. 2017, sec. 3.1:
    "batch normalization using the statistics of the test batch", dropout on at test time; junyanz's
    test.py without --eval, batch 1): each item alone in train mode, its dropout seeded by its index
    in the set and the draw (the same photos on every run of one draw). -> [B, 3, S, S] in [-1, 1].
    G's weights and running statistics are left as they were."""
    G = pipe.G
    buffers = {name: b.clone() for name, b in G.named_buffers()}  # train-mode BatchNorm updates its statistics
    outs = []
    try:
        G.train()
        with torch.random.fork_rng():
            for i in range(len(real_A)):
                torch.manual_seed(draw * DRAW_STRIDE + first_index + i)
                outs.append(pipe.run(real_A[i:i + 1]))
    finally:
        G.eval()
        with torch.no_grad():
            for name, b in G.named_buffers():
                b.copy_(buffers[name])
    return torch.cat(outs)


def _true_hints(pipe: Sketch2PhotoPipeline, real_A: torch.Tensor, real_B: torch.Tensor, seed: int) -> torch.Tensor:
    """Outputs [B, 3, S, S] in [0, 1] with VAL_HINTS hints of each photo's own colours (seeded)."""
    hints = colour.sample_hints(real_B, torch.full((len(real_B),), VAL_HINTS), 5, torch.Generator().manual_seed(seed),
                                min_size=5, where=colour.on_object(real_B))
    return (pipe.run(real_A, hints) * 0.5 + 0.5).clamp(0, 1)


def _coloured_drawings(pipe: Sketch2PhotoPipeline, x: torch.Tensor) -> dict[str, float]:
    """The code drawings, each "made" a PALETTE colour (in turn): how solidly they fill, and how far
    the mean colour of the filled inside is from the one asked for (RGB distance, 0-255 scale)."""
    asked = torch.tensor([PALETTE[i % len(PALETTE)] for i in range(len(x))], dtype=torch.float32)
    hints = torch.cat([colour_hints(x[i:i + 1], tuple(int(v) for v in asked[i])) for i in range(len(x))])
    out = (pipe.run(x, hints) * 0.5 + 0.5).clamp(0, 1)
    inside = outline_interior(x[:, 0] < 0)
    filled, chroma = interior_fill(out, inside)
    solid = inside & (out.amin(1) < 0.75)
    mean = (out * solid[:, None]).flatten(2).sum(2) / solid.flatten(1).sum(1, keepdim=True).clamp_min(1) * 255
    return {"code_drawings_coloured_filled": float(filled.mean()),
            "code_drawings_coloured_filled_min": float(filled.min()),
            "code_drawings_coloured_chroma": float(chroma.mean()),
            "code_drawings_coloured_rgb_error": float((mean - asked).norm(dim=1).mean())}


def code_drawings(pipe: Sketch2PhotoPipeline) -> tuple[torch.Tensor, torch.Tensor]:
    """The pipeline's outputs [N, 3, S, S] in [0, 1] for the example drawings made in code, each at
    two stroke widths (as the canvas would send them), and the model inputs [N, 1, S, S] in [-1, 1]."""
    with torch.inference_mode():
        x = torch.cat([pipe.prepare(draw(name, width=width, seed=seed))
                       for seed, name in enumerate(DRAWINGS) for width in (4, 12)])
        return (pipe.run(x) * 0.5 + 0.5).clamp(0, 1), x
