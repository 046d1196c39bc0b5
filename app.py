"""The generative image lab: one Gradio app, one tab per demo.

    python app.py [--host 127.0.0.1] [--port 7860]

Set LAB_ADMIN_PASSWORD to unlock the admin tab.
"""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import tempfile
import threading

# Gradio's file cache (uploads, returned images and GIFs) goes into a folder of this process,
# removed at exit, unless GRADIO_TEMP_DIR says otherwise: Gradio's own clean-up at shutdown misses
# some files, and a stopped app must leave nothing behind. Set before Gradio is imported.
if not os.environ.get("GRADIO_TEMP_DIR"):
    _CACHE = tempfile.mkdtemp(prefix="genlab-gradio-")
    atexit.register(shutil.rmtree, _CACHE, True)
    os.environ["GRADIO_TEMP_DIR"] = _CACHE

import gradio as gr  # noqa: E402

from core.device import setup_threads  # noqa: E402
from demos import admin, horse2zebra, latent_walk, placeholder, sketch2photo, vector_arithmetic  # noqa: E402
from demos.inputs import refuse_malformed_requests  # noqa: E402

CSS = """
.lab-notice {border-left: 4px solid #f59e0b; padding: 0.5em 1em; background: rgba(245, 158, 11, 0.08);}
"""

TABS = [
    ("Sketch → photo", "sketch2photo", sketch2photo.build),
    ("Horse ↔ zebra", "horse2zebra", horse2zebra.build),
    ("Colorization", "colorization", lambda demo: placeholder.build("colorization", demo)),
    ("Latent walk", "latent_walk", latent_walk.build),
    ("Vector arithmetic", "vector_arithmetic", vector_arithmetic.build),
    ("Inpainting", "inpainting", lambda demo: placeholder.build("inpainting", demo)),
    ("Text-guided edit", "text_edit", lambda demo: placeholder.build("text_edit", demo)),
    ("Admin", "admin", admin.build),
]


# Gradio's file cache (uploads, returned images and GIFs): files older than an hour go every ten
# minutes, and all of them when the server stops.
DELETE_CACHE = (600, 3600)
MAX_FILE_SIZE = "25mb"


def build_app() -> gr.Blocks:
    with gr.Blocks(title="Generative image lab", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# Generative image lab\nEvery model here was defined, trained and evaluated by this "
                    "project on a 2-core CPU. Pick a tab.")
        with gr.Tabs():
            for label, key, build in TABS:
                with gr.Tab(label, id=key):
                    build(demo)
    demo.queue(default_concurrency_limit=2, max_size=64)
    refuse_malformed_requests(demo)
    return demo


def warm_up() -> None:
    """Load the shipped faces models, label the arithmetic pool and measure each preset's success
    rate in the background (1-2 min on 2 CPU cores the first time on a machine; later starts read
    the labels from the disk cache, `core/pipelines/disk_cache.py`), so that the first click in the
    vector-arithmetic tab does not wait for them."""
    from core.pipelines import face_arithmetic

    try:
        if face_arithmetic.has_checkpoints():
            arith = face_arithmetic.load()
            for preset in face_arithmetic.PRESETS.values():  # the tab states each preset's record
                arith.record(preset)
    except Exception as e:  # a broken checkpoint is reported by the tab itself, on use
        print(f"warm-up skipped: {e}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default=os.environ.get("LAB_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LAB_PORT", "7860")))
    args = p.parse_args()
    setup_threads()
    # SIGTERM ends the app like Ctrl-C: the server closes, Gradio empties its cache and the
    # scratch folder is removed (atexit), instead of leaving files in /tmp.
    signal.signal(signal.SIGTERM, _interrupt)
    if os.environ.get("LAB_WARMUP", "1") != "0":
        threading.Thread(target=warm_up, daemon=True, name="warm-up").start()
    build_app().launch(server_name=args.host, server_port=args.port, css=CSS, max_file_size=MAX_FILE_SIZE,
                       show_error=False)


if __name__ == "__main__":
    main()
