"""The app builds, every tab is there, and the sketch tab answers real calls on a launched app."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

import app  # noqa: E402
import core.registry
from core.pipelines import sketch2photo
from demos import inpainting
from demos.common import OK_MARK, WARN_MARK
from tests.apprunner import local_client, running_app

# The tabs still to come last: inpainting is one until its model ships (checkpoints/inpainting).
INPAINTING = ["inpainting"]
TAB_KEYS = ["sketch2photo", "horse2zebra", "latent_walk", "vector_arithmetic", "gan_playground", "colorization",
            "text_edit", *(INPAINTING if inpainting.shipped() else []), "timelapse", "admin",
            *([] if inpainting.shipped() else INPAINTING)]


def test_every_tab_builds():
    assert [key for _, key, _ in app.TABS] == TAB_KEYS
    demo = app.build_app()
    config = demo.get_config_file()
    labels = [c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"]
    assert len(labels) == len(TAB_KEYS)


def test_an_untrained_model_shows_a_notice(monkeypatch, tmp_path):
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path)
    demo = app.build_app()
    texts = [c["props"].get("value") or "" for c in demo.get_config_file()["components"] if c.get("type") == "markdown"]
    assert any("not been trained yet" in t for t in texts)
    from demos import sketch2photo as tab

    shoe = sketch2photo.examples(128)["shoe"]
    photo, seen, status = tab.on_sketch(shoe, True)
    assert photo is None and "not been trained" in status
    answer = tab.translate_drawing({"image": _data_url(shoe), "fit": True})  # the canvas says so too
    assert answer["ok"] is False and "not been trained" in answer["status"]


def _data_url(im: Image.Image) -> str:
    import base64
    import io

    buf = io.BytesIO()
    im.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def client(shared_app):
    if not sketch2photo.has_checkpoint():
        pytest.skip("no shipped sketch2photo checkpoint")
    return local_client(shared_app)


@pytest.mark.slow
@pytest.mark.shipped
def test_sketch_endpoint_draws_a_photo(client, tmp_path):
    path = tmp_path / "shoe.png"
    sketch2photo.examples(512)["shoe"].save(path)
    photo, seen, status = client.predict(handle_file(str(path)), True, api_name="/sketch")
    assert status.startswith(OK_MARK)
    out = np.asarray(Image.open(photo).convert("RGB")).astype(float)
    assert out.shape[0] == out.shape[1] >= 128 and out.shape[2] == 3
    assert out.std() > 10  # not a flat image
    assert min(Image.open(seen).size) >= 128


@pytest.mark.slow
@pytest.mark.shipped
def test_empty_canvas_gets_a_hint_not_an_error(client, tmp_path):
    path = tmp_path / "blank.png"
    Image.new("RGBA", (512, 512), (0, 0, 0, 0)).save(path)
    photo, seen, status = client.predict(handle_file(str(path)), True, api_name="/sketch")
    assert photo is None and "Draw" in status


@pytest.mark.slow
@pytest.mark.shipped
@pytest.mark.parametrize("kind", ["corrupt", "tiny", "huge", "rgba", "grey16", "photo"])
def test_upload_handles_bad_and_odd_images(client, tmp_path, kind):
    path = tmp_path / f"{kind}.png"
    drawing = sketch2photo.examples(256)["handbag"]
    mode = "edge map (dark lines on light)"
    if kind == "corrupt":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 10)
    elif kind == "tiny":
        Image.new("RGB", (5, 5), "white").save(path)
    elif kind == "huge":
        Image.new("L", (7000, 6000), 255).save(path)  # 42 MP, over the limit
    elif kind == "rgba":
        a = np.zeros((256, 256, 4), np.uint8)
        a[..., 3] = 255 - np.asarray(drawing.convert("L"))
        Image.fromarray(a, "RGBA").save(path)
    elif kind == "grey16":
        Image.fromarray(np.asarray(drawing.convert("L")).astype(np.uint16) * 257).save(path)
    elif kind == "photo":
        rng = np.random.default_rng(0)
        a = np.full((200, 300, 3), 240, np.uint8)
        a[50:150, 60:240] = rng.integers(60, 120, (100, 180, 3))
        Image.fromarray(a).save(path)
        mode = "photo → edges (Canny)"
    photo, seen, status = client.predict(handle_file(str(path)), mode, True, api_name="/upload")
    if kind in ("corrupt", "tiny", "huge"):
        assert photo is None and status.startswith(WARN_MARK)
        assert {"corrupt": "corrupt", "tiny": "too small", "huge": "too large"}[kind] in status
        assert "/tmp" not in status  # no server paths leak into messages
    else:
        assert status.startswith(OK_MARK), status
        assert min(Image.open(photo).size) >= 128


@pytest.fixture
def tiny_horse2zebra(monkeypatch, tmp_path):
    from core.checkpoint import save_checkpoint
    from core.nets import ResnetConfig, build_net

    g = ResnetConfig(base_channels=8, num_blocks=1)
    save_checkpoint(tmp_path / "horse2zebra", {"G_A": build_net(g), "G_B": build_net(g)}, meta={"image_size": 128})
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path)
    return tmp_path


@pytest.mark.parametrize("kind", ["rgba", "grey", "grey16", "huge", "tiny", "corrupt", "none"])
def test_horse2zebra_tab_handles_any_upload(tiny_horse2zebra, tmp_path, kind):
    from demos import horse2zebra as tab

    path = tmp_path / f"{kind}.png"
    if kind == "rgba":
        Image.new("RGBA", (300, 200), (120, 80, 40, 128)).save(path)
    elif kind == "grey":
        Image.new("L", (200, 300), 128).save(path)
    elif kind == "grey16":
        Image.fromarray(np.full((100, 150), 40000, np.uint16)).save(path)
    elif kind == "huge":
        Image.new("RGB", (2400, 1600), "brown").save(path, quality=50)
    elif kind == "tiny":
        Image.new("RGB", (10, 10)).save(path)
    elif kind == "corrupt":
        path.write_bytes(b"\xff\xd8\xff garbage")
    slider, out, rec, diff, same, status = tab.translate(None if kind == "none" else str(path), "horse → zebra")
    if kind in ("tiny", "corrupt", "none"):
        assert out is None and (WARN_MARK in status or "Upload" in status)
    else:
        assert status.startswith(OK_MARK) and out.size == rec.size == diff.size == same.size and max(out.size) <= 512
        assert "dB" in status and "of the pixels by more than 10 %" in status
        assert slider[0].size == out.size
        if kind == "huge":
            assert "downscaled from 2400x1600" in status


def test_what_changed_says_how_much_of_the_picture_changed(tiny_horse2zebra, tmp_path, monkeypatch):
    """The tab claimed "the meadow stays a meadow" while its difference map was lit everywhere: the
    status now measures how much of the picture the translation changed."""
    from core.pipelines import horse2zebra
    from demos import horse2zebra as tab

    def left_half_only(x, direction="horse → zebra"):  # a 'generator' that changes the left half only
        y = x.clone()
        y[..., : x.shape[-1] // 2] += 0.6  # 30 % of the range [-1, 1]
        return y, x

    monkeypatch.setattr(horse2zebra.HorseZebraPipeline, "run", lambda self, x, d="horse → zebra": left_half_only(x))
    path = tmp_path / "grey.png"
    Image.new("RGB", (200, 120), (128, 128, 128)).save(path)
    t = horse2zebra.load()(str(path))
    assert t.changed_share == pytest.approx(0.5, abs=0.01) and t.mean_change == pytest.approx(0.15, abs=0.01)
    diff = np.asarray(t.difference.convert("L")).astype(float)
    assert diff[:, :90].mean() > 250 and diff[:, 110:].mean() < 5  # white where it changed (x4), black elsewhere
    status = tab.translate(str(path), "horse → zebra")[-1]
    assert "changed: 50 % of the pixels by more than 10 % (mean change 15 %)" in status, status


@pytest.mark.slow
@pytest.mark.shipped
def test_no_temp_files_outlive_the_app(tmp_path):
    """GIF exports, example files and Gradio's cache (uploads, results) live in folders of the app
    process: a stopped app (SIGTERM, as a service manager stops it) leaves nothing in TMPDIR."""
    from core.pipelines import faces

    if not faces.has_checkpoint("faces"):
        pytest.skip("no shipped faces checkpoint")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with running_app(env={"TMPDIR": str(tmp), "GRADIO_TEMP_DIR": ""}) as url:
        c = local_client(url)
        for _ in range(3):
            gif, _, status = c.predict(1, 2, "slerp", 1.0, None, api_name="/gif")
            assert "GIF" in status
        assert len([p for p in tmp.rglob("*.gif") if "gradio" in str(p)]) >= 1  # Gradio's cache is there
    assert not [p for p in tmp.rglob("*") if p.is_file()], "files left in TMPDIR"


def _short_reads(save, folder, seconds: float = 1.5) -> int:
    """Readers of an image that writers keep saving again (the same bytes): how many reads came
    back shorter than the file."""
    import threading
    import time

    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8))
    path = save(img, str(folder))
    size, stop, short = len(Path(path).read_bytes()), threading.Event(), [0]

    def writer():
        while not stop.is_set():
            save(img, str(folder))

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    end = time.time() + seconds
    while time.time() < end:
        short[0] += len(Path(path).read_bytes()) != size
    stop.set()
    for t in threads:
        t.join()
    return short[0]


def test_identical_outputs_are_never_served_half_written(tmp_path):
    """A class clicking the same example at once gets the same output image: Gradio's own cache
    write (truncate, then write) served a browser 0 bytes under load; ours renames complete files
    into place."""
    from demos.gradio_fixes import GRADIO_SAVE, save_pil_to_cache

    assert _short_reads(save_pil_to_cache, tmp_path / "ours") == 0
    assert _short_reads(GRADIO_SAVE, tmp_path / "gradio") > 0  # the test can tell


def _session_kb(demo, n: int = 20) -> float:
    """KB kept per new Gradio session of `demo` (n sessions made and held)."""
    import tracemalloc

    from gradio.state_holder import SessionState

    tracemalloc.start()
    try:
        kept = [SessionState(demo) for _ in range(n)]
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == n
    return size / n / 1024


def test_the_queue_never_rebuilds_its_traffic_summary():
    """Gradio's queue summarises its last 10,000 events with pandas after every event (for /monitoring,
    which the app turns off): the served app's queue never does, a plain Gradio queue does."""
    import gradio as gr

    from demos import server

    records = [{"time": 0.0, "status": "success", "process_time": 0.01, "function": f"f{i % 7}",
                "session_hash": str(i)} for i in range(5000)]
    built = []
    queues = []
    for prepare in (server.prepare, lambda demo: demo.queue()):
        with gr.Blocks() as demo:
            gr.Textbox()
        prepare(demo)
        q = demo._queue
        q._get_df = lambda rows, q=q: built.append(q) or type(q)._get_df(rows)
        q.events_recorded += len(records)  # as after serving that many events
        q.compute_analytics_summary(records)
        queues.append(q)
    assert built == [queues[1]], "the served queue rebuilt the summary, or Gradio no longer does"


