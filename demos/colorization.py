"""Colorization tab: colour for a grey photo (or the model's guess for a colour one), the L2 "sepia"
baseline beside it, and colour hints clicked into the photo (Zhang et al. 2016 / 2017)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from core.pipelines import NotTrainedError
from core.pipelines import colorization as pipeline
from core.pipelines.colorization import MAX_HINTS, ImageError
from core.pipelines.images import open_image

from .common import HEAVY, NOT_TRAINED, notice, ok, warn
from .inputs import picked, slider

NAME, BASELINE = "colorization", "colorization_l2"
EXAMPLES = Path(__file__).resolve().parent / "assets" / "colorization"
EXAMPLE_NAMES = {"face_11": "face (our GAN)", "face_105": "face (our GAN)", "boot": "boot (our pix2pix)",
                 "handbag": "handbag (our pix2pix)", "meadow": "meadow (painted in code)"}
START = "Upload a photo (grey or colour), or pick an example."
CLICK_SIDE = 640  # px: the long side of the picture to click on, at least
GREY_CHROMA = 3.0  # mean |max - min channel| (0-255) below which an upload counts as grey
MAX_HINTS_JSON = 20_000  # characters of the API's hints argument


# ---- helpers (no model) --------------------------------------------------------------------------
def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _rgb(value) -> tuple[int, int, int] | None:
    """A colour picker's value ("#rrggbb", "#rgb" or "rgb(r, g, b)" / "rgba(...)") -> (r, g, b), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    v = value.strip().lower()
    try:
        if v.startswith("#") and len(v) in (4, 7):
            v = v[1:] if len(v) == 7 else "".join(c * 2 for c in v[1:])
            return tuple(int(v[i:i + 2], 16) for i in (0, 2, 4))
        if v.startswith(("rgb(", "rgba(")) and v.endswith(")"):
            parts = [float(p) for p in v[v.index("(") + 1:-1].split(",")[:3]]
            if len(parts) == 3 and all(0 <= p <= 255 for p in parts):
                return tuple(int(round(p)) for p in parts)
    except ValueError:
        pass
    return None


def _point(evt) -> tuple[float, float] | None:
    """A click on an image: its (x, y) in the picture's pixels if the event data is two finite
    numbers, else None (select events come from the client and may be forged)."""
    index = getattr(evt, "index", None)
    if not isinstance(index, (list, tuple)) or len(index) != 2:
        return None
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in index):
        return None
    try:  # float() of a huge int overflows; NumPy cannot even hold one
        x, y = float(index[0]), float(index[1])
    except OverflowError:
        return None
    return (x, y) if np.isfinite(x) and np.isfinite(y) else None


def _is_grey(image: Image.Image) -> bool:
    if image.mode in ("L", "LA", "I", "I;16", "1", "F"):
        return True
    small = np.asarray(image.convert("RGB").resize((64, 64)), dtype=np.int16)
    return float((small.max(2) - small.min(2)).mean()) < GREY_CHROMA


def display_factor(width: int, height: int) -> float:
    """How much the picture to click on is enlarged (small photos would be small targets; Gradio
    shows a picture at most at its own size, and reports clicks in its pixels)."""
    return max(1.0, CLICK_SIDE / max(width, height))


