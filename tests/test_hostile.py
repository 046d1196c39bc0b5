"""Hostile inputs to every endpoint of every tab, through raw HTTP and through gradio_client.

The endpoints are read from the running app (GET /config: "dependencies" and "components"; GET
/gradio_api/info for the named ones), so a new tab joins without touching this file. Hidden
events (api_name=False) are called by fn_index over the queue protocol
(POST /gradio_api/queue/join, then the SSE stream GET /gradio_api/queue/data), with forged
`event_data` for .select events. For each dependency one input at a time runs through the corpus
values that fit its component type (tests/hostile_corpus.py) while the others keep their config
defaults (a valid small photo for image inputs). Dependencies with identical inputs and outputs
(e.g. the same function on .change and .click) share one walk through the corpus: each case goes
to one of them, round robin, so every case and every dependency is exercised.

Every answer must be a valid result or a refusal with a clear message (a gr.Error or an HTTP 4xx
with a non-empty message: not a bare "Error", no traceback, no server temp path); never an
unhandled error (show_error=False sends an error without a message), a traceback in the server
log, a dead server, or a peak-RSS growth of the server process of 300 MB or more for one request
(VmHWM after the request minus VmRSS before it, with VmHWM reset through /proc/PID/clear_refs).
FileData pointing at server files that the client never uploaded must be refused. Admin events
must refuse ("sign in") without signing in; signed in, they get the corpus too, while a fake
"running" job (a sleeping process) keeps start and resume from launching real training.

The server functions of components (gr.HTML `server_functions`, e.g. the sketch canvas's
`translate`), which pages call through POST /gradio_api/component_server outside the queue, are read
from /config too (each component's `server_fns`) and get their own corpus and broken requests
(test_every_component_server_function).

Each test collects all its sub-results and fails once, listing every (endpoint, input, value)
that failed, grouped by what went wrong, with the server-log excerpt.

    .venv/bin/python -m pytest -q tests/test_hostile.py

The corpus is sampled per input (ROTATE below; HOSTILE_FULL=1 sends all of it). Runtime on the
2-core CPU: with the whole corpus (about 2,150 raw-HTTP requests) the raw pass alone took 4.6 min
on a quiet machine, 5.8 under load; sampled with a larger always-sent set than now, 1,689 requests
(the current set sends fewer; HOSTILE_JSON_DIR counts them). That
is with the labelled arithmetic pool already in the tests' disk cache: the
first run on a machine adds the time to label it (conftest.labelled_pool). Set HOSTILE_JSON_DIR
to get every request's verdict, time and RSS growth as JSON. HOSTILE_ONLY=REGEX narrows the endpoint
tests to the endpoints whose name or input/output components match (a focused run while working on one
tab, e.g. HOSTILE_ONLY='Faces model|Your face photo' for the faces tabs: every endpoint that takes
their model switch or a photo); the suite itself always runs them all.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apprunner import ROOT, SSL_CONTEXT, free_port, local_client
from tests.test_inpainting_tab import stand_in_inpainting
from tests.rawclient import RawClient
from tests.hostile_corpus import (BOOLEANS, CLIENT_SAMPLE, JUNK, NUMBERS, SELECT_INDICES, STRINGS, Case, data_url,
                                  server_function_values, server_paths, write_images)

pytestmark = [pytest.mark.slow, pytest.mark.shipped]  # minutes; serves a copy of checkpoints/
PASSWORD = "hostile-test-password"
RSS_LIMIT_MB = 300
REQUEST_TIMEOUT = 90  # s; a request that takes longer counts as a failure
IMAGE_TYPES = {"image", "imageeditor", "sketchpad", "paint", "file", "imageslider", "gallery", "video", "audio",
               "model3d", "annotatedimage"}
NUMBER_TYPES = {"number", "slider"}
STRING_TYPES = {"textbox", "dropdown", "radio", "code", "markdown", "html", "browserstate", "colorpicker",
                "multimodaltextbox", "datetime"}
BOOL_TYPES = {"checkbox"}
EDITOR_TYPES = {"imageeditor", "sketchpad", "paint"}
SERVER_SIDE = {"state"}  # values live on the server; what a client sends is ignored
UNHANDLED_MARK = "<no message: unhandled exception>"


# ---- the app under test ------------------------------------------------------------------------

@dataclass
class App:
    """The launched app: its URL, process and log file, and /proc readings of its memory."""

    url: str
    proc: subprocess.Popen
    log_path: Path

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def _status_kb(self, key: str) -> int:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1))

    def reset_peak(self) -> int:
        """Reset VmHWM to the current RSS; returns the RSS in kB."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        return self._status_kb("VmRSS")

    def peak_kb(self) -> int:
        return self._status_kb("VmHWM")

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            return False
        try:
            # The queue's status: the cheapest page that still needs the server's event loop.
            with urllib.request.urlopen(self.url + "gradio_api/queue/status", timeout=15) as r:
                return r.status == 200
        except OSError:
            return False


def _start_sleeper(run_dir: Path) -> subprocess.Popen:
    """A process whose command line names `run_dir`: the runner takes it for a live training job,
    so the admin tab refuses to start or resume another (no real training during this test)."""
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps(
        {"id": run_dir.name, "model": "sketch2photo", "config": {"steps": 10}, "nproc": 1, "created": time.time()}))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", str(run_dir)])
    (run_dir / "pid").write_text(str(proc.pid))
    return proc


