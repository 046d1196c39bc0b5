"""Device and precision choices in one place (CUDA when present, else the CPU; bf16 where the
hardware computes it natively, fp32 elsewhere)."""
from __future__ import annotations

import contextlib
import functools
import os

import torch


def setup_threads() -> None:
    """Use every core the process may use (2 here), keep oneDNN on. LAB_THREADS overrides: two
    1-thread trainings side by side get more done than one after the other (2 threads scale well
    below 2x; docs/DESIGN.md, CycleGAN)."""
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


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (AVX-512 BF16 or AMX): there these nets run
    faster in bf16. Elsewhere (AVX2-only CPUs: most laptops, AMD EPYC Zen 3) oneDNN emulates bf16
    and it is several times *slower* than fp32, so those CPUs run fp32 (figures: docs/RESULTS.md,
    docs/DESIGN.md "Precision"). LAB_PRECISION=fp32|bf16 overrides the detection."""
    forced = os.environ.get("LAB_PRECISION", "").strip().lower()
    if forced in ("fp32", "bf16"):
        return forced == "bf16"
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # pragma: no cover - a torch without these probes
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def bf16_supported(device: torch.device) -> bool:
    """Is bf16 worth using on this device (fast, not merely possible)?"""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def resolve_precision(device: torch.device, precision: str) -> str:
    """The precision that really runs on `device` when `precision` ("bf16" or "fp32") is asked:
    "bf16" becomes "fp32" where bf16 is not fast (see bf16_supported). Runs and evals record it."""
    if precision not in ("bf16", "fp32"):
        raise ValueError(f"precision must be 'bf16' or 'fp32', not {precision!r}")
    return "bf16" if precision == "bf16" and bf16_supported(device) else "fp32"


def compute_dtype(device: torch.device, precision: str = "bf16") -> torch.dtype:
    """The dtype that really computes on `device` when `precision` is asked (see resolve_precision).
    Resolve it once, when a task, pipeline or feature extractor is built, and keep it: it is the
    weights dtype of the inference pipelines (bf16 weights + channels_last beat autocast there) and
    the autocast dtype of training steps."""
    return torch.bfloat16 if resolve_precision(device, precision) == "bf16" else torch.float32


def autocast(device: torch.device, dtype: torch.dtype):
    """bf16 autocast for dtype torch.bfloat16 (from compute_dtype), a no-op for torch.float32."""
    if dtype == torch.bfloat16:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if dtype != torch.float32:
        raise ValueError(f"autocast takes torch.bfloat16 or torch.float32 (from compute_dtype), not {dtype!r}")
    return contextlib.nullcontext()
