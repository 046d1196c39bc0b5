"""GAN playground figures (docs/results/gan_playground.json, docs/RESULTS.md):

- presets: every loss preset on the ring of 8 Gaussians, seeds 0-2: modes covered and the share
  of points within 3 sigma every 250 steps, with the CPU seconds spent (one torch thread, as on
  the app's compute thread); GAN only (the tab's VAE step adds ~10 % to a step);
- variants: the collapsing preset with spectral norm ticked, and the same loss with the default D;
- threads: generator steps per second with 1 and with 2 intra-op threads (why the playground
  computes on a thread of its own with 1);
- render: a tick's snapshot, picture and WebP encoding, in ms;
- app: the real app with N sessions ticking as browsers do (every timer interval): steps per
  second per session, the app's CPU share (from /proc), what the N+1th session is told, and the
  latent-walk tab's latency meanwhile (does the playground slow the image tabs?).

    .venv/bin/python -m bench.gan_playground [presets variants threads render app] [--steps 3000] [--json PATH]
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import json
import statistics
import threading
import time
from pathlib import Path

import sys

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: python bench/gan_playground.py
from bench.common import app_pid, cpu_seconds, emit, machine  # noqa: E402
from core.playground.data import ring
from core.playground.render import data_url, picture
from core.playground.session import PlaygroundRun
from core.playground.settings import PRESETS, Settings

ROOT = Path(__file__).resolve().parent.parent
EVERY = 250


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def preset_curve(settings: Settings, seed: int, steps: int) -> dict:
    """Coverage every EVERY steps of one setting and seed: rows (step, cpu_s, covered, on_data)."""
    run = PlaygroundRun(ring(), settings, seed=seed, vae=False)
    rows, cpu = [], 0.0
    while run.step_count < steps:
        t = time.thread_time()
        run.step(EVERY)
        cpu += time.thread_time() - t
        cov = run.coverage()
        rows.append([run.step_count, round(cpu, 2), cov.covered, round(cov.on_data, 3)])
    full = next((r for r in rows if r[2] == 8), None)
    return {"rows": rows, "first_8_of_8": {"step": full[0], "cpu_s": full[1]} if full else None,
            "last": {"covered": rows[-1][2], "on_data": rows[-1][3]},
            "max_covered_after_1000": max((r[2] for r in rows if r[0] >= 1000), default=None)}


def presets(steps: int, seeds: list[int], table: dict | None = None) -> dict:
    torch.set_num_threads(1)
    out = {}
    for name, (settings, note) in (table or PRESETS).items():
        out[name] = {"settings": settings.__dict__, "note": note,
                     "seeds": {str(s): preset_curve(settings, s, steps) for s in seeds}}
        print(name, {s: v["last"] for s, v in out[name]["seeds"].items()}, flush=True)
    return out


def variants() -> dict:
    collapse = PRESETS["nonsaturating"][0]
    return {"nonsaturating + spectral norm": (collapse.changed(spectral=True), "the collapsing preset, SN ticked"),
            "nonsaturating, default D": (Settings("nonsaturating"), "1 D step, lr 1e-3 both, batch 256")}


def _steps_per_s(threads: int, n: int = 300) -> dict:
    torch.set_num_threads(threads)
    run = PlaygroundRun(ring(), PRESETS["nonsaturating"][0], seed=0, vae=False)
    run.step(20)
    t, c = time.perf_counter(), time.process_time()
    run.step(n)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"steps_per_s": round(n / wall, 1), "process_cpu_s_per_step_ms": round(1000 * cpu / n, 2)}


def threads() -> dict:
    before = torch.get_num_threads()
    out = {"load_before": _load(), "1": _steps_per_s(1), "2": _steps_per_s(2), "load_after": _load()}
    torch.set_num_threads(before)
    return out


def render(n: int = 40) -> dict:
    torch.set_num_threads(1)
    run = PlaygroundRun(ring(), PRESETS["wgan_gp"][0], seed=0)
    run.step(200)
    times = {"snapshot": [], "picture": [], "encode": []}
    size = []
    for _ in range(n):
        run.step(5)
        t0 = time.perf_counter()
        snap = run.snapshot()
        t1 = time.perf_counter()
        im = picture(snap)
        t2 = time.perf_counter()
        url = data_url(im)
        t3 = time.perf_counter()
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(1000 * v)
        size.append(len(url))
    out = {k: {"median_ms": round(statistics.median(v), 1), "p90_ms": round(sorted(v)[int(0.9 * n)], 1)}
           for k, v in times.items()}
    out["data_url_kb"] = round(statistics.median(size) / 1024, 1)
    out["load"] = _load()
    return out


# ---- the launched app ------------------------------------------------------------------------------

def _session(url: str, cfg: dict, stop: threading.Event, out: dict, label: str) -> None:
    """A browser's playground: Play, then a tick every timer interval (as the page's gr.Timer)."""
    from tests.rawclient import RawClient

    deps = cfg["dependencies"]
    comps = {c["id"]: c for c in cfg["components"]}
    play = next(i for i, d in enumerate(deps) if d["targets"] and comps.get(d["targets"][0][0], {}).get("props", {})
                .get("elem_id") == "pg-play")
    tick = next(i for i, d in enumerate(deps) if d["targets"] and d["targets"][0][1] == "tick")
    unload = next(i for i, d in enumerate(deps) if d["targets"] and d["targets"][0][1] == "unload")
    defaults = {c["id"]: c["props"].get("value") for c in cfg["components"]}
    with RawClient(url, timeout=60) as c:
        answer = c.call(play, [defaults.get(j) for j in deps[play]["inputs"]])
        out[label] = {"play": (answer.output or [None] * 3)[2] if answer.ok else answer.message}
        if not answer.ok or "full" in str(out[label]["play"]):
            return
        interval, ticks, lat, first_step, last_step, t0 = 0.25, 0, [], None, 0, time.perf_counter()
        while not stop.is_set():
            t = time.perf_counter()
            a = c.call(tick, [defaults.get(j) for j in deps[tick]["inputs"]])
            lat.append(time.perf_counter() - t)
            if a.ok and a.output:
                text = str(a.output[1])
                if "step " in text:
                    step = int(text.split("step ")[1].split(" ")[0].replace(",", ""))
                    first_step = step if first_step is None else first_step
                    last_step = step
                timer = a.output[3]
                if isinstance(timer, dict) and "value" in timer:
                    interval = float(timer["value"])
            ticks += 1
            time.sleep(max(0.0, interval - (time.perf_counter() - t)))
        wall = time.perf_counter() - t0
        c.call(unload, [])  # what a closing tab does: its run ends at once
        out[label].update({"ticks": ticks, "steps": last_step, "steps_per_s": round(last_step / wall, 1),
                           "interval_s": interval, "tick_latency_median_ms": round(1000 * statistics.median(lat)),
                           "tick_latency_p90_ms": round(1000 * sorted(lat)[int(0.9 * len(lat))])})


def _image_latency(url: str, cfg: dict, n: int = 8) -> dict | None:
    """The latent-walk tab's /walk (a strip of 8 faces, the HEAVY queue group): median and worst
    wall time of n calls, one after the other. None without the faces model."""
    from tests.rawclient import RawClient

    deps = cfg["dependencies"]
    walk = next((i for i, d in enumerate(deps) if d.get("api_name") == "walk"), None)
    if walk is None:
        return None
    defaults = {c["id"]: c["props"].get("value") for c in cfg["components"]}
    data = [defaults.get(j) for j in deps[walk]["inputs"]]
    times = []
    with RawClient(url, timeout=120) as c:
        for _ in range(n):
            t = time.perf_counter()
            answer = c.call(walk, data)
            times.append(time.perf_counter() - t)
            if not answer.ok or "not been trained" in str(answer.output):
                return None
    return {"median_ms": round(1000 * statistics.median(times)), "max_ms": round(1000 * max(times))}


def app(seconds: float, counts: list[int]) -> dict:
    """For each number of sessions: the app's CPU while they play (nothing else running), then the
    latent walk's latency while they still play."""
    import httpx

    from tests.apprunner import running_app

    out = {}
    with running_app() as url:
        pid = app_pid(url)
        cfg = httpx.get(url + "config", timeout=30).json()
        _image_latency(url, cfg, 2)  # loads the faces model
        out["0"] = {"image_latency": _image_latency(url, cfg), "load_before": _load()}
        print(0, out["0"], flush=True)
        for n in counts:
            stop, res = threading.Event(), {}
            threads_ = [threading.Thread(target=_session, args=(url, cfg, stop, res, f"s{i}")) for i in range(n)]
            for t in threads_:
                t.start()
            time.sleep(3)  # everyone playing
            c0, w0, load0 = cpu_seconds(pid), time.perf_counter(), _load()
            time.sleep(seconds)
            cpu = (cpu_seconds(pid) - c0) / (time.perf_counter() - w0)
            latency = _image_latency(url, cfg)
            stop.set()
            for t in threads_:
                t.join()
            out[str(n)] = {"app_cpu_cores": round(cpu, 3), "app_cpu_share_of_2_cores": round(cpu / 2, 3),
                           "load_before": load0, "image_latency": latency, "sessions": res}
            print(n, json.dumps(out[str(n)])[:400], flush=True)
            time.sleep(5)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("parts", nargs="*", default=["presets", "variants", "threads", "render", "app"])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--sessions", default="1,8,9")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "gan_playground.json")
    args = p.parse_args()
    report = json.loads(args.json.read_text()) if args.json.exists() else {}
    report["machine"] = {**machine(), "load_at_start": _load()}
    seeds = [int(s) for s in args.seeds.split(",")]
    for part in args.parts:
        if part == "presets":
            report["presets"] = {"steps": args.steps, "every": EVERY, "by_preset": presets(args.steps, seeds)}
        elif part == "variants":
            report["variants"] = {"steps": args.steps, "every": EVERY,
                                  "by_variant": presets(args.steps, seeds, variants())}
        elif part == "threads":
            report["threads"] = threads()
        elif part == "render":
            report["render"] = render()
        elif part == "app":
            report["app"] = {"seconds": args.seconds,
                             "by_sessions": app(args.seconds, [int(n) for n in args.sessions.split(",")])}
        else:
            raise SystemExit(f"unknown part {part!r}")
        report["machine"]["load_at_end"] = _load()
        emit(report, args.json)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