def _marked(image: Image.Image, hints: list, current: int | None, scale: float) -> Image.Image:
    """The output, enlarged to display_factor, with a ring per hint (numbered; the selected one
    thicker). `scale`: output pixels per uploaded pixel."""
    f = display_factor(*image.size)
    im = image.resize((round(image.width * f), round(image.height * f)), Image.BICUBIC) if f > 1 else image.copy()
    d = ImageDraw.Draw(im)
    r = max(6, round(max(im.size) / 70))
    for i, (x, y, rgb) in enumerate(hints):
        cx, cy = x * scale * im.width / image.width, y * scale * im.height / image.height
        width = 3 if i == current else 2
        d.ellipse([cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1], outline=(0, 0, 0), width=width + 1)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(rgb), outline=(255, 255, 255), width=width)
        d.text((cx + r + 3, cy - r - 2), str(i + 1), fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    return im


def _choices(hints: list) -> list[tuple[str, int]]:
    return [(f"{i + 1}: ({x:.0f}, {y:.0f}) {_hex(rgb)}", i) for i, (x, y, rgb) in enumerate(hints)]


def parse_hints(text) -> list:
    """The API's hints: JSON [[x, y, "#rrggbb" or [r, g, b]], ...] in the upload's pixels -> hints.
    Raises ValueError with a message for the caller."""
    if text is None or text == "":
        return []
    if not isinstance(text, str) or len(text) > MAX_HINTS_JSON:
        raise ValueError(f"hints: a JSON list of at most {MAX_HINTS} [x, y, colour] items")
    try:
        items = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError("hints: not valid JSON (expected [[x, y, \"#rrggbb\"], ...])") from None
    if not isinstance(items, list) or len(items) > MAX_HINTS:
        raise ValueError(f"hints: a JSON list of at most {MAX_HINTS} [x, y, colour] items")
    hints = []
    for item in items:
        if not isinstance(item, list) or len(item) != 3:
            raise ValueError("hints: each item is [x, y, colour]")
        x, y, c = item
        rgb = _rgb(c) if isinstance(c, str) else (tuple(c) if isinstance(c, list) and len(c) == 3 else None)
        if rgb is None or not all(isinstance(v, int) and not isinstance(v, bool) for v in rgb):
            raise ValueError("hints: a colour is \"#rrggbb\" or [r, g, b] with whole numbers 0..255")
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (x, y)):
            raise ValueError("hints: x and y are numbers (pixels of the upload)")
        hints.append((float(x), float(y), rgb))
    return hints


# ---- model calls ---------------------------------------------------------------------------------
def _pipe():
    return pipeline.load(NAME)


def shipped() -> bool:
    """Whether the model is there (else app.py keeps the "coming" tab in its place)."""
    return pipeline.has_checkpoint(NAME)


def _temperature(value) -> float | None:
    try:
        t = float(value)
    except (TypeError, ValueError):
        return None
    return t if np.isfinite(t) and 0.01 <= t <= 1.0 else None


def render(path, hints: list, current: int | None, temperature):
    """Colorize with the hints -> (slider pair, hint picture, hint list update, status)."""
    pipe = _pipe()
    t0 = time.perf_counter()
    result = pipe(path, hints, _temperature(temperature))
    ms = (time.perf_counter() - t0) * 1000
    gray = pipe.gray(path)
    note = f" · {result.note}" if result.note else ""
    n = len(hints)
    hinted = f" · {n} hint{'s' if n != 1 else ''}" if n else ""
    status = ok(f"{result.image.width}x{result.image.height} in {ms:.0f} ms{hinted}{note}")
    value = current if current is not None and 0 <= current < n else None
    return ((gray, result.image), _marked(result.image, hints, value, result.scale),
            gr.update(choices=_choices(hints), value=value), status)


def _empty(status: str):
    return None, None, None, None, None, gr.update(choices=[], value=None), status, {"hints": [], "current": None}


def colorize_upload(path, temperature):
    """A new photo: everything afresh, hints cleared. Returns (slider, baseline, original, hint
    picture, picker, hint list, status, state)."""
    if path is None:
        return _empty(START)
    try:
        _pipe()
    except NotTrainedError:
        return _empty(warn(NOT_TRAINED.format(name=NAME)))
    try:
        upright = open_image(path)
        pair, marked, choices, status = render(path, [], None, temperature)
    except (ImageError, ValueError) as e:
        return _empty(warn(str(e)))
    try:
        baseline = pipeline.load(BASELINE)(path).image
    except NotTrainedError:
        baseline = None
    original = None if _is_grey(upright) else upright
    if original is not None and original.size != pair[1].size:  # downscaled: the original at the output's size
        original = original.resize(pair[1].size, Image.LANCZOS)
    kind = "grey photo" if original is None else "colour photo: the model sees only its lightness (original below)"
    return pair, baseline, original, marked, gr.update(), choices, status.replace(" in ", f" ({kind}) in ", 1), \
        {"hints": [], "current": None}


def add_hint(path, state, temperature, evt: gr.SelectData):
    """A click on the photo: a new hint there, coloured with the model's own guess (so nothing
    jumps), selected for the colour picker."""
    hints = list((state or {}).get("hints", []))
    point = _point(evt)
    if path is None or point is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), state
    if len(hints) >= MAX_HINTS:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), warn(f"At most {MAX_HINTS} hints: remove one first."), state
    try:
        pipe = _pipe()
        prepared = pipe.prepare(path)
        _, _, H, W = prepared.L.shape
        f = display_factor(W, H) * prepared.scale  # clicked-picture pixels per uploaded pixel
        x, y = point[0] / f, point[1] / f
        guess = pipe.guess(path, hints, x, y, _temperature(temperature))
        hints.append((x, y, guess))
        pair, marked, choices, status = render(path, hints, len(hints) - 1, temperature)
    except (ImageError, ValueError, NotTrainedError) as e:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), warn(str(e)), state
    return pair, marked, _hex(guess), choices, status, {"hints": hints, "current": len(hints) - 1}


