"""Cold start of the whole app: from `python app.py` to the first page, then each tab's first request.

    python bench/cold_start.py [--runs 3] [--cache empty|unshipped|warm|both] [--browser] [--json FILE]

Each run starts `python app.py` on a free port exactly as a lecturer would (start-up warm-up on,
LAB_WARMUP unset), with either an empty disk cache (a fresh temp LAB_CACHE_DIR: the first start on a
machine: the arithmetic pool's labels come from the files shipped beside the faces weights,
core.pipelines.shipped_pool), or empty and without those files (`unshipped`, LAB_SHIPPED_POOL=0: the
pool still to be labelled, as after re-promoting a faces model) or the warm one (`.pytest_cache/genlab`,
where the tests keep the labelled pool). It polls GET / every 50 ms from this process; "first page" is the
time from Popen to the first 200, "config" to the first 200 of /config (what the page fetches next).
The app's CPU time (user + system, from /proc) at that moment is recorded too: unlike wall time it
does not depend on what else the machine runs.

Then, as one person clicking through the tabs right after the page is up, one request per tab
with gradio_client, one after the other: /sketch (the shoe drawing as a file), /horse2zebra (the
first example photo), /walk (latent walk), /edit (an attribute slider on a face) and /arithmetic
(the first preset). The last needs the labelled pool: `unshipped`, it waits for it (the
status says so; that time is reported as such).

--browser also times Chromium (Playwright): from Popen to the tab strip visible in the page.

--interference measures, in this process, what the start-up labelling of the pool costs other
tabs' requests: the median time of a horse-to-zebra translation (the example photo) and of a sketch
translation, alone, then while a thread labels the pool (as app.warm_up does) at normal priority
(how the app did it before) and at the warm-up's (app.lower_this_threads_priority: SCHED_IDLE and
nice 19, this thread only).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import _cpu_name, cpu_seconds, emit, timed  # noqa: E402
from tests.apprunner import CHROMIUM, free_port  # noqa: E402

WARM_CACHE = ROOT / ".pytest_cache" / "genlab"


def _wait_ok(url: str, proc: subprocess.Popen, timeout: float = 180) -> float:
    deadline = time.perf_counter() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            pass
        if time.perf_counter() > deadline:
            raise TimeoutError(url)
        time.sleep(0.05)


def _first_requests(url: str, tmp: Path) -> dict:
    from gradio_client import Client, handle_file

    from core.pipelines import face_arithmetic, horse2zebra, sketch2photo

    shoe, horse = tmp / "shoe.png", tmp / "horse.png"
    sketch2photo.examples(512)["shoe"].save(shoe)
    next(iter(horse2zebra.examples().values())).save(horse)
    out = {}
    t = time.perf_counter()
    client = Client(url, verbose=False)
    out["client_connect_s"] = round(time.perf_counter() - t, 2)
    calls = [
        ("sketch", lambda: client.predict(handle_file(str(shoe)), True, api_name="/sketch")[-1]),
        ("horse2zebra", lambda: client.predict(handle_file(str(horse)), "horse → zebra",
                                               api_name="/horse2zebra")[-1]),
        ("walk", lambda: client.predict(11, 42, "slerp", 8, 0.5, None, api_name="/walk")[-1]),
        ("edit", lambda: client.predict(7, 1.5, *[0] * (len(face_arithmetic.DIRECTION_ATTRIBUTES) - 1),
                                        api_name="/edit")[-1]),
        ("arithmetic", lambda: client.predict(next(iter(face_arithmetic.PRESETS)), 0, 0.25,
                                              api_name="/arithmetic")[-1]),
    ]
    for name, call in calls:
        t = time.perf_counter()
        try:
            status = call()
        except Exception as e:  # noqa: BLE001 - recorded, the run goes on
            status = f"error: {type(e).__name__}: {e}"
        out[f"{name}_s"] = round(time.perf_counter() - t, 2)
        out[f"{name}_status"] = str(status)[:160]
    return out


def _browser_first_page(port: int, started: float, proc: subprocess.Popen) -> float:
    from playwright.sync_api import sync_playwright

    _wait_ok(f"http://127.0.0.1:{port}/", proc)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_role("tab", name="Horse ↔ zebra").wait_for(timeout=120_000)
        t = time.perf_counter()
        browser.close()
    return t - started


def one_run(cache: str, browser: bool) -> dict:
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="coldstart-"))
    cache_dir = WARM_CACHE if cache == "warm" else tmp / "cache"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "LAB_CACHE_DIR": str(cache_dir),
           "LAB_SHIPPED_POOL": "0" if cache == "unshipped" else "1"}
    env.pop("LAB_WARMUP", None)
    log = open(tmp / "app.log", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        report = {"cache": cache}
        if browser:
            report["browser_first_page_s"] = round(_browser_first_page(port, t0, proc), 2)
        else:
            report["first_page_s"] = round(_wait_ok(f"http://127.0.0.1:{port}/", proc) - t0, 2)
            report["app_cpu_s_at_first_page"] = round(cpu_seconds(proc.pid), 2)
            report["config_s"] = round(_wait_ok(f"http://127.0.0.1:{port}/config", proc) - t0, 2)
            report.update(_first_requests(f"http://127.0.0.1:{port}/", tmp))
        return report
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def interference(repeats: int = 15) -> dict:
    import threading

    import torch

    import app
    from core.device import setup_threads
    from core.pipelines import face_arithmetic, horse2zebra, sketch2photo

    setup_threads()
    h2z, s2p = horse2zebra.load(), sketch2photo.load()
    photo = next(iter(horse2zebra.examples().values()))
    shoe = sketch2photo.examples(512)["shoe"]
    work = {"horse2zebra_ms": lambda: h2z(photo), "sketch_ms": lambda: s2p(shoe)}

    def medians() -> dict:
        return {name: timed(fn, repeats, warmup=1)["median_ms"] for name, fn in work.items()}

    report = {"alone": medians()}
    cases = (("with_labelling_at_normal_priority", None), ("with_labelling_at_warm_up_priority", app.WARM_UP_NICE))
    for case, nice in cases:
        stop = threading.Event()
        arith = face_arithmetic.FaceArithmetic(face_arithmetic.load_faces(), face_arithmetic.load_classifier())
        z = torch.randn(face_arithmetic.POOL_SIZE, arith.faces.z_dim, generator=torch.Generator().manual_seed(0))
        job = face_arithmetic.Labelling(z, arith.judge, key="bench")

        def labelling(nice=nice, job=job, stop=stop):
            if nice is not None:
                app.lower_this_threads_priority(nice)
            while not stop.is_set() and job.step():
                pass

        thread = threading.Thread(target=labelling, daemon=True)
        thread.start()
        time.sleep(2)  # the labelling under way
        report[case] = medians()
        report[case]["faces_labelled_meanwhile"] = job.progress()[0]
        stop.set()
        thread.join()
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", choices=("empty", "unshipped", "warm", "both"), default="both")
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--interference", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.interference:
        report = {"cpu": _cpu_name(), "cores": len(os.sched_getaffinity(0)), "load_avg_start": os.getloadavg()[0],
                  **interference(), "load_avg_end": os.getloadavg()[0]}
        emit(report, args.json)
        return
    caches = ("empty", "warm") if args.cache == "both" else (args.cache,)
    report = {"cpu": _cpu_name(), "cores": len(os.sched_getaffinity(0)), "load_avg_start": os.getloadavg()[0],
              "runs": []}
    for cache in caches:
        for _ in range(args.runs):
            report["runs"].append(one_run(cache, args.browser))
            print(json.dumps(report["runs"][-1]), flush=True)
    report["load_avg_end"] = os.getloadavg()[0]
    emit(report, args.json)


if __name__ == "__main__":
    main()
