"""Inputs hardened against what a client may send: the raw API accepts any JSON, so NaN, strings,
forged indices, broken data URLs and decompression bombs must get a clear message, not a traceback."""
from __future__ import annotations

import base64
import binascii
import logging
import math
import re
import threading
from collections import OrderedDict

import gradio as gr
from gradio.components.base import server

from core.pipelines.images import ImageError, peek

from .gradio_fixes import no_type_stubs

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


def image_data_url(value, *, max_chars: int, max_side: int, label: str = "the drawing",
                   formats: tuple[str, ...] = ("png", "jpeg")) -> bytes:
    """The image bytes of a `data:image/png;base64,...` or `data:image/jpeg;base64,...` string, checked
    in order of cost: the type, the length (before any decoding), the prefix, the base64, then the
    image header (declared format and size, no pixels decoded: bombs cost nothing). Raises
    ImageError with a one-line reason fit for the person (or the script) that sent it. `label` names
    the image in the reasons; `formats` narrows the accepted types ("png", "jpeg")."""
    if not isinstance(value, str):
        raise ImageError(f"{label} must be a data URL string, not {type(value).__name__}")
    if len(value) > max_chars:
        raise ImageError(f"{label} is too large ({len(value):,} characters; the limit is {max_chars:,})")
    m = DATA_URL.match(value)
    if not m or m.group(1) not in formats:
        kinds = " or ".join(DATA_URL_FORMATS[f] for f in formats)
        raise ImageError(f"{label} must be a data URL of a {kinds} image (data:image/{formats[0]};base64,...)")
    try:
        raw = base64.b64decode(value[m.end():], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(f"{label}'s data URL is not valid base64") from None
    im = peek(raw)  # ImageError for anything that is not an image, or one over MAX_PIXELS
    declared = DATA_URL_FORMATS[m.group(1)]
    if im.format != declared:
        raise ImageError(f"the data URL says {declared} but the data is {im.format or 'something else'}")
    if max(im.size) > max_side:
        raise ImageError(f"{label} is {im.width}x{im.height} px; the limit is {max_side}x{max_side}")
    return raw


# ---- an image editor to paint masks on -----------------------------------------------------------
# Gradio's ImageEditor sends each edit's pictures (background, layers, composite) through its server
# function accept_blobs, outside the queue, into a dict on the component that only an event's
# preprocess empties: the sets of edits no event reads stay for good, and a script can add any number.
# Its preprocess then decodes every picture, of any size, before any check of ours.
MAX_LAYERS = 4  # painted layers an editor value may carry
MAX_SETS, MAX_SET_BYTES = 512, 96 * 2**20  # all sessions together: the oldest go first
SETS_PER_SESSION = 2  # a page reads its newest set; the one before may still be on its way
_SET_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class LayerStore:
    """The painted layers a page uploaded (accept_blobs), by the id its next event sends: per page
    session only the newest SETS_PER_SESSION sets, and MAX_SETS / MAX_SET_BYTES in all (the oldest go
    first). Thread-safe: uploads and events run in worker threads."""

    def __init__(self):
        self._sets: OrderedDict[str, dict[int, bytes]] = OrderedDict()
        self._owner: dict[str, str] = {}  # set id -> session
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, session: str, set_id: str, index: int, data: bytes) -> None:
        with self._lock:
            layers = self._sets.setdefault(set_id, {})
            self._bytes += len(data) - len(layers.get(index, b""))
            layers[index] = data
            self._owner.setdefault(set_id, session)
            mine = [i for i, s in self._owner.items() if s == session]
            for old in mine[:-SETS_PER_SESSION]:
                self._drop(old)
            while len(self._sets) > MAX_SETS or self._bytes > MAX_SET_BYTES:
                self._drop(next(iter(self._sets)))

    def pop(self, set_id: str) -> list[bytes]:
        """The set's layers in order (empty if unknown or dropped); the set is forgotten."""
        with self._lock:
            layers = self._sets.get(set_id, {})
            self._drop(set_id)
            return [layers[i] for i in sorted(layers)]

    def _drop(self, set_id: str) -> None:
        self._bytes -= sum(len(b) for b in self._sets.pop(set_id, {}).values())
        self._owner.pop(set_id, None)

    def __len__(self) -> int:
        return len(self._sets)