def _wait_until_up(app: App, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not app.alive():
        if app.proc.poll() is not None:
            raise RuntimeError(f"app exited: {app.log_since(0)[-3000:]}")
        if time.time() > deadline:
            raise TimeoutError("app did not start")
        time.sleep(0.5)


def _stand_in_colorization(folder: Path) -> None:
    """Until the colorization models ship, untrained nets of their registry shape, so that the tab
    (shown only when its model is there) and its endpoints are in the app the corpus attacks."""
    import torch

    from core.checkpoint import is_checkpoint, save_checkpoint
    from core.data import colour
    from core.nets import build_net
    from core.registry import get_spec

    for name in ("colorization", "colorization_l2"):
        if is_checkpoint(folder / name):
            continue
        spec = get_spec(name)
        G = build_net(spec.nets["G"])
        if spec.nets["G"].head == "classification":
            G.bin_centres.copy_(colour.gamut_bins().to(torch.int16))
        save_checkpoint(folder / name, {"G": G}, {"model": name, "image_size": 128,
                                                  "loss": spec.task_params["loss"]}, card="untrained stand-in\n")


@pytest.fixture(scope="module")
def app(tmp_path_factory, labelled_pool):
    """The real app on a free port, admin enabled, runs/data/checkpoints in temp folders (a promote
    cannot touch the shipped weights), its stdout+stderr in a log file this test reads."""
    tmp = tmp_path_factory.mktemp("hostile")
    # The checkpoints the suite runs with (LAB_CHECKPOINTS, as core.registry reads it): e.g. a hinted
    # sketch2photo under test before it ships.
    shutil.copytree(os.environ.get("LAB_CHECKPOINTS") or ROOT / "checkpoints", tmp / "checkpoints")
    _stand_in_colorization(tmp / "checkpoints")
    stand_in_inpainting(tmp / "checkpoints")
    (tmp / "data").mkdir()
    sleeper = _start_sleeper(tmp / "runs" / "00000000-busy-sketch2photo")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "LAB_WARMUP": "0", "PYTHONUNBUFFERED": "1",
           "LAB_ADMIN_PASSWORD": PASSWORD, "LAB_RUNS_DIR": str(tmp / "runs"), "LAB_DATA_ROOTS": str(tmp / "data"),
           "LAB_CHECKPOINTS": str(tmp / "checkpoints")}
    log_path = tmp / "app.log"
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    the_app = App(f"http://127.0.0.1:{port}/", proc, log_path)
    try:
        _wait_until_up(the_app)
        yield the_app
    finally:
        for p in (proc, sleeper):
            p.terminate()
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()


# ---- the app's endpoints, read from the running app ---------------------------------------------

@dataclass
class Endpoint:
    """One dependency (event listener) of the running app."""

    fn_index: int
    name: str  # "/api_name", or "#fn_index (component.event)" for hidden ones
    api_name: str | None  # only for public named endpoints
    inputs: list[dict]  # config components
    outputs: list[dict]
    trigger_id: int | None
    event: str
    collects_event_data: bool
    guarded: bool = False  # reads the sign-in token (and does not write it: sign-in/out are not guarded)

    def signature(self) -> tuple:
        return (tuple(c["id"] for c in self.inputs), tuple(c["id"] for c in self.outputs), self.collects_event_data)


def _label(comp: dict) -> str:
    props = comp.get("props", {})
    return f"{comp['type']} {props.get('label') or props.get('elem_id') or comp['id']!s}"


def discover(app: App) -> list[Endpoint]:
    """Every dependency with a Python function, from GET /config."""
    config = httpx.get(app.url + "config", timeout=30, verify=SSL_CONTEXT).json()
    comps = {c["id"]: c for c in config["components"]}
    endpoints = []
    for i, dep in enumerate(config["dependencies"]):
        if not dep.get("backend_fn"):
            continue
        trigger_id, event = (dep["targets"][0] if dep["targets"] else (None, "?"))
        public = dep.get("api_visibility", "public") == "public" and dep.get("api_name") not in (None, False)
        api_name = dep["api_name"] if public else None
        where = _label(comps[trigger_id]) if trigger_id in comps else "chained"
        name = f"/{api_name}" if api_name else f"#{i} ({where}.{event})"
        endpoints.append(Endpoint(i, name, api_name, [comps[j] for j in dep["inputs"]],
                                  [comps[j] for j in dep["outputs"]], trigger_id, event,
                                  bool(dep.get("collects_event_data"))))
    _mark_guarded(endpoints)
    return endpoints


def sign_in_endpoint(endpoints: list[Endpoint]) -> Endpoint | None:
    return next((e for e in endpoints if e.api_name and e.api_name.endswith("sign_in")), None)


def _mark_guarded(endpoints: list[Endpoint]) -> None:
    """Endpoints that read a State the sign-in endpoint writes (its session token), without writing
    it themselves (signing in and out are for everyone), are guarded."""
    sign = sign_in_endpoint(endpoints)
    if sign is None:
        return
    tokens = {c["id"] for c in sign.outputs if c["type"] in SERVER_SIDE}
    for e in endpoints:
        e.guarded = any(c["id"] in tokens for c in e.inputs) and not any(c["id"] in tokens for c in e.outputs)


# ---- uploads and FileData ------------------------------------------------------------------------

def file_data(path: str, name: str | None = None) -> dict:
    return {"path": path, "orig_name": name or Path(path).name, "meta": {"_type": "gradio.FileData"}}


def upload(app: App, path: Path) -> dict | str:
    """Upload one file (POST /gradio_api/upload): its FileData, or the refusal's text."""
    with open(path, "rb") as f:
        r = httpx.post(app.url + "gradio_api/upload", files={"files": (path.name, f)}, timeout=120, verify=SSL_CONTEXT)
    if r.status_code != 200:
        return f"upload refused: HTTP {r.status_code} {r.text[:200]}"
    return file_data(r.json()[0], path.name)


@dataclass
class Uploads:
    """The image corpus, uploaded once: name -> FileData (or the upload's refusal), the local files
    (for gradio_client), and a valid photo (FileData and local path): the default of image inputs."""

    files: dict[str, dict | str]
    local: dict[str, Path]
    photo: dict
    photo_path: Path


@pytest.fixture(scope="module")
def uploads(app, tmp_path_factory) -> Uploads:
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("hostile_images")
    local = write_images(folder)
    photo_path = folder / "valid_photo.png"
    img = Image.new("RGB", (128, 128), "white")
    ImageDraw.Draw(img).ellipse((20, 30, 110, 100), outline="black", width=3)
    img.save(photo_path)
    files = {name: upload(app, path) for name, path in local.items()}
    return Uploads(files, local, upload(app, photo_path), photo_path)


# ---- what to send --------------------------------------------------------------------------------

