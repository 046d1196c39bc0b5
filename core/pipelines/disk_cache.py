"""A small on-disk cache for tensors that are slow to compute and fully determined by some weights
and settings (e.g. the classifier's labels of the 12,000-face arithmetic pool: ~1.5 min on 2 CPU
cores, then read back in milliseconds by every later process: the app, its tests, the eval).

Location: $LAB_CACHE_DIR, else ~/.cache/genlab. A missing, unreadable or corrupt entry is simply
recomputed; a cache that cannot be written (read-only home) only costs the recomputation."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file


def cache_dir() -> Path:
    return Path(os.environ.get("LAB_CACHE_DIR") or Path.home() / ".cache" / "genlab")


def weights_digest(*modules: torch.nn.Module) -> str:
    """A hex digest of the modules' parameters and buffers (names, shapes, values)."""
    h = hashlib.sha256()
    for m in modules:
        for name, t in sorted(m.state_dict().items()):
            h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
            h.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def cached(name: str, key: str, build: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """build() once per (name, key) on this machine; later calls read the stored tensors."""
    path = cache_dir() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.safetensors"
    try:
        return load_file(path)
    except Exception:  # noqa: BLE001 - missing or corrupt: recompute
        pass
    out = build()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        save_file({k: v.contiguous() for k, v in out.items()}, tmp)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return out
