"""Admin tab (training from the browser). Locked unless an admin password is configured."""
from __future__ import annotations

import os

import gradio as gr

from core.registry import REGISTRY

from .common import notice

PASSWORD_ENV = "LAB_ADMIN_PASSWORD"


def build(demo: gr.Blocks) -> None:
    models = ", ".join(f"`{name}`" for name in REGISTRY)
    if not os.environ.get(PASSWORD_ENV):
        notice("Admin (locked)",
               f"The admin tab is disabled because no admin password is set. Start the app with "
               f"`{PASSWORD_ENV}=...` to enable it.\n\nMeanwhile, training runs from the command line: "
               f"`python -m core.train NAME [--steps N] [--resume]` for any of {models}; its events, samples "
               f"and checkpoints go to `runs/NAME/`.")
        return
    notice("Admin", "Training from the browser (launch, watch, stop, resume, promote) is coming in the "
                    f"next release. Until then use `python -m core.train NAME` for any of {models}.")
    gr.Markdown("")
