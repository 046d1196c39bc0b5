"""The sketch canvas's server side, without a browser: the data-URL check (demos/inputs.py), the
server function's answers (demos/sketch2photo.translate), its concurrency gate (demos/common.Gate),
the guard in front of Gradio's /component_server route (demos/server.ComponentServerGuard, through
Gradio's real app in a TestClient), and the page assets Gradio evaluates as templates."""
from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import subprocess
import threading

import anyio
import gradio as gr
import pytest
from PIL import Image, ImageDraw, ImageFile

from core.pipelines import sketch2photo as pipeline
from core.pipelines.images import ImageError
from demos import server
from demos import sketch2photo as tab
from demos.common import Gate
from demos.inputs import image_data_url
from tests.hostile_corpus import jpeg_declaring, png_bomb

needs_model = pytest.mark.skipif(not pipeline.has_checkpoint(), reason="needs the shipped sketch2photo model")


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def png(im: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def drawing(lines=((30, 160, 220, 170), (60, 100, 200, 90))) -> Image.Image:
    im = Image.new("RGB", (256, 256), "white")
    d = ImageDraw.Draw(im)
    for line in lines:
        d.line(line, fill="black", width=4)
    return im


def check(value, **kw) -> bytes:
    return image_data_url(value, max_chars=kw.get("max_chars", 2_000_000), max_side=kw.get("max_side", 2048))


# ---- the data URL --------------------------------------------------------------------------------

def test_a_png_or_jpeg_data_url_gives_its_bytes():
    raw = png(drawing())
    assert check(data_url(raw)) == raw
    jpg = png(drawing(), "JPEG")
    assert check(data_url(jpg, "image/jpeg")) == jpg


@pytest.mark.parametrize("value, reason", [
    (None, "data URL string"), (5, "data URL string"), (math.nan, "data URL string"), (True, "data URL string"),
    ([1, 2], "data URL string"), ({"a": 1}, "data URL string"),
    ("", "data URL of a PNG or JPEG"), ("hello", "data URL of a PNG or JPEG"),
    ("data:image/svg+xml;base64,PHN2Zz4=", "data URL of a PNG or JPEG"),
    ("data:text/html;base64,PGI+aGk8L2I+", "data URL of a PNG or JPEG"),
    ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", "data URL of a PNG or JPEG"),
    ("DATA:image/png;base64,AAAA", "data URL of a PNG or JPEG"),
    ("data:image/png,rawbytes", "data URL of a PNG or JPEG"),
    ("data:image/png;base64,@@@@", "not valid base64"),
    ("data:image/png;base64,AAA", "not valid base64"),  # bad padding
    ("data:image/png;base64," + base64.b64encode(b"just text").decode(), "could not read the image"),
    ("data:image/png;base64,", "could not read the image"),
])
def test_anything_else_is_refused_with_a_reason(value, reason):
    with pytest.raises(ImageError, match=re.escape(reason)):
        check(value)


def test_length_is_refused_before_any_decoding(monkeypatch):
    huge = "data:image/png;base64," + "A" * 10_000_000

    def decoded(*_, **__):
        raise AssertionError("10 MB of base64 were decoded before the length check")

    monkeypatch.setattr(base64, "b64decode", decoded)
    with pytest.raises(ImageError, match="too large"):
        check(huge)


def test_bombs_and_big_drawings_are_refused_from_the_header(monkeypatch):
    bomb = data_url(png_bomb(12000))  # 140 kB declaring 144 megapixels
    big_jpeg = data_url(jpeg_declaring(65000, 65000), "image/jpeg")

    def decoded(*_):
        raise AssertionError("a bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)  # refusals must come from the header
    with pytest.raises(ImageError, match="too large"):
        check(bomb)
    with pytest.raises(ImageError, match="too large"):
        check(big_jpeg)
    with pytest.raises(ImageError, match="the limit is 2048x2048"):
        check(data_url(png(Image.new("L", (3000, 8), 255))))


def test_the_data_must_be_what_the_url_says():
    with pytest.raises(ImageError, match="says PNG but the data is JPEG"):
        check(data_url(png(drawing(), "JPEG"), "image/png"))
    with pytest.raises(ImageError, match="says JPEG but the data is PNG"):
        check(data_url(png(drawing()), "image/jpeg"))


# ---- the server function's answers ------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    None, 0, 1.5, math.nan, math.inf, "data:image/png;base64,AAAA", [], ["x", True], {}, {"fit": True},
    {"image": None}, {"image": 5}, {"image": ["a"]}, {"image": "x" * 3_000_000},
    {"image": "data:image/png;base64,iVBORw0KGgo=", "fit": "yes"}, {"image": "", "fit": 1}, {"image": "", "fit": None},
    {"image": data_url(png_bomb(12000))},
])
def test_refusals_are_json_answers_with_one_line(payload):
    answer = tab.translate_drawing(payload)
    assert answer["ok"] is False and answer["error"] and "\n" not in answer["error"]
    assert "Traceback" not in json.dumps(answer) and answer["status"].startswith("Note:")
    json.dumps(answer, allow_nan=False)  # plain JSON