def _blob(data, max_side: int) -> tuple[str, str, int, bytes] | str:
    """accept_blobs' argument (Gradio's form: fields id, type, index and one file) -> (type, set id,
    layer index, bytes), or why it is refused."""
    fields, files = getattr(data, "data", None), getattr(data, "files", None)
    if not isinstance(fields, dict) or not isinstance(files, list) or len(files) != 1:
        return "expected one picture, uploaded as a form with the fields id, type and index"
    kind, set_id, index = fields.get("type"), fields.get("id"), fields.get("index")
    if kind not in ("background", "composite", "layer") or not isinstance(set_id, str) or not _SET_ID.fullmatch(set_id):
        return "type must be background, composite or layer, and id a short string of letters and digits"
    if kind == "layer" and not (isinstance(index, str) and index.isdigit() and int(index) < MAX_LAYERS):
        return f"a layer's index is a whole number below {MAX_LAYERS}"
    raw = files[0][1] if isinstance(files[0], (tuple, list)) and len(files[0]) == 2 else None
    if not isinstance(raw, bytes):
        return "expected one picture file"
    try:
        im = peek(raw)  # the header only: a bomb costs nothing
    except ImageError as e:
        return str(e)
    if max(im.size) > max_side:
        return f"the picture is {im.width}x{im.height} px; the limit is {max_side}x{max_side}"
    return kind, set_id, int(index) if kind == "layer" else 0, raw


with no_type_stubs():  # Gradio would write demos/inputs.pyi at every start
    class PaintEditor(gr.ImageEditor):
        """A gr.ImageEditor to paint a mask on; the picture under the paint stays on the server (the tab
        sets it; no upload, webcam or paste source), so the page's copy of it is never read back.

        As an event input its value is the list of painted layers: lazily opened PIL images (RGBA, painted
        = opaque), at most MAX_LAYERS, each checked from its header (an image file, sides at most
        MAX_SIDE) before anything decodes it; anything else is refused with a message. The pictures a page
        sends ahead (accept_blobs) are checked the same way, and only the layers are kept, in the bounded
        `store`. A subclass (shown by Gradio's own image editor: is_template) rather than a patched
        instance, because a property update (e.g. a new brush size) makes Gradio build a new component
        for the session from the class; the store is the class's, shared by every copy. Make one with
        paint_editor(): Gradio reads a component's properties from its class's __init__ signature, so the
        class keeps ImageEditor's."""

        is_template = True
        MAX_SIDE = 1024
        store = LayerStore()

        @server
        def accept_blobs(self, data, request: gr.Request):
            """A page's picture of one edit (Gradio's form: the fields id, type, index and one file) ->
            {"ok": True}, or {"ok": False, "error": why}."""
            blob = _blob(data, self.MAX_SIDE)
            if isinstance(blob, str):
                return {"ok": False, "error": f"Refused: {blob}."}
            kind, set_id, index, raw = blob
            if kind == "layer":  # the background and composite are the tab's own picture: not kept
                self.store.put(str(getattr(request, "session_hash", "") or ""), set_id, index, raw)
            return {"ok": True}

        def preprocess(self, payload) -> list:
            """The editor's value -> its painted layers (see the class doc); raises gr.Error to refuse."""
            if payload is None:
                return []
            set_id = getattr(payload, "id", None)
            sources = self.store.pop(set_id) if isinstance(set_id, str) else \
                [f.path for f in (getattr(payload, "layers", None) or []) if getattr(f, "path", None)]
            if len(sources) > MAX_LAYERS:
                raise refused(f"Refused: at most {MAX_LAYERS} painted layers.")
            out = []
            for source in sources:
                try:
                    im = peek(source)
                except ImageError as e:
                    raise refused(f"Refused: the painted layer: {e}.") from None
                if max(im.size) > self.MAX_SIDE:
                    raise refused(f"Refused: the painted layer is {im.width}x{im.height} px; the limit is "
                                  f"{self.MAX_SIDE}x{self.MAX_SIDE}.")
                out.append(im)
            return out


def paint_editor(**kwargs) -> PaintEditor:
    """A PaintEditor with no source but the tab (no upload, webcam or paste), no crop or resize tools and
    one layer; `kwargs` as gr.ImageEditor's."""
    return PaintEditor(**{"sources": (), "type": "pil", "transforms": (), "layers": False, **kwargs})


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