@dataclass
class Probe:
    """One request: an endpoint, the input varied (or "event_data"), the case, the full payload."""

    endpoint: Endpoint
    input_label: str
    case: Case
    data: list
    event_data: Any = None
    kind: str = "value"  # value | file (an uploaded corpus file) | server_path | select
    n_outputs: int | None = None  # outputs expected in a result (default: the endpoint's components)

    def title(self) -> str:
        return f"{self.endpoint.name} · {self.input_label} = {self.case.name}"


def default_value(comp: dict, ups: Uploads) -> Any:
    """What the page would send for an untouched component (a valid photo for image inputs)."""
    t = comp["type"]
    if t in SERVER_SIDE:
        return None
    if t in EDITOR_TYPES:
        return {"background": ups.photo, "layers": [], "composite": ups.photo, "id": None}
    if t in IMAGE_TYPES:
        return ups.photo
    return comp.get("props", {}).get("value")


def _file_cases(ups: Uploads, app_root: Path) -> list[tuple[Case, str]]:
    """(case, kind) for one file slot: every uploaded corpus file, server paths, and junk."""
    out = [(Case(name, fd), "file") for name, fd in ups.files.items() if isinstance(fd, dict)]
    out += [(Case(name, file_data(path)), "server_path") for name, path in server_paths(app_root).items()]
    out += [(Case("plain string /etc/passwd", "/etc/passwd"), "server_path"),
            (Case("FileData with url to /etc/passwd", {"path": "x.png", "url": "file:///etc/passwd",
                                                        "meta": {"_type": "gradio.FileData"}}), "server_path")]
    return out + [(c, "value") for c in JUNK]


def _editor_cases(ups: Uploads, app_root: Path) -> list[tuple[Case, str]]:
    """Each hostile file in the background, the composite and a layer of an editor value."""
    out = []
    for case, kind in _file_cases(ups, app_root):
        if not isinstance(case.value, dict):
            continue
        photo = ups.photo
        for slot, value in (("background", {"background": case.value, "layers": [], "composite": photo}),
                            ("composite", {"background": photo, "layers": [], "composite": case.value}),
                            ("layer", {"background": photo, "layers": [case.value], "composite": photo})):
            out.append((Case(f"{case.name} as {slot}", {**value, "id": None}, case.json_safe), kind))
    junk = [Case("empty dict", {}), Case("background str", {"background": "abc", "layers": "x", "composite": 1})]
    return out + [(c, "value") for c in junk + JUNK]


def cases_for(comp: dict, ups: Uploads) -> list[tuple[Case, str]]:
    t = comp["type"]
    if t in SERVER_SIDE:
        return []
    if t in EDITOR_TYPES:
        return _editor_cases(ups, ROOT)
    if t in IMAGE_TYPES:
        return _file_cases(ups, ROOT)
    table = NUMBERS if t in NUMBER_TYPES else STRINGS if t in STRING_TYPES else BOOLEANS if t in BOOL_TYPES else JUNK
    return [(c, "value") for c in table]


def select_event(index: Any) -> dict:
    return {"index": index, "value": {"image": None, "caption": None}, "selected": True}


# The corpus is large (about 2,150 raw requests in full, 6 min under load). Every input gets the
# cases that guard security and memory (server paths and path strings, decompression bombs, huge
# declared sizes, 10k characters) and the two commonest crashes (None, NaN); the others (wrong
# types, overflows, odd formats) rotate: an input gets one in ROTATE, offset by the case's place in
# the corpus and by how many inputs of its component type came before, so neighbouring inputs get
# different ones and every case still reaches each component type several times (the inputs share
# their coercion helpers, demos/inputs.py). HOSTILE_FULL=1 sends the whole corpus to every input.
ROTATE = 1 if os.environ.get("HOSTILE_FULL") else 4
ALWAYS = {"None", "nan", "10k chars", "../../etc/passwd", "/etc/passwd", "48 MP JPEG 8000x6000",
          "index 999", "index 'abc'"}


def _always(case: Case, kind: str) -> bool:
    base = case.name.split(" as ")[0]  # an editor's "<file case> as layer"
    return kind in ("server_path", "select") or base in ALWAYS or any(w in base for w in ("bomb", "declaring"))


def _sample(cases: list[tuple[Case, str]], comp_type: str, seen: dict[str, int]) -> list[tuple[Case, str]]:
    """The cases one input of type comp_type gets (see ROTATE); `seen` counts the inputs per type."""
    n = seen[comp_type] = seen.get(comp_type, -1) + 1
    return [(c, k) for j, (c, k) in enumerate(cases) if _always(c, k) or (j + n) % ROTATE == 0]


def probes_for(e: Endpoint, ups: Uploads, seen: dict[str, int] | None = None) -> list[Probe]:
    """Defaults once, then one input at a time through its corpus (sampled, see ROTATE), then forged
    select indices."""
    seen = {} if seen is None else seen
    defaults = [default_value(c, ups) for c in e.inputs]
    base_event = select_event(0) if e.collects_event_data else None
    out = [Probe(e, "defaults", Case("defaults", None), defaults, base_event)]
    for i, comp in enumerate(e.inputs):
        for case, kind in _sample(cases_for(comp, ups), comp["type"], seen):
            data = list(defaults)
            data[i] = case.value
            out.append(Probe(e, f"in{i} {_label(comp)}", case, data, base_event, kind))
    if e.collects_event_data:
        out += [Probe(e, "event_data.index", c, defaults, select_event(c.value), "select") for c in SELECT_INDICES]
    return out


def all_probes(endpoints: list[Endpoint], ups: Uploads) -> list[Probe]:
    """Endpoints with the same inputs and outputs share their corpus walk (round robin); every
    endpoint still answers its defaults."""
    groups: dict[tuple, list[Endpoint]] = defaultdict(list)
    for e in endpoints:
        groups[e.signature()].append(e)
    out, seen = [], {}
    for members in groups.values():
        cases = probes_for(members[0], ups, seen)
        out += [Probe(m, "defaults", cases[0].case, cases[0].data, cases[0].event_data) for m in members]
        for probe, member in zip(cases[1:], itertools.cycle(members)):
            probe.endpoint = member
            out.append(probe)
    return out


