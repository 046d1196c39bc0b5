"""One checkpoint format: a folder with config.json + model.safetensors + MODEL_CARD.md.

config.json = {"format": 1, "nets": {name: net config dict}, "meta": {...}}. A checkpoint may
hold several nets (CycleGAN ships two generators); tensors are stored as "<name>.<param>".
Writes are atomic: everything goes to a temporary sibling folder, which is renamed into place,
so a crash never leaves a half-written checkpoint.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .nets import build_net, config_from_dict, config_to_dict

FORMAT = 1
TOP_KEYS = {"format", "nets", "meta"}
KEPT_FOLDERS = ("timelapse",)  # what a checkpoint folder holds besides its weights and card, kept on re-save


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temp file in the same folder + os.replace (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save through a temp file + rename, so a killed process leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(
    folder: Path,
    nets: dict[str, nn.Module],
    meta: dict[str, Any] | None = None,
    card: str = "",
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write nets (each with a `.config` dataclass) to `folder`, replacing it atomically.

    Floating tensors are cast to `dtype` (fp16 by default: half the size, quality checked in
    each model card); integer buffers (BatchNorm's counter) keep theirs. The folder's model card
    (unless `card` gives a new one) and its KEPT_FOLDERS (the training time-lapse) are kept.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            value = value.detach().to("cpu")
            if value.is_floating_point():
                value = value.to(dtype)
            tensors[f"{name}.{key}"] = value.contiguous()
    config = {
        "format": FORMAT,
        "nets": {name: config_to_dict(net.config) for name, net in nets.items()},
        "meta": meta or {},
    }
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp"))
    try:
        save_file(tensors, str(tmp / "model.safetensors"))
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        if card:
            (tmp / "MODEL_CARD.md").write_text(card)
        elif (folder / "MODEL_CARD.md").exists():
            shutil.copy2(folder / "MODEL_CARD.md", tmp / "MODEL_CARD.md")
        for extra in KEPT_FOLDERS:  # new weights for the same model (a D attached) keep its time-lapse
            if (folder / extra).is_dir() and not (folder / extra).is_symlink():
                shutil.copytree(folder / extra, tmp / extra, symlinks=True)
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700 folders
        for f in tmp.rglob("*"):
            os.chmod(f, 0o755 if f.is_dir() else 0o644)
        _fsync_tree(tmp)
        swap_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _fsync_tree(folder: Path) -> None:
    for f in folder.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())


def swap_folder(new: Path, target: Path) -> None:
    """Replace `target` by `new` with renames only; `target` is never missing its files.

    The old folder is renamed aside first and deleted after the new one is in place; a reader
    that races the swap sees either the old or the new complete folder (or, for one rename's
    time, none, which loaders report as "not trained yet" and retry on the next call).
    """
    new, target = Path(new), Path(target)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_swap(target: Path) -> None:
    """Undo a swap interrupted between its two renames (the old folder is still complete)."""
    target = Path(target)
    if not target.exists():
        olds = sorted(target.parent.glob(f".{target.name}.old.*"))
        if olds:
            os.replace(olds[-1], target)


def read_config(folder: Path) -> dict[str, Any]:
    """Parse and validate config.json; unknown top-level or net config keys raise ValueError."""
    data = json.loads((Path(folder) / "config.json").read_text())
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ValueError(f"unknown checkpoint config keys: {unknown}")
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported checkpoint format {data.get('format')!r}")
    data["nets"] = {name: config_from_dict(cfg) for name, cfg in data["nets"].items()}
    return data


def load_checkpoint(folder: Path, dtype: torch.dtype = torch.float32) -> tuple[dict[str, nn.Module], dict]:
    """Rebuild every net from config.json and load its weights (strictly). Nets are in eval mode.

    Returns ({name: net}, meta).
    """
    folder = Path(folder)
    data = read_config(folder)
    tensors = load_file(str(folder / "model.safetensors"))
    nets: dict[str, nn.Module] = {}
    for name, cfg in data["nets"].items():
        net = build_net(cfg)
        prefix = f"{name}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        net.load_state_dict(state, strict=True)
        nets[name] = net.to(dtype).eval()
    return nets, data["meta"]


def is_checkpoint(folder: Path) -> bool:
    folder = Path(folder)
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
