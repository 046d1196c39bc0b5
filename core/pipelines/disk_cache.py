"""A small on-disk cache for tensors that are slow to compute and fully determined by some weights
and settings (e.g. the classifier's labels of the arithmetic pool: minutes on a CPU the first time, then read
back in milliseconds by every later process: the app, its tests, the eval; docs/RESULTS.md).

Location: $LAB_CACHE_DIR, else ~/.cache/genlab. A missing, unreadable or corrupt entry is simply
recomputed; a cache that cannot be written (read-only or full disk, no home) only costs the
recomputation."""
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


def weights_digest(*tensors_or_modules) -> str:
    """A hex digest of modules' parameters and buffers (names, shapes, dtypes, values) and of plain
    tensors (shapes, dtypes, values)."""
    h = hashlib.sha256()
    for m in tensors_or_modules:
        items = sorted(m.state_dict().items()) if isinstance(m, torch.nn.Module) else [("", m)]
        for name, t in items:
            h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
            h.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def cached(name: str, key: str, build: Callable[[], dict[str, torch.Tensor]],
           valid: Callable[[dict[str, torch.Tensor]], bool] = lambda _: True) -> dict[str, torch.Tensor]:
    """build() once per (name, key) on this machine; later calls read the stored tensors (when
    `valid` accepts them: a last guard against a stale or foreign entry)."""
    stored = lookup(name, key, valid)
    if stored is not None:
        return stored
    out = build()
    store(name, key, out)
    return out


def _path(name: str, key: str) -> Path:
    return cache_dir() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.safetensors"


def lookup(name: str, key: str, valid: Callable[[dict[str, torch.Tensor]], bool] = lambda _: True
           ) -> dict[str, torch.Tensor] | None:
    """The stored tensors of (name, key), or None when there are none (or they are unreadable, or
    `valid` refuses them)."""
    try:
        stored = load_file(_path(name, key))
        return stored if valid(stored) else None
    except Exception:  # noqa: BLE001 - no home, missing or corrupt entry: recompute
        return None


def store(name: str, key: str, tensors: dict[str, torch.Tensor]) -> None:
    """Keep tensors for (name, key); a cache that cannot be written only costs the recomputation."""
    try:
        path = _path(name, key)
    except Exception:  # noqa: BLE001 - no home
        return
    _store(path, tensors)


def _store(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        tmp = None
    except Exception:  # noqa: BLE001 - read-only, full (safetensors raises its own error type), ...
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