# ---- sending -------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """ok: the result's data; refused: a message (gr.Error or HTTP 4xx); unhandled: an error
    without a message, a 5xx, a dropped stream or a timeout (message says which)."""

    kind: str
    message: str = ""
    data: Any = None


def call_raw(app: App, fn_index: int, data: list, session: str, event_data=None, trigger_id=None,
             client_ip: str | None = None) -> Outcome:
    """The event through Gradio's queue protocol by hand (tests/rawclient.py); `client_ip`: the
    address the server sees, through X-Forwarded-For, which it trusts from this machine."""
    with RawClient(app.url, session, client_ip, timeout=REQUEST_TIMEOUT) as client:
        answer = client.call(fn_index, data, event_data, trigger_id)
    message = answer.message if answer.message is not None else (UNHANDLED_MARK if answer.kind == "unhandled" else "")
    return Outcome(answer.kind, message, answer.output)


def sign_in(app: App, endpoints: list[Endpoint], session: str) -> None:
    sign = sign_in_endpoint(endpoints)
    # From an address of its own: the corpus's wrong passwords lock their sender out for a while.
    out = call_raw(app, sign.fn_index, [PASSWORD], session, trigger_id=sign.trigger_id, client_ip="10.0.0.77")
    assert out.kind == "ok" and "Signed in" in json.dumps(out.data, ensure_ascii=False), f"sign-in failed: {out}"


# ---- judging -------------------------------------------------------------------------------------

BAD_MESSAGE = re.compile(r"Traceback|File \"|/tmp/gradio|\.py\", line \d+")
SKIP_UPDATE = {"__type__": "update"}


def message_problem(message: str) -> str | None:
    """Why a refusal's text is not a clear user-facing message, or None."""
    text = message.strip()
    if not text or text == UNHANDLED_MARK:
        return "error without a message (unhandled exception)"
    if text.lower().rstrip(".!") in ("error", "an error occurred"):
        return f"bare message {text!r}"
    m = BAD_MESSAGE.search(text)
    if m:
        return f"message leaks internals ({m.group(0)!r}): {text[:200]!r}"
    return None


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        if value.get("meta", {}).get("_type") == "gradio.FileData" or "path" in value:
            return []  # file outputs legitimately live in Gradio's temp folder
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _all_skipped(data) -> bool:
    return isinstance(data, list) and all(d == SKIP_UPDATE or d is None for d in data)


def outcome_problems(probe: Probe, out: Outcome, unsigned_admin: bool, need_sign_in_word: bool = False) -> list[str]:
    """What is wrong with this answer, judged from the answer alone. `unsigned_admin`: a guarded
    endpoint called without signing in, which must refuse (any clear refusal; with
    `need_sign_in_word`, one that says "sign in") or change nothing."""
    if out.kind == "unhandled":
        return [out.message if out.message != UNHANDLED_MARK else "unhandled exception (error without a message)"]
    if out.kind == "refused":
        problem = message_problem(out.message)
        if problem:
            return [problem]
        if need_sign_in_word and "sign in" not in out.message.lower():
            return [f"refused without sign-in, but the message does not say 'sign in': {out.message[:200]!r}"]
        return []
    problems = []
    if unsigned_admin and not _all_skipped(out.data):
        problems.append("admin endpoint answered without sign-in")
    if probe.kind == "server_path" and not _all_skipped(out.data):
        problems.append("FileData naming a server file the client never uploaded was accepted (not refused)")
    expected = probe.n_outputs if probe.n_outputs is not None else len(probe.endpoint.outputs)
    if isinstance(out.data, list) and len(out.data) != expected:
        problems.append(f"{len(out.data)} outputs where {expected} were expected")
    leaks = [s for s in _strings(out.data) if BAD_MESSAGE.search(s)]
    if leaks:
        problems.append(f"an output shows internals: {leaks[0][:200]!r}")
    return problems


# Exceptions that are refusals by design: gr.Error (its message reaches the user; Gradio prints
# its traceback anyway). Anything else in the log is an unhandled exception.
REFUSAL_EXCEPTIONS = ("gradio.exceptions.Error",)
FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


@dataclass
class Crash:
    """One traceback from the server log: its exception line and where it was raised."""

    exception: str
    where: str  # the innermost frame in the project's code, else the innermost frame
    tail: str  # the traceback's last lines, for the report

    @property
    def deliberate(self) -> bool:
        return self.exception.startswith(REFUSAL_EXCEPTIONS)


def _short(path: str) -> str:
    return path.split("site-packages/")[-1] if "site-packages/" in path else os.path.relpath(path, ROOT)


def crashes(log: str) -> list[Crash]:
    """Every traceback in a stretch of the server log."""
    out = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = block.splitlines()
        exc = next((ln for ln in lines[1:] if ln and not ln[0].isspace()), "?")
        frames = [(m.group(1), m.group(2), m.group(3)) for m in FRAME.finditer(block)]
        own = [f for f in frames if str(ROOT) in f[0] and "/.venv/" not in f[0]]
        f = (own or frames or [("?", "?", "?")])[-1]
        idx = lines.index(exc) if exc in lines else len(lines)
        tail = " | ".join(ln.strip() for ln in lines[max(0, idx - 3):idx + 1] if ln.strip() and set(ln.strip()) != {"^"})
        out.append(Crash(exc.strip()[:300], f"{_short(f[0])}:{f[1]} in {f[2]}", tail[:600]))
    return out


