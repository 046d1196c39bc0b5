"""Time of the horse/zebra tab's model at 256 px (and 512 px) on this machine.

    python bench/horse2zebra_latency.py [--repeats 20] [--sides 256 512] [--json FILE]

Uses the shipped checkpoint when there is one, else freshly initialised generators of the
registry's architecture (the same arithmetic, so the same time).
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import DTYPES, emit, machine, timed  # noqa: E402
from core.checkpoint import load_checkpoint  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.nets import build_net  # noqa: E402
from core.pipelines.horse2zebra import HorseZebraPipeline, has_checkpoint  # noqa: E402
from core.registry import get_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--sides", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    spec = get_spec("horse2zebra")
    report = {**machine(), "weights": "shipped" if has_checkpoint() else "random init"}
    for precision in ("bf16", "fp32"):
        cpu = torch.device("cpu")
        if has_checkpoint():
            nets = load_checkpoint(spec.checkpoint_dir)[0]
        else:
            nets = {n: build_net(spec.nets[n]).eval() for n in spec.shipped}
        # The dtype is forced, so that a CPU without native bf16 shows why it is served fp32.
        pipe = HorseZebraPipeline(nets, cpu, DTYPES[precision], {})
        for side in args.sides:
            x = torch.rand(1, 3, side, side) * 2 - 1
            fwd = pipe.nets["G_A"]
            for fmt_name, fmt in (("", torch.channels_last), ("_nchw", torch.contiguous_format)):
                fwd.to(memory_format=fmt)
                xx = x.to(pipe.dtype).contiguous(memory_format=fmt)
                with torch.inference_mode():
                    report[f"one_generator_{side}px_{precision}{fmt_name}"] = timed(lambda: fwd(xx), args.repeats)
            fwd.to(memory_format=torch.channels_last)
    emit(report, args.json)


if __name__ == "__main__":
    main()