def recolour(path, state, colour, temperature):
    """The colour picker changed: the selected hint takes the colour."""
    hints, current = list((state or {}).get("hints", [])), (state or {}).get("current")
    rgb = _rgb(colour)
    if path is None or current is None or not 0 <= current < len(hints):
        return gr.skip(), gr.skip(), gr.skip(), warn("Click the photo first to place a hint."), state
    if rgb is None:
        return gr.skip(), gr.skip(), gr.skip(), warn("That colour is not one I can read; pick another."), state
    x, y, old = hints[current]
    if tuple(old) == rgb:  # the picker was set by the app (a new hint, a hint selected): nothing to redo
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), state
    hints[current] = (x, y, rgb)
    return (*_safe_render(path, hints, current, temperature), {"hints": hints, "current": current})


def select_hint(state, evt: gr.SelectData):
    """A hint chosen in the list: it becomes the one the picker edits."""
    hints = list((state or {}).get("hints", []))
    index = getattr(evt, "index", None)
    i = picked(evt, len(hints)) if not isinstance(index, list) else None
    if i is None:
        return gr.skip(), state
    return _hex(hints[i][2]), {"hints": hints, "current": i}


def remove_hint(path, state, temperature):
    hints, current = list((state or {}).get("hints", [])), (state or {}).get("current")
    if path is None or current is None or not 0 <= current < len(hints):
        return gr.skip(), gr.skip(), gr.skip(), warn("Select a hint in the list to remove it."), state
    del hints[current]
    current = len(hints) - 1 if hints else None
    return (*_safe_render(path, hints, current, temperature), {"hints": hints, "current": current})


def clear_hints(path, state, temperature):
    if path is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), {"hints": [], "current": None}
    return (*_safe_render(path, [], None, temperature), {"hints": [], "current": None})


def retemper(path, state, temperature):
    if path is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    return _safe_render(path, list((state or {}).get("hints", [])), (state or {}).get("current"), temperature)


def _safe_render(path, hints, current, temperature):
    try:
        return render(path, hints, current, temperature)
    except (ImageError, ValueError, NotTrainedError) as e:
        return gr.skip(), gr.skip(), gr.skip(), warn(str(e))


def colorize_api(path, hints_json: str = "", temperature: float = pipeline.DEFAULT_TEMPERATURE):
    """For API users: (image file, hints as JSON [[x, y, "#rrggbb"], ...] in the upload's pixels,
    annealed-mean temperature) -> (colorized image, status)."""
    if path is None:
        return None, warn("Send an image file.")
    try:
        hints = parse_hints(hints_json)
        t = _temperature(temperature)
        if temperature not in (None, "") and t is None:
            raise ValueError("temperature: a number in 0.01..1")
        result = _pipe()(path, hints, t)
    except NotTrainedError:
        return None, warn(NOT_TRAINED.format(name=NAME))
    except (ImageError, ValueError) as e:
        return None, warn(str(e))
    return result.image, ok(f"{result.image.width}x{result.image.height}, {len(hints)} hints"
                            + (f" · {result.note}" if result.note else ""))


