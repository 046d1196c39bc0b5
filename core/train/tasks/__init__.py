"""Training steps, one class per task; `TASKS` maps a registry task name to its class."""
from __future__ import annotations

from .attributes import AttributeTask
from .base import Task
from .colorization import ColorizationTask
from .cyclegan import CycleGANTask
from .dcgan import DCGANTask
from .face_text import FaceTextTask
from .inpainting import InpaintingTask
from .pix2pix import Pix2PixTask
from .vaegan import VAEGANTask

TASKS: dict[str, type[Task]] = {
    "pix2pix": Pix2PixTask,
    "cyclegan": CycleGANTask,
    "dcgan": DCGANTask,
    "attributes": AttributeTask,
    "colorization": ColorizationTask,
    "inpainting": InpaintingTask,
    "vaegan": VAEGANTask,
    "face_text": FaceTextTask,
}

__all__ = ["TASKS", "Task"]
