"""What every tab shares: the heavy-event concurrency limit and the notice/status styles."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import gradio as gr

from core.pipelines import face_arithmetic as face_arithmetic_pipeline

from . import PROCESS_TMP

# Every event that runs a model shares this one queue slot group: on a 2-core CPU more than
# two models at once only makes every user wait longer.
HEAVY = dict(concurrency_id="model", concurrency_limit=2)


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
