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
from bench.common import _cpu_name, emit  # noqa: E402
from tests.apprunner import running_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
COUNT_FRAMES = """
window.__frames = 0;
const request = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (callback) => { window.__frames += 1; return request(callback); };
"""
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def processes(app_port: int) -> dict[str, list[int]]:
    """The app's process and Chromium's, by kind (renderer, gpu, browser, other)."""
    kinds: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "chromium" in cmd:
            kind = next((k for k in ("renderer", "gpu") if f"--type={k}" in cmd), "other" if "--type=" in cmd else "browser")
        elif "app.py" in cmd and f"--port {app_port}" in cmd:
            kind = "app"
        else:
            continue
        kinds.setdefault(kind, []).append(int(entry.name))
    return kinds


def sample(app_port: int, seconds: float) -> dict[str, float]:
    """% of one core used by each kind of process over `seconds`."""
    kinds = processes(app_port)
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
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        time.sleep(args.settle)
        report["no_page_cpu_pct"] = sample(port, args.seconds)
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
        report["idle_pages_cpu_pct"] = sample(port, args.seconds)
        report["frames_per_s_per_page"] = [round((page.evaluate("window.__frames") - f) / args.seconds, 1)
                                           for page, f in zip(pages, frames)]
        browser.close()
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    emit(report, args.json)


if __name__ == "__main__":
    main()
