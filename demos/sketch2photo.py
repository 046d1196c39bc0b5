"""Sketch-to-photo tab: draw (or upload) edges of a shoe or a handbag, watch a photo appear.

The drawing canvas is the project's own (a gr.HTML component: demos/assets/sketch_canvas.html, .css
and .js), not gr.Sketchpad. Measured in Chromium, the Sketchpad ignored the first stroke after page
load, sent nothing until ~1.7 s after the pen lifted, then uploaded six images and queued a job
behind everyone else's: 2-6 s from stroke to photo for a model that needs 5-20 ms. The canvas here
sends the drawing itself (a 256 px PNG as a data URL) straight to `translate`, a server function of
the component (Gradio's /component_server route: no queue, no upload), one request in the works
per page, while the pen moves and on pointer-up (a pen-up's request replaces the one in flight, which
`Canvases` then stops at its next check); the answer carries the photo as a data URL. The
route is not queued, so `translate` bounds its own concurrency (GATE) and validates everything a
client may send (demos/inputs.image_data_url); demos/server.ComponentServerGuard refuses malformed
requests to the route before Gradio sees them.

Colour (issue 19, the "pale ghosts": a bare outline became the data's commonest, near-white shoe):
when the shipped generator takes colour hints (`pipe.hinted`, as in interactive colorization), the
canvas offers "auto" (the model's own guess), swatches and a colour picker ("colour": "#rrggbb":
washed over what the drawing's outline encloses, core colour_hints) and a colour brush,
whose strokes live on a layer of their own (never in the ink) and go out as a second PNG ("hints":
transparent where nothing was painted), turned into hints where they were painted
(Sketch2PhotoPipeline.prepare_with_layer); brush strokes replace the swatch's wash. With an
unhinted model the controls are hidden and a note says why.

For scripts, the named endpoints stay: /sketch (an image file and an optional colour in; photo, what
the model saw, status out) and /upload (an edge map or a photo, as the upload box below the canvas).
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import logging
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import numpy as np
from PIL import Image

from core.pipelines import NotTrainedError, Superseded, check_stop, critic, stop_when
from core.pipelines import sketch2photo as pipeline
from core.pipelines.images import ImageError, open_image, peek, tensor_to_pil

from .common import HEAVY, NOT_TRAINED, Gate, notice, ok, plain, wait, warn
from .inputs import image_data_url

NAME = "sketch2photo"
CANVAS = 512  # the paper's size in canvas pixels (CSS scales it to the column)
SEND = 256  # the page sends the drawing at this size; the model works at 128 px
DISPLAY = 384  # the 128 px photo is upscaled to this here (browsers upscale blurrily and unevenly)
CRITIC_DISPLAY = 288  # the discriminator's verdict over the photo, with its legend under it
JPEG_QUALITY = 90
MAX_DATA_URL = 2_000_000  # characters; a 256 px drawing is 3-30 k
MAX_SIDE = 2048  # a canvas drawing larger than this is refused (the page sends 256)
BUSY_RETRY_MS = 150
EMPTY = "Draw a shoe or a handbag (side view, toe to the left works best) and the photo appears as you draw."
# The canvas shows statuses as text (textContent), not Markdown: plain() turns the badge into a word.
BUSY = plain(wait("Busy with other drawings; trying again…"))
UPLOAD_HINT = "Upload a black-on-white edge map, or a photo with “photo → edges”."

# Colour hints (a hinted generator only): "auto" lets the model choose; a swatch or the picker says
# "make it this colour"; the brush paints colours where they belong. Swatches are photo-like colours
# (the hints a model learns from are mean colours of real photos), not pure RGB.
SWATCHES = (("red", "#c62828"), ("blue", "#1e4fc2"), ("yellow", "#f2c230"), ("green", "#2e7d32"),
            ("brown", "#7a4a28"), ("black", "#1c1c1c"), ("white", "#f4f4f4"), ("pink", "#f08cb4"))
# The colour a new page starts with: a plain outline left to the model alone mostly comes out the data's
# commonest shoe, a pale grey or white one (issue 19's "pale ghosts"); "auto" shows that, one click away.
DEFAULT_SWATCH = "brown"
HEX = re.compile(r"#[0-9a-fA-F]{6}")
NO_HINTS_NOTE = "Colour: this model picks its own colours (it was trained without colour hints)."

# The lecture's comparison (Isola et al. 2017, fig. 4): the same drawing through generators trained
# with L1 + cGAN (the shipped model), L1 only and cGAN only. key -> (registry name, label).
LOSSES = {"full": ("sketch2photo", "L1 + cGAN"), "l1": ("sketch2photo_l1", "L1 only"),
          "cgan": ("sketch2photo_cgan", "cGAN only")}
ALL = "all"  # the three side by side
TRIO_ORDER = ("l1", "cgan", "full")
LOSS_NOTE = ("L1 alone learns the average of the plausible photos: blurry and greyish. The cGAN alone "
             "makes sharp, photo-like textures that may stray from the drawing. Together: sharp and "
             "faithful (the paper's point; figures in docs/RESULTS.md).")

# On 2 cores: two translations at once, eight more may wait up to a second, the rest hear "busy"
# at once (the page retries BUSY_RETRY_MS later). A page has one request at work (see Canvases), so
# this is shared fairly between the people drawing.
GATE = Gate(slots=2, max_waiting=8, wait_s=1.0)
CANVAS_ID = re.compile(r"[0-9a-f]{8,32}")
MAX_VERSION = 2**53 - 1  # the page's drawing version: a JavaScript integer


class Canvases:
    """The newest drawing version each page's canvas has sent ("canvas": a random id the page makes,
    "v": its drawing's version). On pen-up the page sends the finished stroke at once, even with a
    request in flight; the older request then learns it was replaced (`superseded`) and stops at its
    next check (before each convolution), so a page has at most one drawing in the works and the
    finished stroke does not wait for a stale one. Bounded: the least recently seen ids are forgotten."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._newest: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def arrive(self, canvas: str, version: int) -> None:
        with self._lock:
            self._newest[canvas] = max(version, self._newest.pop(canvas, version))
            while len(self._newest) > self.size:
                self._newest.popitem(last=False)

    def superseded(self, canvas: str, version: int) -> bool:
        with self._lock:
            return self._newest.get(canvas, version) > version


