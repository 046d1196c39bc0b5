"""Precision follows the hardware: bf16 only where the CPU computes it natively (elsewhere oneDNN
emulates it ~7x slower than fp32), with LAB_PRECISION as the override."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core import device
from core.pipelines.horse2zebra import HorseZebraPipeline
from core.nets import build_net
from core.registry import get_spec

CPU = torch.device("cpu")
CPUINFO = Path("/proc/cpuinfo")


@pytest.fixture
def precision(monkeypatch):
    """Set LAB_PRECISION (or clear it with None) and forget the cached detection, both ways."""
    def set_(value):
        if value is None:
            monkeypatch.delenv("LAB_PRECISION", raising=False)
        else:
            monkeypatch.setenv("LAB_PRECISION", value)
        device.cpu_has_native_bf16.cache_clear()

    yield set_
    device.cpu_has_native_bf16.cache_clear()


@pytest.mark.skipif(not CPUINFO.exists(), reason="reads the CPU's flags from /proc/cpuinfo (Linux)")
def test_detection_matches_the_cpu_flags(precision):
    """Checked against the kernel's own list of CPU flags, not against the probes the code uses."""
    precision(None)
    flags = set(next(ln for ln in CPUINFO.read_text().splitlines() if ln.startswith("flags")).split(":")[1].split())
    native = bool(flags & {"avx512_bf16", "amx_bf16"})
    assert device.cpu_has_native_bf16() is native
    assert device.compute_dtype(CPU, "bf16") == (torch.bfloat16 if native else torch.float32)
    assert device.compute_dtype(CPU, "fp32") == torch.float32


@pytest.mark.parametrize("forced, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_override_reaches_pipelines_and_autocast(precision, forced, dtype):
    precision(forced)
    spec = get_spec("horse2zebra")
    nets = {n: build_net(spec.nets[n]) for n in spec.shipped}
    pipe = HorseZebraPipeline(nets, CPU, device.compute_dtype(CPU, "bf16"), {})
    y, _ = pipe.run(torch.zeros(1, 3, 32, 32))
    assert pipe.dtype == dtype and y.dtype == torch.float32 and y.shape == (1, 3, 32, 32)
    with device.autocast(CPU, device.compute_dtype(CPU, "bf16")):
        out = torch.nn.Linear(4, 4)(torch.ones(1, 4))
    assert out.dtype == dtype
    assert device.resolve_precision(CPU, "bf16") == forced and device.resolve_precision(CPU, "fp32") == "fp32"
    with pytest.raises(ValueError):
        device.resolve_precision(CPU, "fp8")
