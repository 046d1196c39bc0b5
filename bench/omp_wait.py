"""Why the app sets OMP_WAIT_POLICY=PASSIVE (core/__init__.py): the sketch and colorization
models' time per call with OpenMP threads that spin (ACTIVE, libgomp's default) or sleep (PASSIVE)
while they wait, on an idle machine and beside N busy single-thread processes (a training run,
another request).

    python bench/omp_wait.py [--busy 0 1 2] [--repeats 10] [--json FILE]

Each measurement runs in a fresh interpreter, since libgomp reads the policy once, at load.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time, statistics
import numpy as np, torch
from PIL import Image
from core.device import setup_threads
from core.pipelines.colorization import ColorizationPipeline, has_checkpoint
from core.pipelines.sketch2photo import Sketch2PhotoPipeline
from core.registry import get_spec
setup_threads()
repeats = int(sys.argv[1])
drawing = Image.fromarray((np.random.default_rng(0).random((256, 256)) > 0.95).astype(np.uint8) * 255).convert("RGB")
calls = {"sketch2photo": (Sketch2PhotoPipeline.from_checkpoint(get_spec("sketch2photo").checkpoint_dir), drawing)}
if has_checkpoint():
    photo = Image.fromarray(np.random.default_rng(1).integers(0, 256, (256, 256, 3), dtype=np.uint8))
    calls["colorization"] = (ColorizationPipeline.from_checkpoint(get_spec("colorization").checkpoint_dir), photo)
out = {"threads": torch.get_num_threads()}
for name, (pipe, x) in calls.items():
    pipe(x); pipe(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); pipe(x); times.append((time.perf_counter() - t) * 1000)
    out[name] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}
print(json.dumps(out))
"""

BUSY = "import torch\ntorch.set_num_threads(1)\nx = torch.rand(512, 512)\nwhile True:\n    x = (x @ x).tanh()\n"


def measure(policy: str, busy: int, repeats: int) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": policy, "PYTHONPATH": str(ROOT)}
    env.pop("LAB_THREADS", None)
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY], env={**env, "OMP_WAIT_POLICY": "PASSIVE"})
            for _ in range(busy)]
    try:
        res = subprocess.run([sys.executable, "-c", CHILD, str(repeats)], env=env, cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=600)
        return json.loads(res.stdout.strip().splitlines()[-1])
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    report = {"load_before": os.getloadavg()[0]}
    for busy in args.busy:
        for policy in ("ACTIVE", "PASSIVE"):
            report[f"busy_{busy}_{policy.lower()}"] = measure(policy, busy, args.repeats)
            print(busy, policy, report[f"busy_{busy}_{policy.lower()}"], flush=True)
    report["load_after"] = os.getloadavg()[0]
    emit(report, args.json)


if __name__ == "__main__":
    main()
