"""Loading shipped checkpoints once, noticing when a new one has been promoted, and cutting short
the work a newer request has replaced."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from torch import nn

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


class Superseded(Exception):
    """A newer request replaced this one while it ran (raised where `stop_when`'s check came true)."""


_STOP = threading.local()  # per worker thread: the running request's "has a newer one come?" check


def stoppable(net: nn.Module) -> nn.Module:
    """Lets `stop_when` cut net's forward passes short: a check before each convolution (a few
    microseconds; the slowest convolution of a 128 px U-Net takes milliseconds). Idempotent; returns net."""
    if not getattr(net, "_lab_stoppable", False):
        for module in net.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                module.register_forward_pre_hook(_check_stop)
        net._lab_stoppable = True
    return net


def _check_stop(module: nn.Module, args) -> None:
    check_stop()


def check_stop() -> None:
    """Raise Superseded when the check installed by `stop_when` in this thread says so."""
    stop = getattr(_STOP, "check", None)
    if stop is not None and stop():
        raise Superseded()


@contextmanager
def stop_when(stop: Callable[[], bool] | None) -> Iterator[None]:
    """Inside the block, in this thread only: `check_stop` and the forward passes of `stoppable` nets
    raise Superseded once stop() is true (None: never). Other threads running the same nets at the
    same time are not affected."""
    previous = getattr(_STOP, "check", None)
    _STOP.check = stop
    try:
        yield
    finally:
        _STOP.check = previous
