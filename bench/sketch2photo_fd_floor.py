"""The FD_eff / KID_eff that real photos score against the val photos: the floor under any model's figure.

    python bench/sketch2photo_fd_floor.py [--data DIR] [--json FILE]

`python -m core.eval sketch2photo` compares a model's outputs for the val edge maps with the val
photos (300 pairs, both at the model's side). FD between two sets of 300 in 1,280 dimensions is
biased upwards by the small sample, so even real photos do not score 0. Here the "outputs" are
other real photos: 300 training photos evenly spaced through the folder (never the val ones), at 128 px (the shipped
model's side) and 256 px (the reference recipe's), and the val photos themselves (FD 0 by
construction, a check). A ratio between two models' FDs reads differently once both sit on this floor.
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.data.paired import PairedDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.metrics.distribution import DistributionMetrics  # noqa: E402
from core.metrics.features import EfficientNetFeatures  # noqa: E402
from core.registry import SHARED_DATA  # noqa: E402

N = 300  # the eval's val pairs


def photos(folder: Path, side: int, n: int) -> torch.Tensor:
    """n photos evenly spaced through a folder of photo|edges pairs (shoes and bags alike) at `side`
    px, [n, 3, side, side] in [0, 1]."""
    ds = PairedDataset(folder, crop_size=side, augment=False, photo_left=True)
    order = torch.linspace(0, len(ds) - 1, min(n, len(ds))).round().long().tolist()
    return torch.stack([ds[i]["B"] for i in order]) * 0.5 + 0.5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "edges2shoes_handbags",
                    help="a folder with train/ and val/ pairs (photo|edges)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    setup_threads()
    features = EfficientNetFeatures()  # as the eval (bf16 where native)
    result = {"n": N, "features_precision": features.precision}
    for side in (128, 256):
        val, train = photos(args.data / "val", side, N), photos(args.data / "train", side, N)
        for name, other in (("train_photos", train), ("val_photos_themselves", val)):
            dist = DistributionMetrics(features)
            for start in range(0, N, 50):
                dist.add(real=val[start:start + 50], fake=other[start:start + 50])
            result[f"{name}_{side}px"] = {k: round(v, 4) for k, v in dist.compute().items()}
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
