"""Device and precision choices in one place (CUDA when present, else the CPU with bf16)."""
from __future__ import annotations

import contextlib
import os

import torch


def setup_threads() -> None:
    """Use every core the process may use (2 here), keep oneDNN on. LAB_THREADS overrides: two
    1-thread trainings side by side get more done than one after the other (2 threads scale ~1.35x)."""
    if os.environ.get("LAB_THREADS", "").isdigit() and int(os.environ["LAB_THREADS"]) > 0:
        torch.set_num_threads(int(os.environ["LAB_THREADS"]))
        torch.backends.mkldnn.enabled = True
        return
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        n = os.cpu_count() or 1
    # Under torchrun the processes on one machine share its cores.
    n //= max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    torch.set_num_threads(max(1, n))
    torch.backends.mkldnn.enabled = True


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu"


def autocast(device: torch.device, precision: str):
    """Autocast context for precision "bf16" (where supported) or a no-op for "fp32"."""
    if precision == "bf16" and bf16_supported(device):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision not in ("bf16", "fp32"):
        raise ValueError(f"precision must be 'bf16' or 'fp32', not {precision!r}")
    return contextlib.nullcontext()


def inference_dtype(device: torch.device, precision: str = "bf16") -> torch.dtype:
    """Weights dtype for inference: bf16 weights + channels_last beat autocast on this CPU."""
    return torch.bfloat16 if precision == "bf16" and bf16_supported(device) else torch.float32