CANVASES = Canvases()
SUPERSEDED = "Replaced by a newer drawing."
ASSETS = Path(__file__).with_name("assets")
log = logging.getLogger("genlab.requests")


def _is_blank(a: np.ndarray) -> bool:
    """No dark pixel in a drawing: [H, W] or [H, W, C] uint8 (transparency already on white)."""
    grey = a if a.ndim == 2 else a[:, :, :3].mean(axis=2)
    return not (grey < 128).any()


# ---- the named endpoints (/sketch, /upload) and the upload box ---------------------------------

def parse_colour(value, *, empty_is_auto: bool = False) -> tuple[int, int, int] | None:
    """A colour as sent: "#rrggbb" -> (r, g, b); None ("auto") -> None; with `empty_is_auto` (the
    /sketch API's text box) also "" and "auto". Anything else: ValueError with a one-line reason."""
    if value is None or (empty_is_auto and isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    if not isinstance(value, str) or not HEX.fullmatch(value):
        shown = str(value)[:20] if isinstance(value, (str, int, float)) else type(value).__name__
        raise ValueError(f'"colour" must be a colour as #rrggbb (e.g. #c62828) or {"empty" if empty_is_auto else "null"} '
                         f'for the model\'s own, not {shown!r}')
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _translate(image, mode: str, fit: bool, colour: tuple[int, int, int] | None = None):
    """Shared by /sketch and /upload: returns (photo, what the model saw, status)."""
    try:
        pipe = pipeline.load(NAME)
    except NotTrainedError:
        return None, None, warn(NOT_TRAINED.format(name=NAME))
    try:
        t0 = time.perf_counter()
        x = pipe.prepare(image, mode=mode, fit=fit)
        hints = pipeline.colour_hints(x, colour) if colour is not None and pipe.hinted else None
        photo, seen = tensor_to_pil(pipe.run(x, hints)[0]), tensor_to_pil(x[0])
        ms = (time.perf_counter() - t0) * 1000
    except (ImageError, ValueError) as e:
        return None, None, warn(str(e))
    # The model works at 128px; show it larger (browsers upscale blurrily and inconsistently).
    photo = photo.resize((DISPLAY, DISPLAY), Image.LANCZOS)
    seen = seen.resize((DISPLAY // 2, DISPLAY // 2), Image.NEAREST)
    note = "" if colour is None else \
        f" · colour #{bytes(colour).hex()}" if hints is not None else " · this model takes no colour hints"
    return photo, seen, ok(f"{ms:.0f} ms on {pipe.device.type.upper()} (model input {pipe.image_size}px){note}")


def on_sketch(path, fit: bool, colour=""):
    """/sketch: a drawing (an image file, dark strokes on light paper) and a colour ("#rrggbb", or
    empty for the model's own) -> photo, seen, status."""
    try:
        rgb = parse_colour(colour, empty_is_auto=True)
    except ValueError as e:
        return None, None, warn(f"{e}.")
    if not path:
        return None, None, EMPTY
    try:
        drawing = open_image(path)  # header checked first: bombs are refused before decoding
    except ImageError as e:
        return None, None, warn(f"The drawing: {e}.")
    if _is_blank(np.asarray(drawing)):
        return None, None, EMPTY
    return _translate(drawing, "sketch", bool(fit), rgb)


def on_upload(path, mode: str, fit: bool):
    if not path:
        return None, None, UPLOAD_HINT
    return _translate(path, "photo" if str(mode or "").startswith("photo") else "sketch", bool(fit))


# ---- the canvas's server function ----------------------------------------------------------------

def _data_url(im: Image.Image, fmt: str, **save) -> str:
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _refusal(message: str) -> dict:
    return {"ok": False, "error": message, "status": plain(warn(message))}


class CanvasRequest(NamedTuple):
    image: bytes  # the drawing (PNG or JPEG)
    fit: bool
    loss: str
    critic: bool
    colour: tuple[int, int, int] | None  # "make it this colour" (None: the model's own)
    layer: bytes | None  # the colour brush's layer (an RGBA PNG of the drawing's size)


class RequestError(ValueError):
    """A refusal whose message names what was wrong itself (not prefixed with "The drawing:")."""


def canvas_stamp(payload: dict) -> tuple[str, int] | None:
    """The page's {"canvas": id, "v": version} (both or neither), checked, or None when left out.
    Raises RequestError with a one-line reason."""
    canvas, version = payload.get("canvas"), payload.get("v")
    if canvas is None and version is None:
        return None
    if not isinstance(canvas, str) or not CANVAS_ID.fullmatch(canvas):
        raise RequestError(f'"canvas" must be 8-32 lowercase hex digits, not {str(canvas)[:20]!r}')
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION:
        raise RequestError(f'"v" must be a whole number from 0 to {MAX_VERSION}, not {str(version)[:20]!r}')
    return canvas, version


def _canvas_request(payload) -> CanvasRequest:
    """What the page sends, {"image": data URL, "fit": bool, "loss": a LOSSES key or "all",
    "critic": bool, "colour": "#rrggbb" or null, "hints": PNG data URL or null, "canvas": the page's
    id, "v": the drawing's version}, checked, or ImageError / ValueError with a one-line reason.
    "fit" may be left out (True), "loss" ("full": the shipped model), "critic" (False: no
    discriminator verdict), "colour" and "hints" (none), "canvas" and "v" (never superseded)."""
    if not isinstance(payload, dict):
        raise ValueError(f'expected {{"image": a data URL, "fit": true or false}}, got {type(payload).__name__}')
    fit = payload.get("fit", True)
    if not isinstance(fit, bool):
        raise ValueError(f'"fit" must be true or false, not {str(fit)[:20]!r}')
    loss = payload.get("loss", "full")
    if not isinstance(loss, str) or loss not in (*LOSSES, ALL):
        raise ValueError(f'"loss" must be one of {", ".join((*LOSSES, ALL))}, not {str(loss)[:20]!r}')
    judge = payload.get("critic", False)
    if not isinstance(judge, bool):
        raise ValueError(f'"critic" must be true or false, not {str(judge)[:20]!r}')
    try:
        colour = parse_colour(payload.get("colour"))
    except ValueError as e:
        raise RequestError(str(e)) from None
    canvas_stamp(payload)
    if "image" not in payload:
        raise ValueError('"image" is missing: send the drawing as a data URL')
    image = image_data_url(payload["image"], max_chars=MAX_DATA_URL, max_side=MAX_SIDE)
    layer = payload.get("hints")
    if layer is not None:
        try:
            layer = image_data_url(layer, max_chars=MAX_DATA_URL, max_side=MAX_SIDE, label="the colour layer",
                                   formats=("png",))
            head, drawn = peek(layer), peek(image)  # headers only: no pixels decoded yet
        except ImageError as e:
            text = str(e)
            raise RequestError("T" + text[1:] if text.startswith("the colour layer") else f"The colour layer: {text}") from None
        if head.size != drawn.size:
            raise RequestError(f"The colour layer is {head.width}x{head.height} px but the drawing is "
                               f"{drawn.width}x{drawn.height}: send both at the same size")
        if not pipeline.has_alpha(head):
            raise RequestError(f"The colour layer must have transparency (an RGBA PNG), not mode {head.mode}")
    return CanvasRequest(image, fit, loss, judge, colour, layer)


def available_losses() -> list[str]:
    """The LOSSES keys whose generator is shipped (the ablations may be missing in a checkout)."""
    return [key for key, (name, _) in LOSSES.items() if pipeline.has_checkpoint(name)]


def _photo_url(y) -> str:
    return _data_url(tensor_to_pil(y).resize((DISPLAY, DISPLAY), Image.LANCZOS), "JPEG", quality=JPEG_QUALITY)


def translate_drawing(payload, stop=None) -> dict:
    """The canvas's request -> a JSON answer (runs in a worker thread, behind GATE). `stop()` true:
    a newer drawing from the same page has come; the work stops at its next check and the answer is
    {"ok": false, "superseded": true, "status"} (the page, which sent the newer one, ignores it).

    ok: {"ok": true, "photo": JPEG data URL (DISPLAY px), "seen": PNG data URL (the model input),
    "status", "model_ms", "server_ms", "input_hash" (12 hex digits of the model input tensor: tests
    tell by it that the input changed), "hinted" (the shipped model takes colour hints),
    "hints_used" (hint pixels at the model size: 0 for none; the brush's layer when it holds paint,
    else the colour's wash) and with hints "hints_hash" (as input_hash, of the hint map)}; with
    "loss": "all" also "photos": [{"loss", "label",
    "photo"}] in TRIO_ORDER ("photo" is then the shipped model's); with "critic": true and the
    shipped model, "critic": PNG data URL (the photo under the PatchGAN's per-patch verdicts, with a
    legend) and "critic_mean" (0..1), when the checkpoint kept its discriminator; blank paper: {"ok": true,
    "empty": true, "status"}; anything refused: {"ok": false, "error": one line, "status"}.
    Never raises."""
    t0 = time.perf_counter()
    try:
        with stop_when(stop):
            return _translate_checked(payload, t0)
    except Superseded:
        return {"ok": False, "superseded": True, "status": plain(wait(SUPERSEDED))}


def _translate_checked(payload, t0: float) -> dict:
    """`translate_drawing` inside its stop check: Superseded propagates, everything else is answered."""
    try:
        check_stop()  # replaced while it waited for a slot: no work at all
        req = _canvas_request(payload)
        loss, judge = req.loss, req.critic
        drawing = open_image(req.image)
        if _is_blank(np.asarray(drawing)):
            return {"ok": True, "empty": True, "status": EMPTY}
        shipped = available_losses()
        keys = [k for k in TRIO_ORDER if k in shipped] if loss == ALL else [loss]
        if not keys or keys[0] not in shipped:
            return _refusal(NOT_TRAINED.format(name=LOSSES["full" if loss == ALL else loss][0]))
        pipes = {key: pipeline.load(LOSSES[key][0]) for key in keys}
        first = next(iter(pipes.values()))
        hinted = [key for key, pipe in pipes.items() if pipe.hinted]
        asked = req.colour is not None or req.layer is not None
        hints, source = None, ""
        if req.layer is not None and hinted:  # one model input for all, the layer framed with it
            try:
                layer = pipeline.open_layer(req.layer)  # header checked already: now the pixels
            except (ImageError, ValueError) as e:
                raise RequestError(f"The colour layer: {e}") from None
            x, painted = first.prepare_with_layer(drawing, layer, fit=req.fit)
            if painted[:, 3].any():
                hints, source = painted, "your colour strokes"
        else:
            x = first.prepare(drawing, mode="sketch", fit=req.fit)
        if hints is None and req.colour is not None and hinted:
            hints, source = pipeline.colour_hints(x, req.colour), f"colour #{bytes(req.colour).hex()}"
        check_stop()  # the generators check again before each convolution
        t1 = time.perf_counter()
        outputs = {key: pipe.run(x, hints if pipe.hinted else None)[0] for key, pipe in pipes.items()}
        verdict = None
        if judge and loss == "full" and pipes["full"].D is not None:
            verdict = pipes["full"].judge(x, outputs["full"][None])
        model_ms = (time.perf_counter() - t1) * 1000
    except Superseded:
        raise
    except NotTrainedError:  # removed since the check above (a promote swaps folders)
        return _refusal(NOT_TRAINED.format(name=NAME))
    except RequestError as e:
        log.info("refused a canvas request: %s", e)
        return _refusal(f"{e}.")
    except (ImageError, ValueError) as e:
        log.info("refused a canvas drawing: %s", e)
        return _refusal(f"The drawing: {e}.")
    except Exception:  # a bug: its traceback goes to the log (where the tests look), not to the page
        log.exception("the sketch canvas failed")
        return _refusal("Something went wrong on the server; please try again.")
    photos = {key: _photo_url(y) for key, y in outputs.items()}
    answer = {"ok": True, "photo": photos.get("full", next(iter(photos.values()))), "seen": _data_url(tensor_to_pil(x[0]), "PNG"),
              "input_hash": _hash(x), "hinted": _shipped_takes_hints(pipes),
              "hints_used": 0 if hints is None else int((hints[:, 3] > 0).sum())}
    colour_note = ""
    if hints is not None:
        answer["hints_hash"] = _hash(hints)
        colour_note = f" · {source} ({answer['hints_used']} hint px)"
        if len(hinted) < len(pipes):
            colour_note += f"; only {' and '.join(LOSSES[k][1] for k in hinted)} takes colour hints"
    elif asked and not hinted:
        colour_note = " · this model takes no colour hints" if len(pipes) == 1 else " · these models take no colour hints"
    if loss == ALL:
        answer["photos"] = [{"loss": key, "label": LOSSES[key][1], "photo": photos[key]} for key in keys]
    verdict_note = ""
    if verdict is not None:
        shown = tensor_to_pil(outputs["full"]).resize((CRITIC_DISPLAY, CRITIC_DISPLAY), Image.LANCZOS)
        answer["critic"] = _data_url(critic.overlay(shown, verdict, "D's verdict:"), "PNG", optimize=False)
        answer["critic_mean"] = round(float(verdict.mean()), 4)
        verdict_note = f" · D: {100 * float((verdict > 0.5).mean()):.0f}% of patches look real"
    elif judge and loss == "full":
        verdict_note = " · this checkpoint kept no discriminator"
    server_ms = (time.perf_counter() - t0) * 1000
    which = f"{len(keys)} models · " if loss == ALL else "" if loss == "full" else f"{LOSSES[loss][1]} · "
    answer["status"] = plain(ok(f"{which}{model_ms:.0f} ms model, {server_ms:.0f} ms in all on "
                                f"{first.device.type.upper()} (model input {first.image_size}px){colour_note}{verdict_note}"))
    return {**answer, "model_ms": round(model_ms, 2), "server_ms": round(server_ms, 2)}


def _hash(t) -> str:
    return hashlib.blake2b(t.float().contiguous().numpy().tobytes(), digest_size=6).hexdigest()


def _shipped_takes_hints(pipes: dict) -> bool:
    """Whether the shipped model takes colour hints (loaded already when it answered; else from its
    config): the page shows or hides its colour controls by it, so a model promoted while the app
    runs gets them without a restart."""
    return pipes["full"].hinted if "full" in pipes else _takes_hints_now()


async def translate(payload) -> dict:
    """The canvas's server function (`server.translate({image, fit, ...})` in sketch_canvas.js): the
    drawing's photo, or {"ok": false, "busy": true, "retry_ms"} when GATE is full (the page retries)."""
    try:
        stamp = canvas_stamp(payload) if isinstance(payload, dict) else None
    except RequestError:
        stamp = None  # translate_drawing refuses the request with the reason
    stop = None
    if stamp is not None:
        CANVASES.arrive(*stamp)
        stop = lambda: CANVASES.superseded(*stamp)  # noqa: E731
    answer = await GATE.run(translate_drawing, payload, stop)
    if answer is None:
        return {"ok": False, "busy": True, "retry_ms": BUSY_RETRY_MS, "status": BUSY}
    return answer


# ---- the page ----------------------------------------------------------------------------------

def _check_template_text(name: str, text: str) -> str:
    """Gradio runs html_template and css_template through Handlebars and a JavaScript template
    literal: a backtick, a dollar-brace or a double brace would be evaluated, not shown."""
    for bad in ("`", "${", "{{"):
        if bad in text:
            raise ValueError(f"{name} must not contain {bad!r} (Gradio evaluates it)")
    return text


def _template(examples: dict[str, Image.Image]) -> str:
    """sketch_canvas.html with the sizes, the empty-paper message and the example thumbnails (PNG
    data URLs at SEND px: the click draws them into the canvas without asking the server)."""
    text = (ASSETS / "sketch_canvas.html").read_text()
    text = text[text.index("-->") + 3:].lstrip() if text.startswith("<!--") else text  # the file's own comment
    thumbs = "\n".join(
        f'<button type="button" class="sk-example" data-example="{html.escape(name)}" title="{html.escape(name)}">'
        f'<img src="{_data_url(im.convert("L").resize((SEND, SEND), Image.LANCZOS), "PNG", optimize=True)}" '
        f'alt="{html.escape(name)}"></button>'
        for name, im in examples.items())
    losses = available_losses()
    choices = [(key, LOSSES[key][1] + (" (shipped)" if key == "full" else "")) for key in losses]
    if len(losses) > 1:
        choices.append((ALL, "all three side by side" if len(losses) == 3 else "side by side"))
    radios = "\n".join(
        f'<label class="sk-radio"><input type="radio" name="sk-loss" value="{key}"'
        f'{" checked" if key == "full" else ""}> {html.escape(label)}</label>' for key, label in choices)
    trio = "\n".join(
        f'<figure class="sk-figure"><figcaption class="sk-label">{html.escape(LOSSES[key][1])}</figcaption>'
        f'<div class="sk-frame"><img data-trio="{key}" alt="{html.escape(LOSSES[key][1])}" hidden></div></figure>'
        for key in TRIO_ORDER if key in losses)
    swatches = "\n".join(
        f'<button type="button" class="sk-swatch" data-colour="{hexa}" '
        f'aria-pressed="{str(name == DEFAULT_SWATCH).lower()}" title="{name}" '
        f'aria-label="{name}" style="background-color: {hexa}"></button>' for name, hexa in SWATCHES)
    hinted = _takes_hints_now()
    for key, value in {"__CANVAS__": str(CANVAS), "__SEND__": str(SEND), "__EMPTY__": html.escape(EMPTY),
                       "__SWATCHES__": swatches, "__HINTED__": "true" if hinted else "false",
                       "__AUTO_PRESSED__": "false" if DEFAULT_SWATCH else "true",
                       "__COLOUR_HIDDEN__": "" if hinted else "hidden",
                       "__NO_HINTS_HIDDEN__": "hidden" if hinted else "",
                       "__NO_HINTS_NOTE__": html.escape(NO_HINTS_NOTE),
                       "__EXAMPLES__": thumbs, "__LOSSES__": radios, "__TRIO__": trio,
                       "__LOSS_HIDDEN__": "" if len(losses) > 1 else "hidden",
                       "__CRITIC_HIDDEN__": "" if pipeline.has_critic(NAME) else "hidden",
                       "__LOSS_NOTE__": html.escape(LOSS_NOTE)}.items():
        text = text.replace(key, value)
    return _check_template_text("sketch_canvas.html", text)


def _takes_hints_now() -> bool:
    """The shipped model's config says it takes colour hints (read, not loaded)."""
    try:
        return pipeline.takes_hints(NAME)
    except (OSError, ValueError, KeyError):  # an unreadable config: the tab says so when it translates
        return False


def canvas_component(examples: dict[str, Image.Image]) -> gr.HTML:
    return gr.HTML(
        html_template=_template(examples),
        css_template=_check_template_text("sketch_canvas.css", (ASSETS / "sketch_canvas.css").read_text()),
        js_on_load=(ASSETS / "sketch_canvas.js").read_text(),
        server_functions=[translate], apply_default_css=False, container=False, padding=False,
        elem_id="sketch-canvas")


def build(demo: gr.Blocks) -> None:
    if not pipeline.has_checkpoint(NAME):
        notice("Sketch to photo", NOT_TRAINED.format(name=NAME))
    gr.Markdown("## Sketch → photo (pix2pix)\nA U-Net generator trained here with a conditional GAN + L1 "
                "loss on 2,000 shoe and handbag edge maps. Draw in black; the photo follows your pen.")
    canvas_component(pipeline.examples(CANVAS))
    with gr.Accordion("Or upload an edge map / photo", open=False):
        with gr.Row(equal_height=False):
            with gr.Column():
                # gr.File, not gr.Image: a corrupt or exotic file must reach our code (which explains
                # the problem) instead of failing inside Gradio's image preprocessing.
                upload = gr.File(label="Upload an image", type="filepath", file_types=["image", ".tif", ".tiff"],
                                 elem_id="sketch-upload")
                mode = gr.Radio(["edge map (dark lines on light)", "photo → edges (Canny)"],
                                value="edge map (dark lines on light)", label="The upload is")
                fit = gr.Checkbox(value=True, label="Auto-centre the drawing (as in the training photos)")
                go = gr.Button("Translate the upload")
            with gr.Column():
                photo = gr.Image(label="Generated photo", type="pil", height=320, interactive=False,
                                 elem_id="sketch-upload-output")
                status = gr.Markdown(UPLOAD_HINT, elem_id="sketch-upload-status")
                seen = gr.Image(label="What the model sees (normalised edges)", type="pil", height=160,
                                interactive=False)
    # One upload at a time per page: a newer file (or its removal) replaces a queued translation.
    up_args = dict(fn=on_upload, inputs=[upload, mode, fit], outputs=[photo, seen, status],
                   trigger_mode="always_last", **HEAVY)
    upload.change(**up_args, api_name="upload")
    go.click(**up_args, api_name=False)
    # /sketch, for scripts (gradio_client): a drawing as an image file. The page never fires it (the
    # canvas uses its server function); a hidden gr.File keeps the input's bytes away from Gradio's
    # image decoding, as for the upload.
    sketch_in = gr.File(type="filepath", file_types=["image"], visible=False, label="drawing")
    sketch_fit = gr.Checkbox(value=True, visible=False, label="auto-centre")
    sketch_colour = gr.Textbox(value="", visible=False, label="colour (#rrggbb, or empty for the model's own)")
    sketch_in.change(on_sketch, inputs=[sketch_in, sketch_fit, sketch_colour], outputs=[photo, seen, status],
                     api_name="sketch", **HEAVY)


if __name__ == "__main__":  # python -m demos.sketch2photo: this tab alone
    from .server import serve_tab

    serve_tab(build, "Sketch → photo")
