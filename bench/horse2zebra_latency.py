"""Time of the horse/zebra tab's model at 256 px (and 512 px) on this machine.

    python bench/horse2zebra_latency.py [--repeats 20] [--json FILE]

Uses the shipped checkpoint when there is one, else freshly initialised generators of the
registry's architecture (the same arithmetic, so the same time).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit, machine, timed  # noqa: E402
from core.device import inference_dtype, setup_threads  # noqa: E402
from core.nets import build_net  # noqa: E402
from core.pipelines.horse2zebra import HorseZebraPipeline, has_checkpoint  # noqa: E402
from core.registry import get_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    setup_threads()
    spec = get_spec("horse2zebra")
    report = {**machine(), "weights": "shipped" if has_checkpoint() else "random init"}
    for precision in ("bf16", "fp32"):
        cpu = torch.device("cpu")
        if has_checkpoint():
            pipe = HorseZebraPipeline.from_checkpoint(spec.checkpoint_dir, device="cpu", precision=precision)
        else:
            nets = {n: build_net(spec.nets[n]).eval() for n in spec.shipped}
            pipe = HorseZebraPipeline(nets, cpu, inference_dtype(cpu, precision), {})
        for side in (256, 512):
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
