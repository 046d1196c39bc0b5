"""Serving: what the whole app and a single tab (`python -m demos.NAME`) share: the queue, the
limits, the request hardening, the cache policy and a clean stop."""
from __future__ import annotations

import argparse
import os
import signal
from typing import Callable

import gradio as gr

from .gradio_fixes import atomic_cache_writes
from .inputs import refuse_malformed_requests

CSS = """
.lab-notice {border-left: 4px solid #f59e0b; padding: 0.5em 1em; background: rgba(245, 158, 11, 0.08);}
"""
# Gradio's file cache: files older than an hour go every ten minutes, all of them at shutdown.
DELETE_CACHE = (600, 3600)
MAX_FILE_SIZE = "25mb"
QUEUE_SIZE = 64


def blocks(title: str) -> gr.Blocks:
    return gr.Blocks(title=title, delete_cache=DELETE_CACHE)


def prepare(demo: gr.Blocks) -> gr.Blocks:
    """The queue (model events share demos.common.HEAVY's slots) and the request hardening."""
    demo.queue(default_concurrency_limit=2, max_size=QUEUE_SIZE)
    refuse_malformed_requests(demo)
    atomic_cache_writes()
    return demo


def _interrupt(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a repeated SIGTERM must not break the clean-up
    raise KeyboardInterrupt


def launch(demo: gr.Blocks, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM; either closes the server, so Gradio empties its cache and
    the temp folders go (atexit) instead of staying in /tmp."""
    signal.signal(signal.SIGTERM, _interrupt)
    demo.launch(server_name=host, server_port=port, css=CSS, max_file_size=MAX_FILE_SIZE, show_error=False)


def arguments(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default=os.environ.get("LAB_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LAB_PORT", "7860")))
    return p.parse_args()


def serve_tab(build: Callable[[gr.Blocks], None], title: str) -> None:
    """`python -m demos.NAME`: that tab alone, as in a Gradio Space with one tab per file."""
    args = arguments(f"{title}: one tab of the generative image lab")
    with blocks(title) as demo:
        build(demo)
    launch(prepare(demo), args.host, args.port)