def test_the_idle_queue_polls_slowly_and_a_queued_event_makes_it_quick_again():
    """Gradio's queue looks for work every 1 ms and for progress every 10 ms, even with nobody there
    (~9 % of a core on the event loop that also serves the canvas): the served app's queue polls at
    20 ms / 100 ms when idle, at Gradio's own rate while events are queued or running and for 2 s
    after; a plain Gradio queue keeps 1 ms."""
    import time
    from collections import defaultdict
    from types import SimpleNamespace

    import gradio as gr

    from demos import gradio_fixes, server

    with gr.Blocks() as plain:
        gr.Textbox()
    plain.queue()
    assert plain._queue.sleep_when_free == gradio_fixes.BUSY_POLL_S  # Gradio's own: the test can tell
    with gr.Blocks() as demo:
        gr.Textbox()
    q = server.prepare(demo)._queue
    assert (q.sleep_when_free, q.progress_update_sleep_when_free) == (gradio_fixes.IDLE_POLL_S,
                                                                      gradio_fixes.IDLE_PROGRESS_POLL_S)
    q.event_queue_per_concurrency_id = defaultdict(lambda: SimpleNamespace(queue=[]))  # nothing queued
    q.active_jobs = [None, ["an event"]]  # a running event
    assert (q.sleep_when_free, q.progress_update_sleep_when_free) == (gradio_fixes.BUSY_POLL_S,
                                                                      gradio_fixes.PROGRESS_POLL_S)
    q.active_jobs = [None, None]
    assert q.sleep_when_free == gradio_fixes.BUSY_POLL_S  # still within IDLE_AFTER_S of that event
    q._lab_busy_at = time.monotonic() - gradio_fixes.IDLE_AFTER_S - 0.1
    assert q.sleep_when_free == gradio_fixes.IDLE_POLL_S
    q.event_queue_per_concurrency_id["fn"].queue.append("an event")  # one queued, none running yet
    assert len(q) == 1 and q.sleep_when_free == gradio_fixes.BUSY_POLL_S