# ---- layout --------------------------------------------------------------------------------------
def build(demo: gr.Blocks) -> None:
    if not pipeline.has_checkpoint(NAME):
        notice("Colorization", NOT_TRAINED.format(name=NAME))
    gr.Markdown(
        "## Colorization (Zhang, Isola & Efros 2016, with hints as in Zhang et al. 2017)\n"
        "The net sees only the photo's lightness (L of Lab) and predicts its colour (ab) as a distribution "
        "over 261 colour bins, trained with rare colours weighted up; the colour shown is the *annealed mean* "
        "of that distribution. Plain L2 regression on the same data (beside it) averages the plausible colours "
        "into the brownish *sepia* the lecture warns about. The colour is predicted at a low resolution and laid "
        "onto the photo's own full-resolution lightness, so every edge stays the photo's.")
    files = {key: EXAMPLES / f"{key}.png" for key in EXAMPLE_NAMES if (EXAMPLES / f"{key}.png").exists()}
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            upload = gr.File(label="Upload a photo", type="filepath", file_types=["image", ".tif", ".tiff"],
                             elem_id="col-upload")
            gallery = gr.Gallery(value=[(str(f), EXAMPLE_NAMES[k]) for k, f in files.items()],
                                 label="Examples (our own models' pictures; click)", columns=3, allow_preview=False,
                                 elem_id="col-examples", elem_classes=["lab-fit", "lab-captions"])
            temperature = slider(0.01, 1.0, value=pipeline.DEFAULT_TEMPERATURE, step=0.01, visible=pipeline.predicts_distribution(NAME),
                                 label="Annealed-mean temperature T",
                                 info="1 = the mean: sepia; towards 0 = the most likely colour: vivid but patchy",
                                 elem_id="col-temperature")
            status = gr.Markdown(START, elem_id="col-status")
        with gr.Column(scale=3):
            pair = gr.ImageSlider(label="Lightness only ↔ colorized (drag)", type="pil", format="png",
                                  elem_id="col-slider")
    with gr.Row():
        baseline = gr.Image(label="L2 regression baseline (sepia)", type="pil", format="png", interactive=False,
                            elem_id="col-l2")
        original = gr.Image(label="Original colours (colour uploads)", type="pil", format="png", interactive=False,
                            elem_id="col-original")
    gr.Markdown("### Colour hints\nClick a point on the photo below to place a hint: it starts with the model's own "
                "colour there; pick another colour and the photo follows, around the point and in the regions the "
                "net thinks belong with it. Select a hint in the list to change or remove it.")
    with gr.Row(equal_height=False):
        marked = gr.Image(label="Click to add a hint", type="pil", format="png", interactive=False, height=420,
                          elem_id="col-hints-image")
        with gr.Column():
            picker = gr.ColorPicker(label="Colour of the selected hint", value="#808080", elem_id="col-picker")
            hint_list = gr.Dropdown(label="Hints", choices=[], value=None, interactive=True, elem_id="col-hint-list")
            with gr.Row():
                remove = gr.Button("Remove this hint", elem_id="col-remove")
                clear = gr.Button("Clear hints", elem_id="col-clear")
    state = gr.State({"hints": [], "current": None})

    shown = [pair, marked, hint_list, status]
    upload.change(colorize_upload, inputs=[upload, temperature],
                  outputs=[pair, baseline, original, marked, picker, hint_list, status, state], api_name=False, **HEAVY)
    marked.select(add_hint, inputs=[upload, state, temperature], outputs=[pair, marked, picker, hint_list, status, state],
                  api_name=False, **HEAVY)
    # change, not input: Gradio's picker reports a colour typed or dragged in its dialog as a change
    # only; the app's own updates of the picker come back here too and are skipped (same colour).
    picker.change(recolour, inputs=[upload, state, picker, temperature], outputs=[*shown, state], api_name=False,
                 **HEAVY)
    hint_list.select(select_hint, inputs=[state], outputs=[picker, state], api_name=False)
    remove.click(remove_hint, inputs=[upload, state, temperature], outputs=[*shown, state], api_name=False, **HEAVY)
    clear.click(clear_hints, inputs=[upload, state, temperature], outputs=[*shown, state], api_name=False, **HEAVY)
    temperature.release(retemper, inputs=[upload, state, temperature], outputs=shown, api_name=False, **HEAVY)

    # The API: one call, hints as JSON (hidden components carry its arguments).
    api_file = gr.File(visible=False)
    api_hints = gr.Textbox(visible=False)
    api_temperature = gr.Number(visible=False, value=pipeline.DEFAULT_TEMPERATURE)
    api_out, api_status = gr.Image(visible=False, type="pil", format="png"), gr.Markdown(visible=False)
    api_file.change(colorize_api, inputs=[api_file, api_hints, api_temperature], outputs=[api_out, api_status],
                    api_name="colorize", **HEAVY)

    keys = list(files)

    def pick(evt: gr.SelectData):
        i = picked(evt, len(keys))
        return gr.skip() if i is None else str(files[keys[i]])

    gallery.select(pick, outputs=[upload], api_name=False)


if __name__ == "__main__":  # python -m demos.colorization: this tab alone
    from .server import serve_tab

    serve_tab(build, "Colorization")
