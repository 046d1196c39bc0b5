"""Shared by the benchmarks: timing and reporting."""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import json
import platform
import statistics
import time
from pathlib import Path

import torch


# Benchmarks time both precisions whatever the CPU; the app picks one (core.device.bf16_supported).
DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


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
    from core.device import cpu_has_native_bf16

    return {"threads": torch.get_num_threads(), "cpu": _cpu_name(), "torch": torch.__version__,
            # the benches force both dtypes; the app serves bf16 only where this is true
            "native_bf16": cpu_has_native_bf16()}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (children not included; 0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # the state follows the last ")"
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def app_pid(url: str) -> int:
    """The process of the app.py serving `url` (tests.apprunner.running_app's, on its port)."""
    port = url.rstrip("/").rsplit(":", 1)[1].encode()
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and b"app.py" in cmd and port in cmd:
            return int(entry.name)
    raise LookupError(f"no app.py serving {url}")


def emit(report: dict, path: Path | None) -> None:
    """Print the report as JSON and, with a path, write it there too."""
    text = json.dumps(report, indent=2)
    print(text)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
