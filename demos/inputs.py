"""Input components hardened against what a client may send: the raw API accepts any JSON, so
NaN, strings, forged indices and decompression bombs must get a clear message, not a traceback."""
from __future__ import annotations

import logging
import math
from collections import OrderedDict

import gradio as gr
import numpy as np

from core.pipelines.images import ImageError, open_image, peek

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


def _editor_sources(editor: gr.ImageEditor, payload) -> tuple[list, object]:
    """(every image in an editor payload, the one to decode: composite, else background). Each
    is a FileData (a file in Gradio's cache) or bytes (the editor's blob uploads)."""
    data = editor.blob_storage.get(payload.id) if getattr(payload, "id", None) else payload
    if data is None:
        return [], None
    layers = [x for x in (data.layers or []) if x is not None]
    all_ = [x for x in (data.background, data.composite, *layers) if x is not None]
    return all_, data.composite if data.composite is not None else data.background


def _source(x):
    return x if isinstance(x, (bytes, bytearray, memoryview)) else x.path


def _decode_composite(editor: gr.ImageEditor, payload) -> dict | None:
    """The editor's value as {"background": None, "layers": [], "composite": RGB uint8 array}:
    every image's declared size is checked first (header only, the same limit and message as
    every other image input), then only the composite is decoded (our tabs use nothing else),
    with transparency on white. Raises gr.Error with the reason."""
    if payload is None:
        return None
    images, main = _editor_sources(editor, payload)
    if getattr(payload, "id", None):
        editor.blob_storage.pop(payload.id, None)
    try:
        for x in images:
            peek(_source(x))
        rgb = None if main is None else np.asarray(open_image(_source(main)))
    except ImageError as e:
        raise refused(f"The drawing: {e}.") from None
    return {"background": None, "layers": [], "composite": rgb}


class _BoundedBlobs(OrderedDict):
    """The editor's store of uploaded canvas images, bounded: Gradio keeps every upload until an
    event consumes it, so anonymous uploads that are never used would otherwise pile up."""

    MAX_ENTRIES = 16
    MAX_BYTES = 64 * 2**20

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > 1 and (len(self) > self.MAX_ENTRIES or self._bytes() > self.MAX_BYTES):
            self.popitem(last=False)

    def _bytes(self) -> int:
        return sum(len(b) for v in self.values() for b in (v.background, v.composite, *(v.layers or []))
                   if b is not None)


MAX_LAYERS = 8


def sketchpad(**kwargs) -> gr.Sketchpad:
    """A gr.Sketchpad (type numpy) whose value reaches the tab as {"composite": RGB array, ...}
    after the checks of `_decode_composite`, and whose blob uploads are bounded."""
    pad = gr.Sketchpad(**kwargs)
    pad.preprocess = lambda payload: _decode_composite(pad, payload)
    pad.blob_storage = _BoundedBlobs()
    accept = pad.accept_blobs

    def accept_blobs(data):
        index = data.data.get("index") if isinstance(data.data, dict) else None
        try:
            if index not in (None, "", "null") and not 0 <= int(index) < MAX_LAYERS:
                raise ValueError
        except (TypeError, ValueError):
            raise refused(f"a drawing has at most {MAX_LAYERS} layers") from None
        return accept(data)

    accept_blobs._is_server_fn = True  # what Gradio's component server looks for
    pad.accept_blobs = accept_blobs
    return pad


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