def test_blank_paper_gets_the_hint_not_an_error():
    answer = tab.translate_drawing({"image": data_url(png(Image.new("RGB", (256, 256), "white"))), "fit": True})
    assert answer == {"ok": True, "empty": True, "status": tab.EMPTY}
    transparent = png(Image.new("RGBA", (64, 64), (0, 0, 0, 0)))  # transparency is paper
    assert tab.translate_drawing({"image": data_url(transparent)})["empty"]


@needs_model
@pytest.mark.shipped
def test_a_drawing_gets_a_photo_and_the_inputs_hash():
    first = tab.translate_drawing({"image": data_url(png(drawing())), "fit": True})
    assert first["ok"] and re.fullmatch(r"[0-9a-f]{12}", first["input_hash"]), first
    photo = Image.open(io.BytesIO(base64.b64decode(first["photo"].split(",", 1)[1])))
    seen = Image.open(io.BytesIO(base64.b64decode(first["seen"].split(",", 1)[1])))
    assert photo.format == "JPEG" and photo.size == (tab.DISPLAY, tab.DISPLAY)
    assert seen.format == "PNG" and seen.size == (128, 128)
    assert 0 < first["model_ms"] <= first["server_ms"] and "ms model" in first["status"]
    again = tab.translate_drawing({"image": data_url(png(drawing())), "fit": True})
    assert again["input_hash"] == first["input_hash"]  # same drawing, same input
    more = tab.translate_drawing({"image": data_url(png(drawing(((30, 160, 220, 170), (60, 100, 200, 90),
                                                                  (100, 120, 110, 150))))), "fit": True})
    unfit = tab.translate_drawing({"image": data_url(png(drawing())), "fit": False})
    assert len({first["input_hash"], more["input_hash"], unfit["input_hash"]}) == 3


@pytest.mark.parametrize("loss", ["L2", 5, None, ["all"], "x" * 100])
def test_an_unknown_loss_is_refused(loss):
    answer = tab.translate_drawing({"image": data_url(png(drawing())), "loss": loss})
    assert answer["ok"] is False and '"loss" must be one of full, l1, cgan, all' in answer["error"]


def test_an_ablation_that_is_not_shipped_says_so(monkeypatch):
    monkeypatch.setattr(tab.pipeline, "has_checkpoint", lambda name="sketch2photo": name == "sketch2photo")
    answer = tab.translate_drawing({"image": data_url(png(drawing())), "loss": "cgan"})
    assert answer["ok"] is False and "sketch2photo_cgan" in answer["error"] and "not been trained" in answer["error"]
    assert tab.available_losses() == ["full"]
    assert 'id="sketch-loss" hidden' in tab._template({})  # one model: no choice to offer


@needs_model
@pytest.mark.shipped
def test_all_three_losses_answer_side_by_side(monkeypatch):
    """"all" runs every shipped generator on the same model input (here the shipped one stands in
    for the ablations, which a checkout may lack)."""
    shipped = tab.pipeline.load("sketch2photo")
    calls = []
    monkeypatch.setattr(tab.pipeline, "has_checkpoint", lambda name="sketch2photo": True)
    monkeypatch.setattr(tab.pipeline, "load", lambda name="sketch2photo", **_: calls.append(name) or shipped)
    answer = tab.translate_drawing({"image": data_url(png(drawing())), "loss": "all"})
    assert answer["ok"], answer
    assert [p["loss"] for p in answer["photos"]] == ["l1", "cgan", "full"]
    assert [p["label"] for p in answer["photos"]] == ["L1 only", "cGAN only", "L1 + cGAN"]
    assert sorted(calls) == ["sketch2photo", "sketch2photo_cgan", "sketch2photo_l1"]
    assert answer["photo"] == answer["photos"][2]["photo"] and "3 models" in answer["status"]
    page = tab._template({})
    assert 'value="all"' in page and 'data-trio="l1"' in page and 'id="sketch-loss" hidden' not in page