def test_every_page_runs_the_early_scripts_before_gradios_own(shared_app):
    """demos/assets/status_timers.js must run before Gradio's modules capture requestAnimationFrame:
    it is the first thing in the page's <head>, and the page is otherwise Gradio's (its length
    declared right); other answers are untouched."""
    import urllib.request

    with urllib.request.urlopen(shared_app) as r:
        page, declared = r.read(), int(r.headers["content-length"])
    assert declared == len(page)
    head = page.index(b"<head>") + len(b"<head>")
    assert page[head:].lstrip().startswith(b"<script>") and b"__labStatusTimers" in page[head:head + 4000]
    assert page.index(b"__labStatusTimers") < page.index(b'type="module"') < page.index(b"</head>")
    from demos.server import EARLY_SCRIPTS

    assert page.count(EARLY_SCRIPTS) == 1
    with urllib.request.urlopen(shared_app + "gradio_api/info") as r:
        info = r.read()
    assert b"__labStatusTimers" not in info and info.startswith(b"{")
    import gzip

    with urllib.request.urlopen(urllib.request.Request(shared_app, headers={"Accept-Encoding": "gzip"})) as r:
        packed, encoding = r.read(), r.headers["content-encoding"]
    assert encoding == "gzip" and len(packed) < len(page) / 4  # ~0.13 of 0.9 MB
    assert gzip.decompress(packed).count(EARLY_SCRIPTS) == 1


