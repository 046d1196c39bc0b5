"""The generative image lab: one Gradio app, one tab per demo.

    python app.py [--host 127.0.0.1] [--port 7860]

Set LAB_ADMIN_PASSWORD to unlock the admin tab.
"""
from __future__ import annotations

import os
import threading

# demos first: importing it gives the process its own Gradio cache folder (before Gradio loads).
from demos import admin, horse2zebra, latent_walk, placeholder, sketch2photo, vector_arithmetic
from demos.server import arguments, blocks, launch, prepare

import gradio as gr  # noqa: E402

from core.device import setup_threads  # noqa: E402

# Working tabs first; the ones whose models are still to come last, so clicking through the app
# never runs into a dead end between two demos.
TABS = [
    ("Sketch → photo", "sketch2photo", sketch2photo.build),
    ("Horse ↔ zebra", "horse2zebra", horse2zebra.build),
    ("Latent walk", "latent_walk", latent_walk.build),
    ("Vector arithmetic", "vector_arithmetic", vector_arithmetic.build),
    ("Admin", "admin", admin.build),
    *[(f"{title} (coming)", key, lambda demo, key=key: placeholder.build(key, demo))
      for key, (title, _, _) in placeholder.COMING.items()],
]


def build_app() -> gr.Blocks:
    with blocks("Generative image lab") as demo:
        gr.Markdown("# Generative image lab\nEvery model here was defined, trained and evaluated by this "
                    "project on a 2-core CPU. Pick a tab.")
        with gr.Tabs():
            for label, key, build in TABS:
                with gr.Tab(label, id=key):
                    build(demo)
    return prepare(demo)


def warm_up() -> None:
    """Load the shipped faces models, label the arithmetic pool and measure each preset's success
    rate in the background (the first time on a machine this takes a while, docs/RESULTS.md; later
    starts read the labels from the disk cache, `core/pipelines/disk_cache.py`), so that the first
    click in the vector-arithmetic tab does not wait for them."""
    from core.pipelines import face_arithmetic

    try:
        if face_arithmetic.has_checkpoints():
            arith = face_arithmetic.load()
            for preset in face_arithmetic.PRESETS.values():  # the tab states each preset's record
                arith.record(preset)
    except Exception as e:  # a broken checkpoint is reported by the tab itself, on use
        print(f"warm-up skipped: {e}")


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_threads()
    if os.environ.get("LAB_WARMUP", "1") != "0":
        threading.Thread(target=warm_up, daemon=True, name="warm-up").start()
    launch(build_app(), args.host, args.port)


if __name__ == "__main__":
    main()
