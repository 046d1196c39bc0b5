"""Start the real app in a subprocess on a free port, for gradio_client and browser tests."""
from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# Debian's Chromium (no browser download works here) and the flags every browser test and bench uses.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# An init script (page.add_init_script, so before the page's own): window.__frames counts the
# animation frames the page asks for.
COUNT_FRAMES = """
window.__frames = 0;
const request = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (callback) => { window.__frames += 1; return request(callback); };
"""

# httpx builds a new SSL context, reading the whole CA bundle, for every Client, httpx.get and
# httpx.post, even for plain http: 60-110 ms on a busy 2-core machine, more than most of the test
# apps' answers. The tests open thousands of them (the hostile suite one per request), so they share
# one, made once (`verify=SSL_CONTEXT`; gradio_client's through `local_client`).
SSL_CONTEXT: ssl.SSLContext = httpx.create_ssl_context()


def local_client(url: str, **kwargs):
    """A gradio_client.Client for a test app, its requests on the shared SSL_CONTEXT (gradio_client
    hands `ssl_verify` to httpx as `verify` on every request)."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=SSL_CONTEXT, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(env: dict | None = None, timeout: float = 120, log: Path | None = None,
                command: tuple[str, ...] = ("app.py",)):
    """The app (or `command`, e.g. ("-m", "demos.text_edit") for one tab served alone) on a free
    port; its output goes to `log` if given (else runs/test_app_PORT.log when runs/ exists)."""
    port = free_port()
    if log is not None:
        log = open(log, "w")
    else:
        log = open(ROOT / "runs" / f"test_app_{port}.log", "w") if (ROOT / "runs").exists() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, *command, "--port", str(port)], cwd=ROOT,
                            # No start-up warm-up: it would take CPU from every test app; the tabs build the
                            # arithmetic pool on first use (read from the tests' disk cache: conftest.py).
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "LAB_WARMUP": "0", **(env or {})},
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited with {proc.returncode}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise TimeoutError("app did not start")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