def test_the_page_gets_early_scripts_and_gzip_and_nothing_else_is_touched():
    """AppPage on its own: the page (path ending in "/", text/html) gets the scripts, gzipped when the
    request accepts gzip, with the right length; a file's path, a non-HTML answer and an HTML answer
    over MAX_PAGE come as they were."""
    import asyncio
    import gzip

    from demos.server import EARLY_SCRIPTS, AppPage

    def serve(path: str, body: bytes, content_type: bytes = b"text/html; charset=utf-8", parts: int = 3,
              accept: bytes | None = None, encoding: bytes | None = None):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
            step = -(-len(body) // parts)
            for i in range(parts):
                await send({"type": "http.response.body", "body": body[i * step:(i + 1) * step],
                            "more_body": i < parts - 1})

        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path,
                 "headers": [(b"accept-encoding", accept)] if accept is not None else []}
        asyncio.run(AppPage(app)(scope, None, send))
        headers = dict(sent[0]["headers"])
        got = b"".join(m.get("body", b"") for m in sent[1:])
        assert int(headers[b"content-length"]) == len(got) and len(sent[0]["headers"]) == len(headers)
        assert headers.get(b"content-encoding") == encoding
        return gzip.decompress(got) if encoding == b"gzip" else got

    page = b"<!doctype html><html><head><title>t</title></head><body>x</body></html>"
    assert serve("/", page) == page.replace(b"<head>", b"<head>" + EARLY_SCRIPTS)
    assert serve("/lab/", page) == page.replace(b"<head>", b"<head>" + EARLY_SCRIPTS)
    assert serve("/gradio_api/file=/tmp/x.html", page) == page
    assert serve("/", b'{"a": "<head>"}', b"application/json") == b'{"a": "<head>"}'
    big = b"<head>" + b"x" * (AppPage.MAX_PAGE + 10)
    assert serve("/", big, parts=4) == big
    with_scripts = page.replace(b"<head>", b"<head>" + EARLY_SCRIPTS)
    for accept in (b"gzip, deflate, br", b"br;q=1.0, GZIP;q=0.5", b"*"):
        assert serve("/", page, accept=accept, encoding=b"gzip") == with_scripts
    for accept in (b"br", b"gzip;q=0, br", b"gzip; q=0.000", b"gzip;q=x", b"identity"):
        assert serve("/", page, accept=accept) == with_scripts
    assert serve("/", b'{"a": 1}', b"application/json", accept=b"gzip") == b'{"a": 1}'
    assert serve("/", big, parts=4, accept=b"gzip") == big


