"""Tabs whose models come in later issues: a clear notice instead of an error."""
from __future__ import annotations

import gradio as gr

from .common import notice

COMING = {
    "colorization": ("Colorization", "Colour a black-and-white photo."),
    "inpainting": ("Inpainting", "Erase part of a face and watch it filled in."),
    "text_edit": ("Text-guided edit", "Type “make her smile”."),
}


def build(key: str, demo: gr.Blocks | None = None) -> None:
    title, what = COMING[key]
    notice(title, f"{what}\n\nThis model is **not trained yet**; its tab arrives with it. "
                  "Nothing here can break: there is simply nothing to run yet.")
