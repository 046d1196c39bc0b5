"""How much of sketch2photo's FD_eff is the checkerboard of its transposed convolutions?

    python bench/sketch2photo_checkerboard.py [--checkpoint DIR] [--data DIR] [--json FILE]

The outputs of a U-Net that upsamples with 4x4 stride-2 transposed convolutions carry a fixed
pattern of period 2 px (Odena et al. 2016, "Deconvolution and checkerboard artifacts"), visible in
flat areas of the sample grids. Two measurements on the eval's 300 val pairs (the val edge maps,
eval mode, as `python -m core.eval sketch2photo --photo-left --limit 300` runs them):

- **period-2 energy**: the mean absolute 2x2 checker component (x[0,0] + x[1,1] - x[0,1] - x[1,0]
  over each 2x2 block, on [0, 1] grey) of the outputs against the photos' at the same size;
- **FD_eff / KID_eff** of the outputs as they are, and after a light low-pass (3x3 binomial), which
  removes the period-2 pattern and little else; the photos low-passed the same way against the
  photos give the cost of the blur alone.
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

import kornia
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.data.paired import PairedDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval.pix2pix import val_outputs  # noqa: E402
from core.metrics.distribution import DistributionMetrics  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.pipelines.sketch2photo import Sketch2PhotoPipeline  # noqa: E402
from core.registry import SHARED_DATA, get_spec  # noqa: E402

N = 300  # the eval's val pairs


def checker_energy(x: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] in [0, 1] -> [N]: mean |x00 + x11 - x01 - x10| over the 2x2 blocks of the grey image."""
    g = x.mean(1)
    g = g[:, : g.shape[1] // 2 * 2, : g.shape[2] // 2 * 2]
    c = g[:, 0::2, 0::2] + g[:, 1::2, 1::2] - g[:, 0::2, 1::2] - g[:, 1::2, 0::2]
    return c.abs().flatten(1).mean(1)


def low_pass(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 binomial filter (1 2 1 / 4, both ways), edges replicated: removes the period-2 pattern."""
    k = torch.tensor([1.0, 2.0, 1.0]) / 4
    return kornia.filters.filter2d(x, (k[:, None] * k[None, :])[None], border_type="replicate")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, default=get_spec("sketch2photo").checkpoint_dir)
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "edges2shoes_handbags" / "val")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    pipe = Sketch2PhotoPipeline.from_checkpoint(args.checkpoint, precision=args.precision)
    ds = PairedDataset(args.data, crop_size=pipe.image_size, augment=False, photo_left=True, input_mode="edges")
    n = min(N, len(ds))
    outs, photos = [], []
    with torch.inference_mode():
        for _, _, real_B, fake_B in val_outputs(pipe, ds, n):
            outs.append((fake_B * 0.5 + 0.5).clamp(0, 1).float())
            photos.append(real_B * 0.5 + 0.5)
    out, photo = torch.cat(outs), torch.cat(photos)
    features = EfficientNetFeatures(precision=args.precision)

    def fd(fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
        m = DistributionMetrics(features)
        m.add(real=real, fake=fake)
        r = m.compute()
        return {"fd_eff": round(r["fd_eff"], 2), "kid_eff": round(r["kid_eff"], 4)}

    report = {"checkpoint": str(args.checkpoint), "n": n, "precision": args.precision,
              "checker_energy": {"outputs": float(checker_energy(out).mean()),
                                 "outputs_low_passed": float(checker_energy(low_pass(out)).mean()),
                                 "photos": float(checker_energy(photo).mean())},
              "outputs": fd(out, photo), "outputs_low_passed": fd(low_pass(out), photo),
              "photos_low_passed": fd(low_pass(photo), photo)}
    emit(report, args.json)


if __name__ == "__main__":
    main()
