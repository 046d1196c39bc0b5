"""Shared by the benchmarks: timing and reporting."""
from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

import torch


def timed(fn, repeats: int, warmup: int = 5) -> dict[str, float]:
    """Median and 90th-percentile wall time of fn() in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "p90_ms": round(sorted(times)[int(0.9 * len(times))], 2)}


def machine() -> dict[str, object]:
    return {"threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__}


def emit(report: dict, path: Path | None) -> None:
    """Print the report as JSON and, with a path, write it there too."""
    text = json.dumps(report, indent=2)
    print(text)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
