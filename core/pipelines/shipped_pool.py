"""The arithmetic pool's labels shipped beside a faces model's weights, so that a new machine does
not spend minutes of CPU labelling 12,000 faces before the vector-arithmetic and text-edit tabs
can answer (1.5-3.5 min per faces model on 2 cores: docs/RESULTS.md, "Cold start and warm-up").

The file holds exactly what the disk cache would: the classifier's probabilities [N, A] in fp32 (in
fp16, up to 43 of the 480,000 would cross one of the thresholds the exemplars and probes use) and,
as metadata, the key they belong to (core.pipelines.face_arithmetic: the latents, both nets'
weights, the attribute names, the devices). A file whose key does not match the weights in use, e.g.
after a faces model or the classifier was re-promoted, is ignored and the pool is labelled as before.

    python -m core.pipelines.shipped_pool [faces ...]   # (re)write the files after retraining
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable

import torch
from safetensors import safe_open
from safetensors.torch import save_file

POOL_FILE = "arithmetic_pool.safetensors"  # in the faces model's checkpoint folder
ENV_OFF = "LAB_SHIPPED_POOL"  # "0": ignore shipped labels (to see and time the first labelling on a machine)


def enabled() -> bool:
    return os.environ.get(ENV_OFF, "1") != "0"


def read(path: Path, key: str, valid: Callable[[dict[str, torch.Tensor]], bool]) -> torch.Tensor | None:
    """The shipped probabilities [N, A] in `path` when they were written for `key` (and `valid`
    accepts them), else None (no file, another key, unreadable, or switched off by LAB_SHIPPED_POOL=0)."""
    if not enabled():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            if (f.metadata() or {}).get("key") != key:
                return None
            stored = {"probs": f.get_tensor("probs")}
        return stored["probs"] if valid(stored) else None
    except Exception:  # noqa: BLE001 - missing or corrupt file: label as before
        return None


def find(key: str, valid: Callable[[dict[str, torch.Tensor]], bool]) -> torch.Tensor | None:
    """The shipped probabilities written for `key` in any registry model's checkpoint folder (those
    of the faces models hold them), else None: whoever builds a FaceArithmetic on the shipped weights
    (the tabs, the evals, the benchmarks) reads them."""
    from ..registry import REGISTRY

    for spec in REGISTRY.values():
        path = spec.checkpoint_dir / POOL_FILE
        if path.is_file():
            probs = read(path, key, valid)
            if probs is not None:
                return probs
    return None


def write(path: Path, key: str, probs: torch.Tensor) -> Path:
    """Store probabilities [N, A] (fp32) for `key` at `path`."""
    save_file({"probs": probs.float().contiguous()}, str(path), metadata={"key": key})
    os.chmod(path, 0o644)  # a shipped file, readable like the weights beside it
    return path


def ship(faces: str) -> Path:
    """Label (or read from the disk cache) the pool of shipped faces model `faces` and write it into
    its checkpoint folder."""
    from ..registry import get_spec
    from . import face_arithmetic

    arith = face_arithmetic.load(faces)
    pool = arith.pool
    return write(get_spec(faces).checkpoint_dir / POOL_FILE, pool.key, pool.probs)


def main(argv: list[str] | None = None) -> None:
    from .face_arithmetic import shipped_faces_models

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces", nargs="*", help="faces models (default: every shipped one)")
    args = parser.parse_args(argv)
    for name in args.faces or shipped_faces_models():
        print(f"{name}: {ship(name)}")


if __name__ == "__main__":
    main()
