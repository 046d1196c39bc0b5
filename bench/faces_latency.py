"""Time of the faces tabs' work on this machine: decoding faces, the classifier, the labelled pool.

    python bench/faces_latency.py [--repeats 20] [--json FILE]

Uses the shipped checkpoints when present, else freshly initialised nets of the registry's
architecture (same arithmetic, same time).
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import DTYPES, emit, machine, timed  # noqa: E402
from core.checkpoint import load_checkpoint  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.nets import build_net  # noqa: E402
from core.pipelines import face_arithmetic, face_attributes  # noqa: E402
from core.pipelines.faces import FacesPipeline  # noqa: E402
from core.registry import get_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    cpu = torch.device("cpu")
    shipped = face_arithmetic.has_checkpoints()
    report = {**machine(), "weights": "shipped" if shipped else "random init"}
    for precision in ("fp32", "bf16"):
        net = load_checkpoint(get_spec("faces").checkpoint_dir)[0]["G"] if shipped else build_net(get_spec("faces").nets["G"])
        pipe = FacesPipeline(net, cpu, DTYPES[precision], {})  # forced dtype: see bench/common.DTYPES
        for n in (1, 9, 25, 81):
            z = torch.randn(n, pipe.z_dim)
            report[f"decode_{n}_{precision}"] = timed(lambda: pipe.decode(z), args.repeats)
        report[f"decode_and_show_9_{precision}"] = timed(lambda: pipe.images(torch.randn(9, pipe.z_dim), 96),
                                                         args.repeats)
    if shipped:
        clf = face_attributes.load()
        x = pipe.decode(torch.randn(64, pipe.z_dim))
        report["classifier_64"] = timed(lambda: clf.probabilities(x), args.repeats)
        faces32 = FacesPipeline.from_checkpoint(get_spec("faces").checkpoint_dir, device="cpu")
        report["pool_size"] = face_arithmetic.POOL_SIZE
        with tempfile.TemporaryDirectory() as cache:  # an empty disk cache: the first start on a machine
            os.environ["LAB_CACHE_DIR"] = cache
            for key in ("pool_build_s", "pool_from_disk_cache_s"):
                t = time.perf_counter()
                face_arithmetic.FaceArithmetic(faces32, clf).pool  # noqa: B018 - labels (or reads) the pool
                report[key] = round(time.perf_counter() - t, 2)
    emit(report, args.json)


if __name__ == "__main__":
    main()
