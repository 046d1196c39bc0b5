"""Is bf16 autocast good enough for training? Compares one real batch's gradients under fp32
and bf16 autocast from the same weights, and times training steps in both.

    python bench/train_precision.py sketch2photo [--batches 3] [--steps 10]
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.device import setup_threads  # noqa: E402
from core.registry import get_spec  # noqa: E402
from core.train.config import config_for  # noqa: E402
from core.train.tasks import TASKS  # noqa: E402


def grads(task, batch, precision):
    task.config = task.config.with_(precision=precision)
    task.opts["G"].step = lambda *a, **k: None  # keep weights fixed: we only want the gradients
    task.opts["D"].step = lambda *a, **k: None
    torch.manual_seed(0)  # same dropout masks
    task.train_step(batch, 1)
    return {n: torch.cat([p.grad.flatten().float() for p in net.parameters() if p.grad is not None])
            for n, net in task.nets.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    setup_threads()
    spec = get_spec(args.name)
    cfg = config_for(spec)
    torch.manual_seed(0)
    task = TASKS[spec.task](spec, cfg, torch.device("cpu"))
    ds = task.make_dataset(spec.data.train, augment=True)
    loader = iter(torch.utils.data.DataLoader(ds, batch_size=cfg.batch_size, shuffle=True))
    report = {"cosine": {}, "rel_err": {}, "steps_per_s": {}}
    for b in range(args.batches):
        batch = next(loader)
        g32, g16 = grads(task, batch, "fp32"), grads(task, batch, "bf16")
        for n in g32:
            cos = torch.nn.functional.cosine_similarity(g32[n], g16[n], dim=0).item()
            rel = ((g32[n] - g16[n]).norm() / g32[n].norm()).item()
            report["cosine"].setdefault(n, []).append(round(cos, 4))
            report["rel_err"].setdefault(n, []).append(round(rel, 4))
    for precision in ("fp32", "bf16"):
        task = TASKS[spec.task](spec, cfg.with_(precision=precision), torch.device("cpu"))
        batch = next(loader)
        task.train_step(batch, 1)
        t = time.perf_counter()
        for i in range(args.steps):
            task.train_step(batch, i + 2)
        report["steps_per_s"][precision] = round(args.steps / (time.perf_counter() - t), 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
