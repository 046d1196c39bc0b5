"""Serving: what the whole app and a single tab (`python -m demos.NAME`) share: the queue, the
limits, the request hardening, the cache policy and a clean stop."""
from __future__ import annotations

import argparse
import functools
import gzip
import json
import logging
import os
import re
import signal
from pathlib import Path
from typing import Callable

import anyio
import gradio as gr
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from .common import CSS
from .gradio_fixes import atomic_cache_writes, calm_idle_queue, lazy_session_configs, no_queue_analytics
from .inputs import refuse_malformed_requests
from .lecture import CSS as LECTURE_CSS

log = logging.getLogger("genlab.requests")

# Gradio's file cache: files older than an hour go every ten minutes, all of them at shutdown.
DELETE_CACHE = (600, 3600)
MAX_FILE_SIZE = "25mb"
QUEUE_SIZE = 64


# /component_server (the functions of gr.HTML components, e.g. the sketch canvas): largest body.
COMPONENT_SERVER = re.compile(r"/component_server/?$")
MAX_COMPONENT_BODY = 4 * 2**20


# Gradio routes this app does not use, refused before Gradio sees them. /gradio_api/deep_link
# serialises every component of the session (~0.7 MB for this app, ~0.15 s of CPU) into a new file
# under the upload folder for each distinct state: anyone could fill the disk with it.
UNOFFERED = re.compile(r"/gradio_api/deep_link/?$")


class UnofferedRoutes:
    """ASGI middleware: a 404 with a one-line reason for the UNOFFERED routes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and UNOFFERED.search(scope["path"]):
            log.warning("refused a request for %s (not offered)", scope["path"])
            return await JSONResponse({"detail": "Not offered by this app."}, status_code=404)(scope, receive, send)
        return await self.app(scope, receive, send)


class ComponentServerGuard:
    """ASGI middleware in front of Gradio's /component_server route, which any page or script can
    POST to. The route itself reads a body of any size, and answers an unknown component id with a
    500 and a traceback in the log (a KeyError); here a request is refused with a 4xx and a one-line
    reason unless its body is at most MAX_COMPONENT_BODY, it has the route's fields with the right
    types, and it names an existing component and one of that component's server functions. What
    passes goes on unchanged (the body is replayed). The functions validate their own arguments."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not COMPONENT_SERVER.search(scope["path"]):
            return await self.app(scope, receive, send)
        body = await self._body(scope, receive)
        if isinstance(body, tuple):
            return await self._refuse(scope, receive, send, *body)
        if body is None:  # the client went away
            return None
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        problem = await self._check(scope, replay, body)
        if problem:
            return await self._refuse(scope, receive, send, *problem)
        replayed = False
        return await self.app(scope, replay, send)

    @staticmethod
    async def _body(scope, receive) -> bytes | tuple[int, str] | None:
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_COMPONENT_BODY):
            return 413, f"Request body too large (the limit is {MAX_COMPONENT_BODY // 2**20} MB)."
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > MAX_COMPONENT_BODY:
                return 413, f"Request body too large (the limit is {MAX_COMPONENT_BODY // 2**20} MB)."
            if not message.get("more_body"):
                return bytes(body)

    @staticmethod
    async def _fields(scope, replay, body: bytes) -> dict | str:
        """The request's fields (JSON, or the form Gradio's blob uploads send), or why they are unreadable."""
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
        if content_type.startswith("multipart/form-data"):
            try:
                async with Request(scope, replay).form() as form:  # closes (and deletes) its temp files
                    # Gradio's blob form: these fields, the arguments as more items (no "data" field).
                    return {**{k: form.get(k) for k in ("component_id", "fn_name", "session_hash")}, "data": None}
            except Exception:  # noqa: BLE001 - any malformed form is refused alike
                return "Invalid form body."
        try:
            fields = json.loads(body)
        except (ValueError, RecursionError):
            return "Invalid JSON body."
        return fields if isinstance(fields, dict) else "Invalid JSON body: expected an object."

    async def _check(self, scope, replay, body: bytes) -> tuple[int, str] | None:
        fields = await self._fields(scope, replay, body)
        if isinstance(fields, str):
            return 400, fields
        cid, name, session = fields.get("component_id"), fields.get("fn_name"), fields.get("session_hash")
        if isinstance(cid, str) and cid.isdigit() and len(cid) < 12:
            cid = int(cid)
        if isinstance(cid, bool) or not isinstance(cid, int) or not isinstance(name, str) \
                or not isinstance(session, str) or "data" not in fields:
            return 400, "Expected component_id (a number), fn_name and session_hash (strings) and data."
        app = scope.get("app")
        if not hasattr(app, "get_blocks"):
            return None  # not Gradio's app: nothing to check against
        block = app.get_blocks().blocks.get(cid)
        if block is None:  # a component made by gr.render lives in the session's own config
            state = app.state_holder.session_data.get(session)
            block = state.blocks_config.blocks.get(cid) if state is not None else None
        if block is None:
            return 404, "No such component."
        if not getattr(getattr(block, name, None), "_is_server_fn", False):
            return 404, "Function not found."
        return None

    @staticmethod
    async def _refuse(scope, receive, send, status: int, reason: str):
        log.warning("refused a component-server request: %s", reason)
        await JSONResponse({"detail": reason}, status_code=status)(scope, receive, send)