def test_a_new_session_costs_the_server_little_and_keeps_gradios_config(monkeypatch):
    """Anyone can send a new session hash with every request, and Gradio keeps 10,000 sessions: its
    own session start copies every component's config (~0.66 MB, ~40 ms of the event loop for this
    app); ours builds each on first use, and a session's full config (deep links) is still Gradio's."""
    import json

    from gradio import state_holder

    from demos.gradio_fixes import GRADIO_SESSION_INIT

    demo = app.build_app()  # applies the fix (demos.server.prepare)
    ours_kb = _session_kb(demo)
    lazy = state_holder.SessionState(demo)
    lazy.config_values[list(demo.blocks)[len(demo.blocks) // 2]]  # one read, as an event does, before the rest
    monkeypatch.setattr(state_holder.SessionState, "__init__", GRADIO_SESSION_INIT)
    gradio_kb = _session_kb(demo, n=5)
    eager = state_holder.SessionState(demo)
    assert gradio_kb > 300 and ours_kb < gradio_kb / 5, (ours_kb, gradio_kb)  # the test can tell them apart
    assert sorted(vars(lazy)) == sorted(vars(eager))
    same = [json.dumps(list(s.components), default=str, sort_keys=True) for s in (lazy, eager)]
    assert same[0] == same[1] and len(same[0]) > 100_000


@pytest.mark.slow
def test_a_tab_runs_alone(tmp_path):
    """`python -m demos.horse2zebra` serves that tab alone (as a Space with one tab per file)."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.apprunner import ROOT, free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "demos.horse2zebra", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while True:
            try:
                config = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2))
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, "the tab did not start"
                time.sleep(0.5)
        names = {d.get("api_name") for d in config["dependencies"]}
        assert "horse2zebra" in names and "sketch" not in names and "admin_sign_in" not in names
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_warm_up_thread_runs_at_the_lowest_priority_and_only_it():
    """The start-up labelling must not compete with requests: its thread (and the threads it starts,
    e.g. its OpenMP workers) run only when the cores are free (SCHED_IDLE, and nice 19), the rest of
    the process keeps its priority."""
    import os
    import sys
    import threading

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread priority is Linux's")

    def nice(tid: int) -> int:
        return int(Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()[16])

    def policy(tid: int) -> int:
        return int(Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()[38])

    seen = {}

    def worker():
        seen["lowered"] = app.lower_this_threads_priority()
        seen["own"] = nice(threading.get_native_id())
        seen["policy"] = policy(threading.get_native_id())
        child = threading.Thread(target=lambda: seen.update(child=nice(threading.get_native_id()),
                                                            child_policy=policy(threading.get_native_id())))
        child.start()
        child.join()

    before = nice(threading.get_native_id())
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["lowered"] and seen["own"] == seen["child"] == app.WARM_UP_NICE == 19
    assert seen["policy"] == seen["child_policy"] == os.SCHED_IDLE  # runs only when the cores are free
    assert nice(threading.get_native_id()) == before == os.getpriority(os.PRIO_PROCESS, 0)
    assert policy(threading.get_native_id()) == os.SCHED_OTHER
