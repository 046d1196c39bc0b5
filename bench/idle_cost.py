"""What the app and an open page cost while nobody uses them (not a test: figures go to docs).

    python bench/idle_cost.py [--pages 1] [--seconds 20] [--json docs/results/idle_cost.json]

Starts app.py (tests.apprunner.running_app, LAB_WARMUP=0), waits for it to settle, and samples the
CPU time (/proc/PID/stat, user + system) that each process uses over --seconds:
1. the app alone, no page open;
2. with --pages pages open in Debian's Chromium (Playwright), each left alone after its load events
   (--settle seconds): the app, and Chromium's renderer, GPU and browser processes;
also the animation frames the pages asked for per second (counted by a script that runs before the
page's own). Figures are % of one core. Run it on a quiet machine: a busy one slows both sides.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import _cpu_name, app_pid, cpu_seconds, emit  # noqa: E402
from tests.apprunner import CHROMIUM, COUNT_FRAMES, running_app  # noqa: E402
from tests.apprunner import CHROMIUM_ARGS as ARGS  # noqa: E402



def processes(url: str) -> dict[str, list[int]]:
    """The app's process (serving `url`) and Chromium's, by kind (renderer, gpu, browser, other)."""
    kinds: dict[str, list[int]] = {"app": [app_pid(url)]}
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and "chromium" in cmd:
            kind = next((k for k in ("renderer", "gpu") if f"--type={k}" in cmd), "other" if "--type=" in cmd else "browser")
            kinds.setdefault(kind, []).append(int(entry.name))
    return kinds


def sample(url: str, seconds: float) -> dict[str, float]:
    """% of one core used by each kind of process over `seconds`."""
    kinds = processes(url)
    before = {k: sum(map(cpu_seconds, pids)) for k, pids in kinds.items()}
    time.sleep(seconds)
    return {k: round((sum(map(cpu_seconds, pids)) - before[k]) / seconds * 100, 1) for k, pids in kinds.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=20.0, help="seconds for the app and each page's load events")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpu": _cpu_name(),
              "cores": os.cpu_count(), "load_average_start": [round(x, 2) for x in os.getloadavg()],
              "seconds": args.seconds, "pages": args.pages}
    with running_app() as url, sync_playwright() as p:
        time.sleep(args.settle)
        report["no_page_cpu_pct"] = sample(url, args.seconds)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = []
        for _ in range(args.pages):
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.add_init_script(COUNT_FRAMES)
            page.goto(url)
            page.wait_for_selector("#sketch-canvas", timeout=120_000)
            pages.append(page)
        time.sleep(args.settle)
        frames = [page.evaluate("window.__frames") for page in pages]
        report["idle_pages_cpu_pct"] = sample(url, args.seconds)
        report["frames_per_s_per_page"] = [round((page.evaluate("window.__frames") - f) / args.seconds, 1)
                                           for page, f in zip(pages, frames)]
        browser.close()
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    emit(report, args.json)


if __name__ == "__main__":
    main()