# Scripts that must run before Gradio's own (demos/assets/status_timers.js: its status timers, made
# cheap). Gradio's `head=` is added by its scripts once they run, after the modules it must precede.
EARLY_SCRIPTS = f"<script>{(Path(__file__).parent / 'assets' / 'status_timers.js').read_text()}</script>".encode()
PAGE_GZIP_LEVEL = 5  # the page: 0.91 MB -> 0.13 MB in ~12 ms (level 9 saves 4 KB more for 50 % more time)


def accepts_gzip(headers: dict[bytes, bytes]) -> bool:
    """Whether a request's Accept-Encoding allows gzip (named or "*", with a q-value above 0)."""
    for part in headers.get(b"accept-encoding", b"").decode("latin-1").lower().split(","):
        name, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            if param.replace(" ", "").startswith("q="):
                try:
                    q = float(param.split("=", 1)[1])
                except ValueError:
                    q = 0.0
        if name in ("gzip", "*") and q > 0:
            return True
    return False


@functools.lru_cache(maxsize=4)
def _gzipped(page: bytes) -> bytes:
    """The page gzipped; the same page again (a class opening the app at once) costs a hash."""
    return gzip.compress(page, PAGE_GZIP_LEVEL)


class AppPage:
    """ASGI middleware for the app's page (a GET of a path ending in "/" answered with uncompressed
    text/html of at most MAX_PAGE bytes, held until complete): EARLY_SCRIPTS go first in its
    <head>, and it is gzipped for a browser that accepts it (Gradio compresses its scripts, not the
    page: ~0.9 MB of config, half of what a first visit downloaded). Everything else, files
    included, passes untouched."""

    MAX_PAGE = 8 * 2**20  # a larger answer is not the app's page: it streams on unchanged

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].endswith("/"):
            return await self.app(scope, receive, send)
        gzip_ok = accepts_gzip({k.lower(): v for k, v in scope.get("headers") or []})
        start, body = None, bytearray()

        async def rewrite(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                    start = message  # held until the whole page is here
                    return None
                return await send(message)
            if start is None or message["type"] != "http.response.body":
                return await send(message)
            body.extend(message.get("body", b""))
            if len(body) > self.MAX_PAGE:  # not the app's page: on as it came
                held, start = start, None
                await send(held)
                return await send({**message, "body": bytes(body)})
            if message.get("more_body"):
                return None
            page = bytes(body)
            at = page.lower().find(b"<head>")
            if at >= 0:
                page = page[:at + 6] + EARLY_SCRIPTS + page[at + 6:]
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if gzip_ok:  # in a worker thread: ~12 ms that would otherwise stop the event loop
                page = await anyio.to_thread.run_sync(_gzipped, page)
                headers += [(b"content-encoding", b"gzip"), (b"vary", b"accept-encoding")]
            await send({**start, "headers": headers + [(b"content-length", str(len(page)).encode())]})
            return await send({"type": "http.response.body", "body": page, "more_body": False})

        return await self.app(scope, receive, rewrite)


def app_kwargs() -> dict:
    """What launch gives Gradio's FastAPI app (tests build the app from it too)."""
    return {"middleware": [Middleware(UnofferedRoutes), Middleware(ComponentServerGuard),
                           Middleware(AppPage)]}


def blocks(title: str) -> gr.Blocks:
    return gr.Blocks(title=title, delete_cache=DELETE_CACHE)


def prepare(demo: gr.Blocks) -> gr.Blocks:
    """The queue (model events share demos.common.HEAVY's slots) and the request hardening."""
    demo.queue(default_concurrency_limit=2, max_size=QUEUE_SIZE)
    no_queue_analytics(demo._queue)
    calm_idle_queue(demo._queue)
    refuse_malformed_requests(demo)
    atomic_cache_writes()
    lazy_session_configs()
    return demo


def _interrupt(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a repeated SIGTERM must not break the clean-up
    raise KeyboardInterrupt


def launch(demo: gr.Blocks, host: str, port: int, when_serving: Callable[[], None] | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; either closes the server, so Gradio empties its cache and
    the temp folders go (atexit) instead of staying in /tmp. `when_serving` runs once the server
    answers (e.g. to start background work that must not delay the first page)."""
    signal.signal(signal.SIGTERM, _interrupt)
    demo.launch(server_name=host, server_port=port, css=CSS + LECTURE_CSS, max_file_size=MAX_FILE_SIZE,
                show_error=False, app_kwargs=app_kwargs(), prevent_thread_lock=True,
                enable_monitoring=False)  # Gradio's default serves request counts and timings to anyone
    if when_serving is not None:
        when_serving()
    demo.block_thread()  # what launch does itself without prevent_thread_lock


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
