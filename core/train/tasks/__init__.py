"""Training steps, one class per task; `TASKS` maps a registry task name to its class."""
from __future__ import annotations

from .base import Task
from .pix2pix import Pix2PixTask

TASKS: dict[str, type[Task]] = {
    "pix2pix": Pix2PixTask,
}

__all__ = ["TASKS", "Task"]
