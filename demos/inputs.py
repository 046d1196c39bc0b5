"""Inputs hardened against what a client may send: the raw API accepts any JSON, so NaN, strings,
forged indices, broken data URLs and decompression bombs must get a clear message, not a traceback."""
from __future__ import annotations

import base64
import binascii
import logging
import math
import re

import gradio as gr

from core.pipelines.images import ImageError, peek

log = logging.getLogger("genlab.requests")


def refused(message: str) -> gr.Error:
    """A refusal the person sees as `message`; expected, so the server log gets no traceback
    (tracebacks in the log mean bugs)."""
    return gr.Error(message, print_exception=False)

def _finite(payload) -> float | None:
    """`payload` as a finite float, or None for NaN, infinities, strings, lists and the like."""
    if isinstance(payload, bool) or not isinstance(payload, (int, float, str)):
        return None
    try:
        x = float(payload)
    except (ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def _cleaned(payload, default, minimum, maximum, label: str):
    """A number input's payload, checked before Gradio's own handling (which crashes on NaN or a
    string): None or an empty box give the default, values out of range are clamped (as typed
    values are), and anything that is not a finite number is refused with a message."""
    if payload is None or payload == "":
        return default
    x = _finite(payload)
    if x is None:
        raise refused(f"{label}: expected a number, got {str(payload)[:40]!r}.")
    lo = -math.inf if minimum is None else minimum
    hi = math.inf if maximum is None else maximum
    return min(max(x, lo), hi)


def slider(minimum: float, maximum: float, **kwargs) -> gr.Slider:
    """A gr.Slider whose typed-in values are clamped into [minimum, maximum] instead of refused
    (Gradio's own check answers a typed 999 with a bare "Error"); NaN or text is refused clearly."""
    s = gr.Slider(minimum, maximum, **kwargs)
    default = s.value if isinstance(s.value, (int, float)) else minimum
    label = kwargs.get("label") or "slider"
    # Per instance: the component (and its front end) stay a Slider.
    s.preprocess = lambda payload: _cleaned(payload, default, minimum, maximum, label)
    return s


def number(value=None, *, minimum=None, maximum=None, precision=None, **kwargs) -> gr.Number:
    """A gr.Number that never crashes on what a client sends: see `_cleaned`; then rounded to
    `precision` as gr.Number does."""
    n = gr.Number(value, minimum=minimum, maximum=maximum, precision=precision, **kwargs)
    label = kwargs.get("label") or "number"

    def preprocess(payload):
        x = _cleaned(payload, value, minimum, maximum, label)
        return None if x is None else n.round_to_precision(x, precision)

    n.preprocess = preprocess
    return n


def picked(evt, n: int) -> int | None:
    """The index of a clicked gallery item if it is a whole number in [0, n), else None: a select
    event's data comes from the client and may be forged or stale."""
    index = getattr(evt, "index", None)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        return None
    return index


DATA_URL = re.compile(r"data:image/(png|jpeg);base64,")
DATA_URL_FORMATS = {"png": "PNG", "jpeg": "JPEG"}


def image_data_url(value, *, max_chars: int, max_side: int) -> bytes:
    """The image bytes of a `data:image/png;base64,...` or `data:image/jpeg;base64,...` string, checked
    in order of cost: the type, the length (before any decoding), the prefix, the base64, then the
    image header (declared format and size, no pixels decoded: bombs cost nothing). Raises
    ImageError with a one-line reason fit for the person (or the script) that sent it."""
    if not isinstance(value, str):
        raise ImageError(f"the drawing must be a data URL string, not {type(value).__name__}")
    if len(value) > max_chars:
        raise ImageError(f"the drawing is too large ({len(value):,} characters; the limit is {max_chars:,})")
    m = DATA_URL.match(value)
    if not m:
        raise ImageError("the drawing must be a data URL of a PNG or JPEG image (data:image/png;base64,...)")
    try:
        raw = base64.b64decode(value[m.end():], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the drawing's data URL is not valid base64") from None
    im = peek(raw)  # ImageError for anything that is not an image, or one over MAX_PIXELS
    declared = DATA_URL_FORMATS[m.group(1)]
    if im.format != declared:
        raise ImageError(f"the data URL says {declared} but the data is {im.format or 'something else'}")
    if max(im.size) > max_side:
        raise ImageError(f"the drawing is {im.width}x{im.height} px; the limit is {max_side}x{max_side}")
    return raw


def _malformed(e: Exception, block_fn) -> str:
    """A short, safe reason for a request Gradio could not read (no paths, no object reprs)."""
    text = str(e)
    if "didn't receive enough input values" in text:
        return f"this event takes {len(block_fn.inputs)} input values"
    if type(e).__name__ in ("InvalidPathError", "FileNotFoundError") or "not allowed" in text.lower():
        return "a file in the request was not uploaded to this app"
    if type(e).__name__ == "ValidationError":
        return "an input does not have the expected form"
    return "an input could not be read"


def refuse_malformed_requests(demo: gr.Blocks) -> None:
    """Answer requests that Gradio itself cannot read (too few values, a file path that was
    never uploaded, a value of the wrong form, select-event data without an index) with a clear
    message and one log line, instead of a bare "Error" and a traceback. What our own code raises
    is left alone, so bugs in it still show up in the log and in the tests."""
    preprocess, process = demo.preprocess_data, demo.process_api

    async def preprocess_data(block_fn, inputs, state, explicit_call=False):
        try:
            return await preprocess(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except Exception as e:  # noqa: BLE001 - anything Gradio raises on a request it cannot read
            reason = _malformed(e, block_fn)
            log.warning("refused a malformed request to %s: %s (%s)", block_fn.name, reason, type(e).__name__)
            raise refused(f"Refused: {reason}.") from None

    async def process_api(block_fn, *args, **kwargs):
        fn = demo.fns[block_fn] if isinstance(block_fn, int) else block_fn
        data = getattr(kwargs.get("event_data"), "_data", None)
        if fn.collects_event_data and not (isinstance(data, dict) and "index" in data and "value" in data):
            log.warning("refused a malformed request to %s: event data without an index", fn.name)
            raise refused("Refused: the click's event data has no item index.")
        return await process(block_fn, *args, **kwargs)

    demo.preprocess_data, demo.process_api = preprocess_data, process_api