@dataclass
class Result:
    """One request's verdict."""

    title: str
    endpoint: str
    outcome: Outcome
    problems: list[str]
    crash: Crash | None
    seconds: float
    rss_growth_mb: float

    def cause(self) -> str:
        """The grouping key: the unhandled exception and where it was raised, else the problem."""
        if self.crash:
            return f"{self.crash.exception.split(':')[0]} at {self.crash.where}"
        return re.sub(r"\d+", "N", self.problems[0].split(":")[0])  # "grew by N MB": one group


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.problems]

    def text(self) -> str:
        """Every failed (endpoint, input, value), grouped by cause, with the log excerpt."""
        by_cause = defaultdict(list)
        for r in self.failures:
            by_cause[r.cause()].append(r)
        total = sum(r.seconds for r in self.results)
        lines = [f"{len(self.failures)} of {len(self.results)} requests failed ({total:.0f} s), "
                 f"{len(by_cause)} causes:"]
        for cause, rs in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"\n== {cause} ({len(rs)} requests)")
            if rs[0].crash:
                lines.append(f"   log: {rs[0].crash.tail}")
            lines += [f"  - {r.title}: {'; '.join(p[:300] for p in r.problems)}" for r in rs]
        return "\n".join(lines)

    def dump(self, name: str) -> None:
        """With HOSTILE_JSON_DIR set, write every result there (for reports and debugging)."""
        folder = os.environ.get("HOSTILE_JSON_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            rows = [{"title": r.title, "endpoint": r.endpoint, "kind": r.outcome.kind,
                     "message": r.outcome.message[:500], "problems": r.problems, "cause": r.cause() if r.problems else None,
                     "crash": r.crash.tail if r.crash else None, "seconds": round(r.seconds, 3),
                     "rss_growth_mb": round(r.rss_growth_mb, 1)} for r in self.results]
            (Path(folder) / f"{name}.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))


def run_one(app: App, report: Report, title: str, endpoint: str, send, judge) -> bool:
    """Send one request with memory and log watched; record its verdict. False if the server died."""
    offset = app.log_size()
    rss = app.reset_peak()
    t0 = time.perf_counter()
    try:
        out = send()
    except (httpx.HTTPError, OSError) as e:
        out = Outcome("unhandled", f"transport error: {type(e).__name__}: {e}")
    seconds = time.perf_counter() - t0
    problems = judge(out)
    growth = (app.peak_kb() - rss) / 1024 if app.proc.poll() is None else 0.0
    if growth >= RSS_LIMIT_MB:
        problems.append(f"server peak RSS grew by {growth:.0f} MB (limit {RSS_LIMIT_MB} MB)")
    # An answer came: the process being there is enough; otherwise ask the event loop too.
    alive = app.proc.poll() is None if out.kind in ("ok", "refused") else app.alive()
    time.sleep(0.01)  # let the log catch up with the answer
    crash = next((c for c in crashes(app.log_since(offset)) if not c.deliberate), None)
    if crash:
        problems.append(f"unhandled exception in the server log: {crash.exception}")
    if not alive:
        problems.append("the server is dead or not answering after this request")
    report.results.append(Result(title, endpoint, out, problems, crash, seconds, growth))
    return alive


# ---- the tests -----------------------------------------------------------------------------------

def _selected(e: Endpoint, pattern: str) -> bool:
    """Whether HOSTILE_ONLY's regex matches the endpoint's name or one of its components' labels."""
    return bool(re.search(pattern, " ".join([e.name, *(_label(c) for c in e.inputs + e.outputs)])))


@pytest.fixture(scope="module")
def endpoints(app) -> list[Endpoint]:
    eps = discover(app)
    assert eps, "no endpoints found in /config"
    only = os.environ.get("HOSTILE_ONLY")
    return [e for e in eps if _selected(e, only)] if only else eps


# What the corpus must reach: a tab whose model is missing from the served copy of checkpoints/ would
# drop out of this suite without a word (the stand-ins above keep the not-yet-shipped ones in).
MUST_ATTACK = {"/sketch", "/horse2zebra", "/walk", "/gif", "/latent_map", "/arithmetic", "/edit", "/colorize",
               "/text_edit", "/text_score", "/inpaint", "/timelapse_model", "/timelapse_frame"}  # the time-lapse tab is there even with no time-lapse
MUST_ATTACK_SERVER_FNS = {"translate", "accept_blobs"}  # the sketch canvas; the inpainting tab's paint editor


def test_the_corpus_reaches_every_tab(app):
    endpoints = discover(app)  # all of them, whatever HOSTILE_ONLY narrows the other tests to
    named = {e.name for e in endpoints if e.api_name}
    assert MUST_ATTACK <= named, f"endpoints missing from the app under test: {sorted(MUST_ATTACK - named)}"
    # Faces v2's encoder takes a photo in the latent walk and the arithmetic tab (hidden events: by fn_index).
    uploads = [e for e in endpoints if any(_label(c) == "file Your face photo" for c in e.inputs)]
    served = Path(os.environ.get("LAB_CHECKPOINTS") or ROOT / "checkpoints")
    if (served / "faces_v2" / "config.json").exists() and (served / "face_attributes" / "config.json").exists():
        assert len(uploads) == 2, [e.name for e in uploads]
    fns = {f.name for f in server_functions(app)[1]}
    assert MUST_ATTACK_SERVER_FNS <= fns, f"server functions missing: {sorted(MUST_ATTACK_SERVER_FNS - fns)}"


def _raw_pass(app: App, endpoints: list[Endpoint], probes: list[Probe], signed_in: bool) -> Report:
    """Each probe by fn_index in a fresh session (signed in first if asked)."""
    report = Report()
    for probe in probes:
        session = uuid.uuid4().hex[:11]
        if signed_in:
            sign_in(app, endpoints, session)
        unsigned_admin = probe.endpoint.guarded and not signed_in

        def send(p=probe, s=session):
            return call_raw(app, p.endpoint.fn_index, p.data, s, p.event_data, p.endpoint.trigger_id)

        def judge(out, p=probe):
            return outcome_problems(p, out, unsigned_admin)

        if not run_one(app, report, probe.title(), probe.endpoint.name, send, judge):
            break
    return report


def test_raw_http_every_endpoint(app, endpoints, uploads):
    """Every dependency, hidden ones included, by fn_index, in a fresh (signed-out) session each.
    The guarded (admin) ones get the corpus signed in (next test); signed out they only have to
    refuse (test_admin_refuses_without_sign_in)."""
    open_endpoints = [e for e in endpoints if not e.guarded]
    report = _raw_pass(app, endpoints, all_probes(open_endpoints, uploads), signed_in=False)
    report.dump("raw")
    assert not report.failures, report.text()


def test_raw_http_signed_in_admin(app, endpoints, uploads):
    """The endpoints behind the admin sign-in, in a signed-in session each."""
    guarded = [e for e in endpoints if e.guarded]
    if not guarded:
        pytest.skip("no endpoint reads the sign-in token")
    report = _raw_pass(app, endpoints, all_probes(guarded, uploads), signed_in=True)
    report.dump("raw_signed_in")
    assert not report.failures, report.text()


def test_admin_refuses_without_sign_in(app, endpoints, uploads):
    """Each guarded endpoint, called by fn_index with its defaults and without signing in, says
    "sign in" (or changes nothing: the silent background refresh)."""
    report = Report()
    for e in [e for e in endpoints if e.guarded]:
        probe = probes_for(e, uploads)[0]

        def send(p=probe):
            return call_raw(app, e.fn_index, p.data, uuid.uuid4().hex[:11], p.event_data, e.trigger_id)

        run_one(app, report, probe.title(), e.name, send,
                lambda out, p=probe: outcome_problems(p, out, unsigned_admin=True, need_sign_in_word=True))
    assert not report.failures, report.text()


# ---- gradio_client ---------------------------------------------------------------------------------

def _client_value(value: Any, ups: Uploads):
    """Turn uploaded-FileData cases back into handle_file(local path), so that gradio_client
    uploads them itself."""
    from gradio_client import handle_file

    if isinstance(value, dict) and value.get("meta", {}).get("_type") == "gradio.FileData":
        name = next((n for n, fd in ups.files.items() if fd is value or fd == value), None)
        if name:
            return handle_file(str(ups.local[name]))
        return handle_file(str(ups.photo_path)) if value == ups.photo else value
    if isinstance(value, dict):
        return {k: _client_value(v, ups) for k, v in value.items()}
    if isinstance(value, list):
        return [_client_value(v, ups) for v in value]
    return value


def _client_probes(endpoints: list[Endpoint], ups: Uploads, info: dict) -> list[Probe]:
    """The named endpoints' probes that a gradio_client user can send: every uploaded image case,
    a sample of the scalar cases (CLIENT_SAMPLE; the raw pass sends them all), JSON-safe values
    only, no server paths (the client would upload its own local copy of the file)."""
    named = {f"/{e.api_name}": e for e in endpoints if e.api_name and f"/{e.api_name}" in info["named_endpoints"]}
    out = []
    for probe in all_probes(list(named.values()), ups):
        if probe.kind == "server_path" or not probe.case.json_safe:
            continue
        if probe.case.name != "defaults" and probe.kind != "file" and probe.case.name not in CLIENT_SAMPLE:
            continue
        probe.n_outputs = len(info["named_endpoints"][probe.endpoint.name]["returns"])
        out.append(probe)
    return out


def _client_args(probe: Probe, ups: Uploads) -> list:
    pairs = zip(probe.endpoint.inputs, probe.data)
    return [_client_value(v, ups) for c, v in pairs if c["type"] not in SERVER_SIDE]


def _client_call(client, probe: Probe, ups: Uploads) -> Outcome:
    from gradio_client.exceptions import AppError

    try:
        data = client.predict(*_client_args(probe, ups), api_name=f"/{probe.endpoint.api_name}")
    except AppError as e:
        if "has not enabled verbose error reporting" in str(e):
            return Outcome("unhandled", UNHANDLED_MARK)
        return Outcome("refused", str(e))
    except (ValueError, TypeError) as e:  # the client refused to send it (its own check)
        return Outcome("refused", f"client-side: {e}")
    data = list(data) if isinstance(data, tuple) else [data]
    return Outcome("ok", data=data)


def test_gradio_client_named_endpoints(app, endpoints, uploads):
    """The named endpoints through gradio_client, JSON-safe cases; the guarded ones from a
    signed-in client, and with their defaults from a plain one too (which must refuse)."""

    info = httpx.get(app.url + "gradio_api/info", timeout=30, verify=SSL_CONTEXT).json()
    plain = local_client(app.url, download_files=False)
    # Its own address (see sign_in): the corpus's wrong passwords lock 127.0.0.1 out for a while.
    signed = local_client(app.url, download_files=False, headers={"X-Forwarded-For": "10.0.0.78"})
    sign = sign_in_endpoint(endpoints)
    if sign:
        answer = signed.predict(PASSWORD, api_name=f"/{sign.api_name}")
        assert "Signed in" in json.dumps(answer, ensure_ascii=False), f"sign-in failed: {answer}"
    report = Report()
    for probe in _client_probes(endpoints, uploads, info):
        if not probe.endpoint.guarded:
            clients = ((plain, False),)
        else:
            clients = ((plain, False), (signed, True)) if probe.case.name == "defaults" else ((signed, True),)
        for client, signed_in in clients:
            title = probe.title() + (" [client, signed in]" if signed_in else " [client]")

            def judge(out, p=probe, s=signed_in):
                return outcome_problems(p, out, unsigned_admin=p.endpoint.guarded and not s)

            if not run_one(app, report, title, probe.endpoint.name,
                           lambda c=client, p=probe: _client_call(c, p, uploads), judge):
                break
    report.dump("client")
    assert not report.failures, report.text()


# ---- component server functions (gr.HTML server_functions, e.g. the sketch canvas) ---------------------
# Gradio's POST /gradio_api/component_server runs a component's server function with whatever JSON a
# client sends, outside the queue. Every function of every component in /config gets the corpus.

BOMB_RSS_LIMIT_MB = 64  # a bomb must be refused from its header, not decoded


@dataclass
class ServerFunction:
    component_id: int
    name: str
    label: str


def server_functions(app: App) -> tuple[str, list[ServerFunction]]:
    """The route's URL (with the app's API prefix) and every server function named in /config."""
    config = httpx.get(app.url + "config", timeout=30, verify=SSL_CONTEXT).json()
    url = app.url + config.get("api_prefix", "/gradio_api").strip("/") + "/component_server/"
    fns = []
    for c in config["components"]:
        names = c.get("props", {}).get("server_fns") or c.get("server_fns") or []
        fns += [ServerFunction(c["id"], name, _label(c)) for name in names]
    return url, fns


def _body(fn: ServerFunction, value: Any, **changes) -> bytes:
    """A request body with `value` as the function's argument; `changes` replace or (as _MISSING)
    drop fields. json.dumps writes NaN and Infinity as JavaScript would (the server parses them)."""
    body = {"data": value, "component_id": fn.component_id, "fn_name": fn.name, "session_hash": uuid.uuid4().hex[:11]}
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not _MISSING}).encode()


