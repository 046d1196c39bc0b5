"""What every tab shares: the heavy-event concurrency limit, the gate for component-server
functions, and the notice/status styles."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Callable

import anyio
import gradio as gr

from core.pipelines import face_arithmetic as face_arithmetic_pipeline

from . import PROCESS_TMP

# Every event that runs a model shares this one queue slot group: on a 2-core CPU more than
# two models at once only makes every user wait longer.
HEAVY = dict(concurrency_id="model", concurrency_limit=2)


class Gate:
    """Bounded concurrency for the functions a page calls through Gradio's /component_server
    (`gr.HTML(server_functions=...)`). That route is not queued: it runs each call at once, outside
    every concurrency limit, so a flood would run any number of models side by side on two cores.
    At most `slots` calls run at once; at most `max_waiting` more wait, each for at most `wait_s`;
    any other call is answered `None` at once (the page retries a little later). Waiting costs no
    thread: the wait is on the event loop, and only a call holding a slot gets a worker thread."""

    def __init__(self, slots: int = 2, max_waiting: int = 8, wait_s: float = 1.0):
        self.slots, self.max_waiting, self.wait_s = slots, max_waiting, wait_s
        self.waiting = 0
        self._limiter: anyio.CapacityLimiter | None = None  # made in the server's event loop, on first use

    async def run(self, fn: Callable[..., Any], *args) -> Any:
        """fn(*args) in a worker thread once a slot is free, or None when the gate is busy."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.slots)
        if self.waiting >= self.max_waiting:
            return None
        token, acquired = object(), False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait_s):
                await self._limiter.acquire_on_behalf_of(token)
                acquired = True
        finally:
            self.waiting -= 1
        if not acquired:
            return None
        try:
            # Not cancellable: a thread cannot be stopped, and the slot must stay taken while it runs.
            return await anyio.to_thread.run_sync(fn, *args)
        finally:
            self._limiter.release_on_behalf_of(token)


def notice(title: str, body: str) -> gr.Markdown:
    """A friendly box for a tab whose model is not trained or shipped yet."""
    return gr.Markdown(f"### {title}\n\n{body}", elem_classes=["lab-notice"])


def ok(msg: str) -> str:
    return f"✅ {msg}"


def warn(msg: str) -> str:
    return f"⚠️ {msg}"


NOT_TRAINED = ("This model has not been trained yet, so there is nothing to run here. "
               "Train it with `python -m core.train {name} --promote` (or from the admin tab), "
               "and this tab picks the new weights up without a restart.")


# The files this process writes for the browser (GIFs, example files), in the process's temp
# folder (removed at exit); Gradio copies what a tab returns into its own cache (pruned by
# demos.server.DELETE_CACHE).
SCRATCH_MAX_AGE_S = 600


def scratch_dir() -> Path:
    folder = PROCESS_TMP / "scratch"
    folder.mkdir(exist_ok=True)
    return folder


def scratch_file(name: str) -> Path:
    """A fresh path in the scratch folder; files older than SCRATCH_MAX_AGE_S go first (Gradio
    has long copied them by then)."""
    folder = scratch_dir()
    now = time.time()
    for old in folder.glob("*.*"):
        try:
            if old.is_file() and now - old.stat().st_mtime > SCRATCH_MAX_AGE_S:
                old.unlink()
        except OSError:
            pass
    return folder / f"{uuid.uuid4().hex[:12]}_{name}"


# Shown when a click needs the arithmetic pool before it exists (a new machine's first minutes).
POOL_WAIT = (f"Preparing the {face_arithmetic_pipeline.POOL_SIZE:,} classifier-labelled faces behind the presets and "
             "attribute directions: the first time on a machine this takes a minute or more on a CPU, later it is "
             "read from disk at once.")


def face_arithmetic():
    """The shared FaceArithmetic (raises NotTrainedError); says why this click waits when its
    labelled pool is not built yet."""
    arith = face_arithmetic_pipeline.load()
    if not arith.pool_ready:
        gr.Info(POOL_WAIT, duration=15)
    return arith
