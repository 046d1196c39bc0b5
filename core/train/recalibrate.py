"""Standing statistics for a trained pix2pix G: its BatchNorm running statistics recomputed as a plain
mean over the training data, dropout off, as the app serves it (Brock et al. 2019).

    python -m core.train.recalibrate SRC OUT [--model sketch2photo] [--batches 125]

Why: in training the running statistics are a moving average (momentum 0.1, so mostly the last ~10
batches of 8) taken with dropout on; served, G runs with dropout off. The decoder levels after a
dropout therefore see other activations than their statistics describe, and the statistics carry the
last few batches' noise. OUT holds the same weights with statistics that fit them as served; every
other net (D) is copied as it is. Seeded: the same SRC gives the same OUT with the same number of
threads (another count sums in another order, which can move the last bit of a stored fp16 statistic).
"""
from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import torch

from ..checkpoint import is_checkpoint, load_checkpoint, save_checkpoint
from ..device import setup_threads
from ..registry import get_spec
from .config import TrainConfig
from .standing_stats import standing_statistics
from .tasks.pix2pix import Pix2PixTask

BATCH = 16


def training_inputs(task: Pix2PixTask, batches: int, seed: int = 0) -> Iterator[torch.Tensor]:
    """`batches` batches of BATCH training items as G sees them in training (augmented, drawing-like
    share and colour hints as in training): [BATCH, G's in_channels, S, S] in [-1, 1]. Seeded."""
    ds = task.make_dataset(task.spec.data.train, augment=True)
    if batches * BATCH > len(ds):
        raise ValueError(f"{batches} batches of {BATCH} need {batches * BATCH} items; the data has {len(ds)}")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(ds), generator=gen)
    for b in range(batches):
        items = [ds[int(i)] for i in order[b * BATCH:(b + 1) * BATCH]]
        real_A, real_B = torch.stack([it["A"] for it in items]), torch.stack([it["B"] for it in items])
        yield task.G_input(real_A, real_B, generator=gen)


def recalibrate_G(G: torch.nn.Module, model: str = "sketch2photo", batches: int = 125, seed: int = 0) -> int:
    """Standing statistics for `G` (in place; left in eval mode) from `batches` batches of `model`'s
    training data. Returns the number of batches (0: G has no BatchNorm)."""
    spec = get_spec(model)
    torch.manual_seed(seed)  # the dataset's augmentation and drawing-like inputs draw from it
    task = Pix2PixTask(spec, TrainConfig(precision="fp32", task=Pix2PixTask.Params.from_dict(spec.task_params)),
                       torch.device("cpu"))
    return standing_statistics(G, training_inputs(task, batches, seed))


def recalibrate(src: Path, out: Path, model: str = "sketch2photo", batches: int = 125, seed: int = 0) -> Path:
    """SRC (a pix2pix checkpoint) -> OUT with G's standing statistics; the other nets copied."""
    nets, meta = load_checkpoint(src)
    recalibrate_G(nets["G"], model, batches, seed)
    return save_checkpoint(out, nets, meta={**meta, "recalibrated_from": str(src), "standing_batches": batches})


def add_arguments(p: argparse.ArgumentParser, src_help: str) -> None:
    """SRC, OUT, --model and --batches: the arguments of every command that writes standing statistics."""
    p.add_argument("src", type=Path, help=src_help)
    p.add_argument("out", type=Path, help="where to write the new checkpoint")
    p.add_argument("--model", default="sketch2photo", help="registry model whose training data gives the statistics")
    p.add_argument("--batches", type=int, default=125, help="batches of 16 (125: all 2,000 training pairs once)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m core.train.recalibrate", description=__doc__.split("\n\n")[0])
    add_arguments(p, "a pix2pix checkpoint folder")
    args = p.parse_args(argv)
    if not is_checkpoint(args.src):
        p.error(f"no checkpoint in {args.src}")
    if args.out.resolve() == args.src.resolve():
        p.error("OUT must differ from SRC")
    setup_threads()
    try:
        print(recalibrate(args.src, args.out, args.model, args.batches))
    except ValueError as e:  # more batches than the data has
        p.error(str(e))


if __name__ == "__main__":
    main()