_MISSING = object()


def server_function_requests(fn: ServerFunction, unknown_id: int) -> list[tuple[str, bytes, str]]:
    """(title, body, content type) for one function: each corpus value bare, as an argument list and
    as the canvas's {"image": value, "fit": true}; junk for "fit"; the scalars and colour strings
    as "colour" and the corpus and odd layers as "hints" beside a real drawing; then broken requests."""
    json_type = "application/json"
    out = []
    for case in server_function_values():
        out += [(f"data = {case.name}", _body(fn, case.value), json_type),
                (f"data = [{case.name}]", _body(fn, [case.value]), json_type),
                (f"data = {{image: {case.name}}}", _body(fn, {"image": case.value, "fit": True}), json_type)]
    out += [(f"data = {{fit: {c.name}}}", _body(fn, {"image": data_url(b""), "fit": c.value}), json_type)
            for c in BOOLEANS]
    # The canvas's colour hints (issue 19): "colour" (#rrggbb or null) and "hints" (the colour brush's
    # layer, an RGBA PNG data URL of the drawing's size), each beside a real drawing.
    drawing = data_url(_canvas_drawing())
    colours = {c.name: c for c in NUMBERS + STRINGS + BOOLEANS}
    colours.update({name: Case(name, value) for name, value in (
        ("colour 'red'", "red"), ("colour #12345", "#12345"), ("colour #gggggg", "#gggggg"),
        ("colour #ffffff + 10 MB", "#ffffff" + "f" * 10_000_000), ("colour [r, g, b]", [255, 0, 0]))})
    out += [(f"data = {{image: drawing, colour: {c.name}}}", _body(fn, {"image": drawing, "colour": c.value}), json_type)
            for c in colours.values()]
    # The canvas's stamp (a page's random id and its drawing's version: a pen-up's request replaces the
    # one in flight): junk in each beside a good other, and ids of other shapes.
    stamps = dict(colours)
    stamps.update({name: Case(name, value) for name, value in (
        ("id 7 hex digits", "0123abc"), ("id 33 hex digits", "0" * 33), ("id upper-case", "ABCDEF12"),
        ("version 2**53", 2**53), ("version -1", -1), ("version 1.0", 1.0))})
    out += [(f"data = {{image: drawing, canvas: {c.name}, v: 1}}",
             _body(fn, {"image": drawing, "canvas": c.value, "v": 1}), json_type) for c in stamps.values()]
    out += [(f"data = {{image: drawing, canvas: 0123abcd, v: {c.name}}}",
             _body(fn, {"image": drawing, "canvas": "0123abcd", "v": c.value}), json_type) for c in stamps.values()]
    out += [(f"data = {{image: drawing, hints: {case.name}}}",
             _body(fn, {"image": drawing, "colour": "#c62828", "hints": case.value}), json_type)
            for case in server_function_values()]
    out += [(f"data = {{image: drawing, hints: {name}}}", _body(fn, {"image": drawing, "hints": data_url(value)}), json_type)
            for name, value in _colour_layers().items()]
    out += [
        ("no data", _body(fn, None, data=_MISSING), json_type),
        ("no fn_name", _body(fn, None, fn_name=_MISSING), json_type),
        ("no session_hash", _body(fn, None, session_hash=_MISSING), json_type),
        ("no component_id", _body(fn, None, component_id=_MISSING), json_type),
        ("unknown fn_name", _body(fn, None, fn_name="no_such_function"), json_type),
        ("fn_name __init__", _body(fn, None, fn_name="__init__"), json_type),
        ("fn_name preprocess", _body(fn, None, fn_name="preprocess"), json_type),
        ("fn_name 10**30", _body(fn, None, fn_name=10**30), json_type),
        ("unknown component_id", _body(fn, None, component_id=unknown_id), json_type),
        ("component_id -1", _body(fn, None, component_id=-1), json_type),
        ("component_id 10**30", _body(fn, None, component_id=10**30), json_type),
        ("component_id 'abc'", _body(fn, None, component_id="abc"), json_type),
        ("component_id nan", _body(fn, None, component_id=float("nan")), json_type),
        ("session_hash 10k chars", _body(fn, None, session_hash="s" * 10_000), json_type),
        ("body not JSON", b"garbage{", json_type),
        ("body empty", b"", json_type),
        ("body a JSON list", json.dumps([1, 2]).encode(), json_type),
        ("body NaN", b"NaN", json_type),
        ("body nested 100k deep", b"[" * 100_000 + b"]" * 100_000, json_type),
        ("body 10 MB", _body(fn, "x" * 10_000_000), json_type),
        ("body as text/plain", _body(fn, None), "text/plain"),
        ("multipart junk", b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--\r\n",
         "multipart/form-data; boundary=b"),
        ("multipart, no boundary", b"junk", "multipart/form-data"),
    ]
    return out


