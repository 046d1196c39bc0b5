"""Tabs whose models come in later issues: a clear notice instead of an error."""
from __future__ import annotations

import gradio as gr

from .common import notice

# key -> (title, what the tab will do, what to try meanwhile)
COMING = {
    "colorization": ("Colorization", "Upload a black-and-white photo and get plausible colours, with colour hints "
                     "you click in.", "**Horse ↔ zebra**: another translation between two kinds of photo."),
    "inpainting": ("Inpainting", "Brush over part of a face and watch our network, the faces GAN and a classical "
                   "method fill it in.", "**Latent walk**: what the faces GAN can make."),
    "text_edit": ("Text-guided edit", "Type what to change in a face (\"make her smile\", \"add glasses\") and "
                  "watch it change.", "the **attribute sliders** in *Vector arithmetic*: the same edits, by hand."),
}


def build(key: str, demo: gr.Blocks | None = None) -> None:
    title, will, meanwhile = COMING[key]
    notice(f"{title}: coming", f"{will}\n\nIts model is **not trained yet**, so there is nothing to run here "
                               f"yet. Meanwhile, try {meanwhile}")
