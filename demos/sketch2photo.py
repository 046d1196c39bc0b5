"""Sketch-to-photo tab: draw (or upload) edges of a shoe or a handbag, watch a photo appear."""
from __future__ import annotations

import time

import gradio as gr
import numpy as np
from PIL import Image

from core.pipelines import NotTrainedError
from core.pipelines import sketch2photo as pipeline
from core.pipelines.sketch2photo import ImageError

from .common import HEAVY, NOT_TRAINED, notice, ok, warn
from .inputs import number, picked, sketchpad

NAME = "sketch2photo"
CANVAS = 512
DISPLAY = 384
PREPARING = "Preparing the canvas…"
EMPTY = "Draw a shoe or a handbag (side view, toe to the left works best) and the photo appears as you draw."


def _composite(value) -> np.ndarray | None:
    """The flattened drawing from a Sketchpad value (dict with 'composite'), or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("composite")
    if value is None:
        return None
    return np.asarray(value)


def _is_blank(a: np.ndarray) -> bool:
    """No dark pixel in a drawing: [H, W] or [H, W, C] uint8 (the canvas arrives flattened on white)."""
    grey = a if a.ndim == 2 else a[:, :, :3].mean(axis=2)
    return not (grey < 128).any()


def _translate(image, mode: str, fit: bool):
    """Shared by the canvas and the upload: returns (photo, what the model saw, status)."""
    try:
        pipe = pipeline.load(NAME)
    except NotTrainedError:
        return None, None, warn(NOT_TRAINED.format(name=NAME))
    try:
        t0 = time.perf_counter()
        seen, photo = pipe(image, mode=mode, fit=fit)
        ms = (time.perf_counter() - t0) * 1000
    except (ImageError, ValueError) as e:
        return None, None, warn(str(e))
    # The model works at 128px; show it larger (browsers upscale blurrily and inconsistently).
    photo = photo.resize((DISPLAY, DISPLAY), Image.LANCZOS)
    seen = seen.resize((DISPLAY // 2, DISPLAY // 2), Image.NEAREST)
    return photo, seen, ok(f"{ms:.0f} ms on {pipe.device.type.upper()} (model input {pipe.image_size}px)")


def _stale(read_epoch, epoch) -> bool:
    """True when Clear came after this event read its inputs: its photo is of the erased drawing.
    `read_epoch` is a page value (captured when the event fired), `epoch` the session's state
    (current when the event runs); Clear raises both."""
    try:
        return int(read_epoch or 0) < int(epoch or 0)
    except (TypeError, ValueError):
        return False


def _unchanged(n: int) -> tuple:
    return tuple(gr.skip() for _ in range(n))


def on_draw(value, fit: bool, read_epoch=0, epoch=0):
    if _stale(read_epoch, epoch):
        return _unchanged(3)
    a = _composite(value)
    if a is None or a.size == 0 or _is_blank(a):
        return None, None, EMPTY
    return _translate(a, "sketch", fit)


def on_upload(path, mode: str, fit: bool, read_epoch=0, epoch=0):
    if _stale(read_epoch, epoch):
        return _unchanged(3)
    if not path:
        return None, None, "Upload a black-on-white edge map, or a photo with “photo → edges”."
    return _translate(path, "photo" if str(mode or "").startswith("photo") else "sketch", fit)


def on_clear(epoch):
    """White paper, no photo, and both epochs raised (so that older translations are dropped)."""
    new = int(epoch or 0) + 1
    return _blank_value(), None, None, EMPTY, new, new


def _blank_value() -> dict:
    paper = np.full((CANVAS, CANVAS, 3), 255, np.uint8)
    return {"background": paper, "layers": [], "composite": paper}


def _example_value(img) -> dict:
    a = np.asarray(img)
    return {"background": a, "layers": [], "composite": a}


def build(demo: gr.Blocks) -> None:
    if not pipeline.has_checkpoint(NAME):
        notice("Sketch to photo", NOT_TRAINED.format(name=NAME))
    examples = pipeline.examples(CANVAS)
    gr.Markdown("## Sketch → photo (pix2pix)\nA U-Net generator trained here with a conditional GAN + L1 "
                "loss on 2,000 shoe and handbag edge maps. Draw in black; every stroke updates the photo.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            canvas = sketchpad(
                label="Your drawing", type="numpy", image_mode="RGBA", canvas_size=(CANVAS, CANVAS),
                brush=gr.Brush(default_size=4, colors=["#000000"], color_mode="fixed"),
                elem_id="sketch-canvas", height=CANVAS + 60)
            with gr.Row():
                fit = gr.Checkbox(value=True, label="Auto-centre the drawing (as in the training photos)")
                clear = gr.Button("Clear", variant="secondary", elem_id="sketch-clear")
            gallery = gr.Gallery(value=[(im, name) for name, im in examples.items()], label="Examples (click to load)",
                                 columns=4, height=150, allow_preview=False, elem_id="sketch-examples")
        with gr.Column(scale=2):
            photo = gr.Image(label="Generated photo", type="pil", height=320, interactive=False,
                             elem_id="sketch-output")
            status = gr.Markdown(PREPARING, elem_id="sketch-status")
            seen = gr.Image(label="What the model sees (normalised edges)", type="pil", height=160,
                            interactive=False)
            with gr.Accordion("Or upload an edge map / photo", open=False):
                # gr.File, not gr.Image: a corrupt or exotic file must reach our code (which explains
                # the problem) instead of failing inside Gradio's image preprocessing.
                upload = gr.File(label="Upload an image", type="filepath", file_types=["image", ".tif", ".tiff"],
                                 elem_id="sketch-upload")
                mode = gr.Radio(["edge map (dark lines on light)", "photo → edges (Canny)"],
                                value="edge map (dark lines on light)", label="The upload is")
                go = gr.Button("Translate the upload")

    # The paper is loaded by an event, not as the initial value: the editor ignores its first
    # change (taking it for the initial value), so a first stroke would otherwise do nothing.
    # Loading white paper also opens the editor with the brush selected.
    # The status says "Draw ..." only once the paper is in place, so nobody draws too early.
    demo.load(lambda: (_blank_value(), EMPTY), outputs=[canvas, status], api_name=False)
    # Clear raises both epochs; a translation whose inputs were read before it is dropped (below).
    read_epoch = number(0, visible=False, precision=0, minimum=0, label="epoch")
    epoch = gr.State(0)
    draw_args = dict(fn=on_draw, inputs=[canvas, fit, read_epoch, epoch], outputs=[photo, seen, status],
                     show_progress="hidden", trigger_mode="always_last", **HEAVY)
    drawing = [canvas.change(**draw_args, api_name="sketch"),
               fit.change(**{**draw_args, "trigger_mode": "once"}, api_name=False)]
    names = list(examples)

    def pick(evt: gr.SelectData, fit_value: bool, read: int, current: int):
        # Translate here too: a programmatic canvas update does not fire the editor's change.
        i = picked(evt, len(names))
        if i is None or _stale(read, current):
            return _unchanged(4)
        image = examples[names[i]]
        return (_example_value(image), *_translate(np.asarray(image), "sketch", fit_value))

    drawing.append(gallery.select(pick, inputs=[fit, read_epoch, epoch], outputs=[canvas, photo, seen, status],
                                  api_name=False, **HEAVY))
    up_args = dict(fn=on_upload, inputs=[upload, mode, fit, read_epoch, epoch], outputs=[photo, seen, status], **HEAVY)
    drawing += [upload.change(**up_args, api_name="upload"), go.click(**up_args, api_name=False)]
    # A translation of the old drawing must not land after Clear and bring its photo back. Clear
    # cancels what is queued or running, and the epochs catch the rest: a deferred change event
    # (trigger_mode always_last) or a stroke's change fired just before the click still carries
    # the old drawing and the old read_epoch.
    clear.click(on_clear, inputs=[epoch], outputs=[canvas, photo, seen, status, read_epoch, epoch], api_name=False,
                cancels=drawing)


if __name__ == "__main__":  # python -m demos.sketch2photo: this tab alone
    from .server import serve_tab

    serve_tab(build, "Sketch → photo")
