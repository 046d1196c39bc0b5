"""Does the EMA generator (with standing batch-norm statistics) beat the raw generator?

    python bench/faces_ema_ablation.py [--run runs/faces] [--data ../shared/data/celeba/img] [--n 2000]

Reads the run's state.pt (the raw G, its BN running statistics as trained) and checkpoint/ (the
EMA G with standing statistics) and compares FD_eff / KID_eff of n samples each against n real
faces, and the share of faces our attribute classifier calls male / bespectacled / smiling
(mode coverage; the real faces' shares beside them).
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
from core.checkpoint import load_checkpoint  # noqa: E402
from core.data.faces import FaceDataset  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.metrics.distribution import DistributionMetrics  # noqa: E402
from core.nets import build_net  # noqa: E402
from core.pipelines.face_attributes import AttributeClassifier  # noqa: E402
from core.registry import SHARED_DATA, get_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=Path("runs/faces"))
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "celeba" / "img")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    spec = get_spec("faces")
    state = torch.load(args.run / "state.pt", map_location="cpu", weights_only=False)
    raw = build_net(spec.nets["G"])
    raw.load_state_dict(state["task"]["nets"]["G"])
    ema = load_checkpoint(args.run / "checkpoint")[0]["G"]
    opts = spec.data.options
    ds = FaceDataset(args.data, augment=False, crop_fraction=opts["crop_fraction"], center_y=opts["center_y"])
    real = torch.stack([ds[i]["image"] for i in range(min(args.n, len(ds)))]) * 0.5 + 0.5
    report = {"step": state["step"], "n": args.n}
    clf = AttributeClassifier.from_checkpoint(get_spec("face_attributes").checkpoint_dir)

    def rates(images):
        shares = clf.shares(clf.probabilities(images * 2 - 1), ("Male", "Eyeglasses", "Smiling"))
        return {f"rate_{a}": v for a, v in shares.items()}

    report["real"] = rates(real)
    for name, G in (("raw_G", raw), ("ema_G_standing_stats", ema)):
        G.eval()
        dist = DistributionMetrics()
        dist.add(real=real)
        gen = torch.Generator().manual_seed(0)
        fakes = []
        with torch.inference_mode():
            for start in range(0, args.n, 250):
                z = torch.randn(min(250, args.n - start), G.config.z_dim, generator=gen)
                fakes.append((G(z) * 0.5 + 0.5).clamp(0, 1))
                dist.add(fake=fakes[-1])
            report[name] = {**dist.compute(), **rates(torch.cat(fakes))}
    emit(report, args.json)


if __name__ == "__main__":
    main()