def _canvas_drawing() -> bytes:
    """A 256 px drawing as the canvas sends it (PNG): a closed outline with a line across."""
    from PIL import Image, ImageDraw

    from tests.hostile_corpus import _encode

    im = Image.new("RGB", (256, 256), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((30, 90, 220, 180), outline="black", width=4)
    d.line((30, 150, 220, 150), fill="black", width=4)
    return _encode(im, "PNG")


def _colour_layers() -> dict[str, bytes]:
    """Colour layers a client could send beside that drawing: fine ones (painted, empty, fully
    painted, palette with transparency) and wrong ones (another size, no alpha, 1 px, 2048 px)."""
    from PIL import Image, ImageDraw

    from tests.hostile_corpus import _encode

    painted = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(painted).line((40, 120, 200, 120), fill=(200, 30, 40, 255), width=12)
    palette = painted.convert("P")
    palette.info["transparency"] = 0
    return {"painted RGBA": _encode(painted, "PNG"), "empty RGBA": _encode(Image.new("RGBA", (256, 256)), "PNG"),
            "all painted": _encode(Image.new("RGBA", (256, 256), (0, 90, 255, 255)), "PNG"),
            "palette with transparency": _encode(palette, "PNG"),
            "RGBA 255x256": _encode(Image.new("RGBA", (255, 256)), "PNG"),
            "RGB, no alpha": _encode(Image.new("RGB", (256, 256)), "PNG"),
            "RGBA 1x1": _encode(Image.new("RGBA", (1, 1)), "PNG"),
            "RGBA 2048x2048": _encode(Image.new("RGBA", (2048, 2048)), "PNG")}


def _post_component_server(url: str, body: bytes, content_type: str) -> tuple[Outcome, str]:
    """The request's outcome, judged like an event's: a 4xx is a refusal with its detail as the
    message; a 200 must be a JSON object, whose "ok": false needs an "error" (or "status") text."""
    r = httpx.post(url, content=body, headers={"Content-Type": content_type}, timeout=REQUEST_TIMEOUT,
                   verify=SSL_CONTEXT)
    text = r.text
    if r.status_code >= 500:
        return Outcome("unhandled", f"HTTP {r.status_code}: {text[:200]}"), text
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail")
        except ValueError:
            detail = text
        return Outcome("refused", str(detail or "")), text
    try:
        answer = r.json()
    except ValueError:
        return Outcome("unhandled", f"HTTP 200 without JSON: {text[:200]}"), text
    if not isinstance(answer, dict):
        return Outcome("unhandled", f"an answer that is not a JSON object: {text[:200]}"), text
    if answer.get("ok") is False:
        return Outcome("refused", str(answer.get("error") or answer.get("status") or "")), text
    return Outcome("ok", data=[answer]), text


def test_every_component_server_function(app):
    """Every server function of every component in /config (found there, so a new one is covered by
    itself) gets the corpus and broken requests through POST /gradio_api/component_server: a 4xx or a
    JSON answer with a clear message each time, never a 5xx, a traceback (in the answer or the log)
    or peak-RSS growth past the limits (tighter for bombs); afterwards the sketch canvas still
    translates a drawing."""
    url, fns = server_functions(app)
    assert fns, "no component in /config has server functions (the sketch canvas has one)"
    config = httpx.get(app.url + "config", timeout=30, verify=SSL_CONTEXT).json()
    unknown_id = max(c["id"] for c in config["components"]) + 1000
    report = Report()
    for fn in fns:
        for title, body, content_type in server_function_requests(fn, unknown_id):
            sent = {}

            def send(b=body, t=content_type):
                out, sent["text"] = _post_component_server(url, b, t)
                return out

            def judge(out, t=title):
                problems = []
                if out.kind == "unhandled":
                    problems.append(out.message)
                elif out.kind == "refused":
                    problems += [p for p in [message_problem(out.message)] if p]
                m = BAD_MESSAGE.search(sent.get("text", ""))
                if m:
                    problems.append(f"the answer shows internals ({m.group(0)!r})")
                return problems

            name = f"{fn.label}.{fn.name}"
            if not run_one(app, report, f"{name} · {title}", name, send, judge):
                break
    bombs = [r for r in report.results if ("bomb" in r.title or "declaring" in r.title)
             and r.rss_growth_mb >= BOMB_RSS_LIMIT_MB]
    report.dump("component_server")
    assert not report.failures, report.text()
    assert not bombs, [(r.title, round(r.rss_growth_mb)) for r in bombs]
    # The canvas still works: a drawing in, a photo out.
    from PIL import Image, ImageDraw

    from tests.hostile_corpus import _encode

    im = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(im).line((30, 160, 220, 170), fill="black", width=4)
    canvas = next(f for f in fns if f.name == "translate")
    out, _ = _post_component_server(url, _body(canvas, {"image": data_url(_encode(im, "PNG")), "fit": True}),
                                    "application/json")
    assert out.kind == "ok" and out.data[0]["photo"].startswith("data:image/jpeg;base64,"), out


def test_gradio_routes_the_app_does_not_offer(app, endpoints, uploads):
    """Gradio's /gradio_api/deep_link writes the session's whole config (~0.7 MB here) into a new file
    per distinct state, for anyone: refused with a 404 and a one-line reason, for a session that
    exists (it ran an event), and the events still answer. Its monitoring pages are off (403)."""
    e = next(e for e in endpoints if e.api_name == "timelapse_model")
    probe = probes_for(e, uploads)[0]
    session = uuid.uuid4().hex[:11]
    assert call_raw(app, e.fn_index, probe.data, session, probe.event_data, e.trigger_id).kind == "ok"
    offset = app.log_size()
    for path in ("gradio_api/deep_link", "gradio_api/deep_link/"):
        r = httpx.get(app.url + path, params={"session_hash": session}, timeout=30, verify=SSL_CONTEXT)
        assert r.status_code == 404 and r.json() == {"detail": "Not offered by this app."}, (path, r.status_code, r.text[:200])
    time.sleep(0.05)
    assert "not offered" in app.log_since(offset) and not crashes(app.log_since(offset))
    # Gradio's monitoring pages (on by default) served every function's request counts and timings to anyone.
    for path in ("monitoring", "monitoring/summary", "monitoring/guess", "gradio_api/monitoring",
                 "gradio_api/monitoring/summary"):
        r = httpx.get(app.url + path, timeout=30, verify=SSL_CONTEXT)
        assert 400 <= r.status_code < 500 and "functions" not in r.text, (path, r.status_code, r.text[:200])
    assert call_raw(app, e.fn_index, probe.data, session, probe.event_data, e.trigger_id).kind == "ok"
