"""The GAN playground as the tab uses it (core.playground holds the science): the process's one
RunManager on its compute thread, the choices and presets, and the pictures. No checkpoint: the
models are trained live, per visitor."""
from __future__ import annotations

import threading

from ..playground.compute import ComputeThread
from ..playground.data import BLOB_POINTS, DATASETS, MAX_POINTS, MIN_POINTS, VIEW, blob, check_points, make_dataset
from ..playground.losses import LOSSES
from ..playground.manager import CPU_SHARE, IDLE_S, MAX_RATE, MAX_RUNS, MAX_STEPS, STEP_MAX, TICK_S, Full, RunManager
from ..playground.render import data_url, pad_image, pad_to_view, picture
from ..playground.session import PlaygroundRun, Snapshot
from ..playground.settings import D_STEPS_RANGE, LR_RANGE, NOISE_DIM_RANGE, PRESETS, Settings

__all__ = ["BLOB_POINTS", "CPU_SHARE", "DATASETS", "D_STEPS_RANGE", "Full", "IDLE_S", "LOSSES", "LR_RANGE", "MAX_POINTS",
           "MAX_RATE", "MIN_POINTS", "MAX_RUNS", "MAX_STEPS", "NOISE_DIM_RANGE", "PRESETS", "STEP_MAX", "Settings",
           "Snapshot", "TICK_S", "VIEW", "blob", "check_points", "data_url", "make_dataset", "manager", "pad_image",
           "pad_to_view", "picture", "preview"]

_manager: RunManager | None = None
_lock = threading.Lock()


def manager() -> RunManager:
    """The process's RunManager. The first call starts its compute thread: make it before the server
    starts its worker threads (the tab does, when it is built; see core.playground.compute)."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = RunManager(compute=ComputeThread())
        return _manager


def preview(dataset: str, preset: str) -> Snapshot:
    """Step 0 of a run that is not kept (the picture a tab shows before anything runs)."""
    return manager().compute.call(lambda: PlaygroundRun(make_dataset(dataset), PRESETS[preset][0]).snapshot())
