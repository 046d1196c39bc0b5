"""Turn a pix2pix checkpoint whose U-Net upsamples by transposed convolution into one that upsamples
by resize-convolution (nearest or bilinear + 3x3), without training: the start of stage 3 of sketch2photo.

    python -m core.train.resize_upsampling SRC OUT [--upsample bilinear] [--batches 125]

Every decoder level's 4x4 stride-2 transposed conv becomes the resize-conv closest to it in least
squares (core.nets.unet.resize_from_transpose): what is lost is exactly its checkerboard. The
decoder's BatchNorm layers then get statistics that belong to the new convs ("standing statistics":
`batches` batches of 16 training items, drawn and hinted as in training, dropout off), since the old
ones describe the old convs' activations. OUT is a checkpoint (fp16, as shipped) to warm-start from:
`python -m core.train sketch2photo --set init_from=OUT ...`. Seeded: the same SRC gives the same OUT with the
same number of threads (core.train.recalibrate).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..checkpoint import load_checkpoint, save_checkpoint
from ..device import setup_threads
from ..nets.unet import UNetGenerator, as_resize
from .recalibrate import add_arguments, recalibrate_G


def to_resize(G: UNetGenerator, upsample: str = "resize") -> UNetGenerator:
    """The same U-Net with resize-conv upsampling (`upsample`: "resize" = nearest, or "bilinear"; eval
    mode), weights from `G`'s transposed convs (a nearest resize-conv G: from its exact transposed twin)."""
    if G.config.upsample == upsample:
        raise ValueError(f"G already upsamples by {G.config.upsample!r}")
    R = as_resize(G, upsample)
    # Rounded to fp16 as the checkpoint will store them, so the statistics below describe the stored weights.
    R.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in R.state_dict().items()})
    return R.eval()


def convert(src: Path, out: Path, model: str = "sketch2photo", batches: int = 125, seed: int = 0,
            upsample: str = "resize") -> Path:
    """SRC (a checkpoint with a transposed-conv U-Net "G") -> OUT with G as resize-conv (nearest, or
    `upsample="bilinear"`), standing statistics recomputed on `model`'s training data; the other nets
    (D) are copied as they are."""
    nets, meta = load_checkpoint(src)
    nets["G"] = to_resize(nets["G"], upsample)
    recalibrate_G(nets["G"], model, batches, seed)
    return save_checkpoint(out, nets, meta={**meta, "converted_from": str(src), "standing_batches": batches})


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m core.train.resize_upsampling", description=__doc__.split("\n\n")[0])
    add_arguments(p, "checkpoint folder with a transposed-conv U-Net G")
    p.add_argument("--upsample", default="resize", choices=("resize", "bilinear"),
                   help="resize = nearest + 3x3 (the shipped stage 3); bilinear + 3x3")
    args = p.parse_args(argv)
    setup_threads()
    print(convert(args.src, args.out, args.model, args.batches, upsample=args.upsample))


if __name__ == "__main__":
    main()
