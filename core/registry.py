"""The one registry of demo models: name -> task, net configs, data, checkpoint dir, defaults.

The app, the admin tab, the training and eval CLIs and the tests all read `REGISTRY`. A new
model is a new entry here (plus its net config, training step, pipeline and tab).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .nets import PatchGANConfig, UNetConfig

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class DataSpec:
    """Where a model's training and validation data live and how to read them."""

    train: Path | None
    val: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    task: str  # key of core.train.tasks.TASKS
    nets: dict[str, Any]  # net name -> frozen net config (G, D, ...)
    shipped: tuple[str, ...]  # nets written to the shipped checkpoint
    data: DataSpec
    train_defaults: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides

    @property
    def checkpoint_dir(self) -> Path:
        return CHECKPOINTS / self.name


SKETCH2PHOTO = ModelSpec(
    name="sketch2photo",
    title="Sketch to photo (pix2pix)",
    task="pix2pix",
    nets={
        # Sized for the CPU (bench/train_precision.py, docs/RESULTS.md): 4.8 M params = 9.5 MB fp16.
        "G": UNetConfig(in_channels=1, out_channels=3, base_channels=32, max_channels=160, num_downs=7,
                        upsample="transpose"),
        "D": PatchGANConfig(in_channels=1 + 3, base_channels=32, num_layers=3),
    },
    shipped=("G",),
    data=DataSpec(
        train=SHARED_DATA / "edges2shoes_handbags" / "train",
        val=SHARED_DATA / "edges2shoes_handbags" / "val",
        options={"photo_left": True, "input_mode": "edges"},
    ),
    train_defaults={"image_size": 128, "batch_size": 8, "steps": 14_000, "num_workers": 1, "lambda_L1": 100.0},
)

REGISTRY: dict[str, ModelSpec] = {spec.name: spec for spec in [SKETCH2PHOTO]}


def get_spec(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(REGISTRY)}") from None