def test_a_bug_is_logged_with_its_traceback_but_the_page_gets_a_short_message(monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("internal detail /tmp/secret")

    monkeypatch.setattr(tab.pipeline, "load", broken)
    answer = tab.translate_drawing({"image": data_url(png(drawing()))})
    assert answer["ok"] is False and "/tmp" not in answer["error"] and "went wrong" in answer["error"]
    assert "internal detail" in caplog.text  # the log has it (tests/test_hostile.py fails on it)


# ---- the gate ----------------------------------------------------------------------------------------

def test_the_gate_bounds_running_and_waiting_calls():
    gate = Gate(slots=2, max_waiting=3, wait_s=0.3)
    running, most, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def work(i):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return i

    async def main():
        results = {}

        async def call(i):
            results[i] = await gate.run(work, i)

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(call, i)
                await anyio.sleep(0.01)
            await anyio.sleep(0.05)
            # 2 run, 3 wait, 3 were told "busy" at once.
            assert gate.waiting == 3 and sum(1 for r in results.values() if r is None) == 3
            await anyio.sleep(0.4)  # the waiters give up after wait_s
            assert gate.waiting == 0
            release.set()
        return results

    results = anyio.run(main)
    assert most[0] == 2
    assert sorted(i for i, r in results.items() if r is not None) == [0, 1]


def test_the_gate_frees_its_slot_after_an_error():
    gate = Gate(slots=1, max_waiting=1, wait_s=0.5)

    def boom():
        raise ValueError("x")

    async def main():
        with pytest.raises(ValueError):
            await gate.run(boom)
        return await gate.run(lambda: 42)

    assert anyio.run(main) == 42


def test_busy_is_an_answer_the_page_retries(monkeypatch):
    monkeypatch.setattr(tab, "GATE", Gate(slots=1, max_waiting=0, wait_s=0.1))
    release = threading.Event()
    monkeypatch.setattr(tab, "translate_drawing", lambda payload: release.wait(5) and {"ok": True})

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(tab.translate, {})
            await anyio.sleep(0.05)
            answer = await tab.translate({})
            release.set()
        return answer

    answer = anyio.run(main)
    assert answer["busy"] is True and answer["retry_ms"] > 0 and answer["ok"] is False


# ---- the route, behind the guard, in Gradio's real app ---------------------------------------------------

@pytest.fixture(scope="module")
def http():
    from starlette.testclient import TestClient

    with gr.Blocks() as demo:
        tab.build(demo)
    client = TestClient(gr.routes.App.create_app(demo, app_kwargs=server.app_kwargs()))
    config = client.get("/config").json()
    ids = [c["id"] for c in config["components"] if "translate" in (c.get("props", {}).get("server_fns") or [])]
    assert len(ids) == 1
    return client, ids[0], config["api_prefix"] + "/component_server/"


def test_the_route_answers_a_drawing(http):
    client, cid, url = http
    blank = data_url(png(Image.new("RGB", (256, 256), "white")))
    r = client.post(url, json={"data": {"image": blank, "fit": True}, "component_id": cid, "fn_name": "translate",
                               "session_hash": "s1"})
    assert r.status_code == 200 and r.json()["empty"] is True


def test_the_guard_refuses_malformed_requests_with_a_4xx(http):
    client, cid, url = http
    ok = {"data": None, "component_id": cid, "fn_name": "translate", "session_hash": "s1"}
    cases = {
        "unknown component": ({**ok, "component_id": 10**6}, 404),
        "negative component": ({**ok, "component_id": -1}, 404),
        "component id text": ({**ok, "component_id": "abc"}, 400),
        "component id true": ({**ok, "component_id": True}, 400),
        "component id huge": ({**ok, "component_id": 10**30}, 404),
        "unknown function": ({**ok, "fn_name": "nope"}, 404),
        "not a server function": ({**ok, "fn_name": "preprocess"}, 404),
        "dunder": ({**ok, "fn_name": "__class__"}, 404),
        "another component's attribute": ({**ok, "component_id": 0, "fn_name": "translate"}, 404),
        "no data": ({k: v for k, v in ok.items() if k != "data"}, 400),
        "no fn_name": ({k: v for k, v in ok.items() if k != "fn_name"}, 400),
        "no session": ({k: v for k, v in ok.items() if k != "session_hash"}, 400),
        "a list": ([ok], 400),
    }
    for name, (body, code) in cases.items():
        r = client.post(url, json=body)
        assert r.status_code == code and r.json()["detail"], (name, r.status_code, r.text)
    for raw in (b"", b"garbage", b"[1, 2", b"NaN", b"[" * 100_000 + b"]" * 100_000):
        r = client.post(url, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400, (raw[:20], r.status_code)
    r = client.post(url, content=b"x" * (server.MAX_COMPONENT_BODY + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post(url, content=b"--x\r\njunk", headers={"content-type": "multipart/form-data; boundary=x"})
    assert 400 <= r.status_code < 500
    # Bad arguments pass the guard and get the function's own answer.
    r = client.post(url, content=json.dumps({**ok, "data": math.nan}).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["ok"] is False


# ---- the page's assets -------------------------------------------------------------------------------

def test_the_templates_have_nothing_gradio_would_evaluate():
    html = tab._template(pipeline.examples(tab.CANVAS))
    assert tab._check_template_text("html", html) and "__" not in html.replace("__sketch", "")
    assert len(re.findall(r'data-example="', html)) == len(pipeline.examples(64))
    for bad in ("a `b`", "${x}", "{{x}}"):
        with pytest.raises(ValueError):
            tab._check_template_text("t", bad)


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to parse the script")
def test_the_script_parses():
    result = subprocess.run(["node", "--check", str(tab.ASSETS / "sketch_canvas.js")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
