"""The inpainting grid: masked | biharmonic baseline | GAN prior | ours | truth, one held-out face a
row, first with centre squares, then with the eval's free-form holes (the same masks as the eval's).

    python -m core.eval.figures_inpainting [--data DIR] [--checkpoint DIR] [--n 6] [--out DIR] [--gan-faces]

Writes OUT/inpainting_val.png (default runs/figures, which git ignores): it shows dataset faces, so
render it locally and never commit it. With --gan-faces: OUT/inpainting_gan_faces.png, on the faces
GAN's own faces (committable: docs/img).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from ..device import setup_threads
from ..pipelines import faces as faces_pipeline
from ..pipelines.faces import tile
from ..pipelines.inpainting import InpaintingPipeline
from ..registry import ROOT, get_spec
from .figures import label
from .inpainting import eval_faces, evenly, masked_case

SCALE = 2  # tiles are the model's pixels, enlarged (nearest) so that they can be seen


class _GanFaces:
    """The faces GAN's own faces by seed, in FaceDataset's item shape: a grid that shows no dataset
    image (committable). For the GAN prior these are easy: they lie in its range by construction."""

    def __init__(self, seeds: list[int], size: int):
        gan = faces_pipeline.load()
        images = gan.decode(gan.zs(seeds)).float()  # [n, 3, 64, 64] in [-1, 1]
        self.images = torch.nn.functional.interpolate(images, size=size, mode="bilinear", antialias=True)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return {"image": self.images[i]}


def grid(pipe: InpaintingPipeline, spec, data: Path | None, out: Path, n: int = 6, gan_faces: bool = False) -> Path:
    """n faces (evenly spaced through the set, or the faces GAN's seeds 0..n-1) per mask kind; the
    prior column is blank without the faces GAN."""
    ds = _GanFaces(list(range(n)), pipe.image_size) if gan_faces else eval_faces(spec, data, pipe.image_size)
    has_prior = faces_pipeline.has_checkpoint()
    rows = []
    for kind in ("center", "free"):
        cases = [masked_case(pipe, ds, i, kind) for i in evenly(len(ds), n)]
        priors = pipe.prior_batch([p for p, _ in cases]) if has_prior else [None] * len(cases)
        for (prepared, _), prior in zip(cases, priors):
            masked = prepared.pixels.copy()
            masked[prepared.hole] = 255
            blank = Image.new("RGB", masked.shape[:2][::-1], "white")
            row = [Image.fromarray(masked), pipe.baseline(prepared).image, prior.image if prior else blank,
                   pipe.fill(prepared).image, Image.fromarray(prepared.pixels)]
            rows += [im.resize((im.width * SCALE, im.height * SCALE), Image.NEAREST) for im in row]
    out.parent.mkdir(parents=True, exist_ok=True)
    tile(rows, 5).save(out)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m core.eval.figures_inpainting")
    p.add_argument("--checkpoint", type=Path, help="default: checkpoints/inpainting")
    p.add_argument("--data", type=Path, help="a folder of faces (default: the held-out faces)")
    p.add_argument("--n", type=int, default=6, help="faces per mask kind")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "figures")
    p.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--gan-faces", action="store_true",
                   help="the faces GAN's own faces (seeds 0..n-1) instead of photos: OUT/inpainting_gan_faces.png, "
                        "which shows no dataset image")
    args = p.parse_args(argv)
    setup_threads()
    spec = get_spec("inpainting")
    pipe = InpaintingPipeline.from_checkpoint(args.checkpoint or spec.checkpoint_dir, precision=args.precision)
    name = "inpainting_gan_faces.png" if args.gan_faces else "inpainting_val.png"
    path = grid(pipe, spec, args.data, args.out / name, max(1, args.n), gan_faces=args.gan_faces)
    truth = "the GAN's face" if args.gan_faces else "truth"
    label(path, f"masked | biharmonic (scikit-image) | faces GAN prior | ours | {truth}   (centre squares, then free-form)")
    print(path, "(the faces GAN's own faces)" if args.gan_faces else "(contains dataset images: do not commit)")


if __name__ == "__main__":
    main()
