"""Loading shipped checkpoints once, and noticing when a new one has been promoted."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, TypeVar

from ..checkpoint import is_checkpoint, recover_swap

T = TypeVar("T")


class NotTrainedError(RuntimeError):
    """The model has no shipped checkpoint yet (the UI shows a notice, not an error)."""


class CheckpointCache:
    """Builds a pipeline from a checkpoint folder once; rebuilds it when the folder's
    config.json changes (an atomic promote swaps the folder, which changes its inode/mtime)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], tuple[tuple, object]] = {}

    def get(self, folder: Path, builder: Callable[[Path], T], key: str = "") -> T:
        folder = Path(folder)
        recover_swap(folder)
        if not is_checkpoint(folder):
            raise NotTrainedError(f"no trained model in {folder} yet")
        st = (folder / "config.json").stat()
        stamp = (st.st_ino, st.st_mtime_ns)
        with self._lock:
            cached = self._items.get((str(folder), key))
            if cached and cached[0] == stamp:
                return cached[1]  # type: ignore[return-value]
            pipe = builder(folder)
            self._items[(str(folder), key)] = (stamp, pipe)
            return pipe


CACHE = CheckpointCache()
