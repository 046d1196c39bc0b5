"""A first visit over a home connection: time to the sketch canvas and bytes sent (not a test:
figures go to docs).

    python bench/page_load.py [--down-mbit 10] [--rtt-ms 40] [--runs 3] [--json docs/results/page_load.json]

Starts app.py (tests.apprunner.running_app, LAB_WARMUP=0), then opens the app --runs times in fresh
Chromium contexts (an empty cache each) with the network throttled through the DevTools protocol
(Network.emulateNetworkConditions: --down-mbit, --up-mbit, --rtt-ms), alternating two ways of asking:
- "gzip": what a browser sends (Accept-Encoding: gzip, deflate, br): the app's page comes gzipped
  (demos.server.AppPage);
- "no_gzip": Accept-Encoding: br only, so the page comes as it did before AppPage compressed it
  (Gradio's scripts are brotli either way).
Recorded per way: seconds from navigation to the canvas in the page (median of the runs), and the
bytes on the wire (the encoded body sizes of every response, from the Resource Timing entries).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import _cpu_name, emit  # noqa: E402
from tests.apprunner import CHROMIUM, running_app  # noqa: E402
from tests.apprunner import CHROMIUM_ARGS as ARGS  # noqa: E402

CANVAS = "#sketch-canvas canvas.sk-paper"
WAYS = {"gzip": "gzip, deflate, br", "no_gzip": "br"}
WIRE_BYTES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const rest = performance.getEntriesByType('resource');
  return [nav, ...rest].reduce((n, e) => n + (e.encodedBodySize || 0), 0);
}"""


def visit(browser, url: str, accept: str, down_mbit: float, up_mbit: float, rtt_ms: float) -> dict:
    """One first visit in a fresh context: seconds to the canvas, bytes on the wire, the page's own."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100},
                                  extra_http_headers={"Accept-Encoding": accept})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": rtt_ms, "downloadThroughput": down_mbit * 1e6 / 8,
            "uploadThroughput": up_mbit * 1e6 / 8})
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(CANVAS, timeout=300_000)
        seconds = time.perf_counter() - t0
        page.wait_for_timeout(1000)
        nav = page.evaluate("performance.getEntriesByType('navigation')[0].encodedBodySize")
        return {"to_canvas_s": round(seconds, 2), "wire_bytes": page.evaluate(WIRE_BYTES), "page_bytes": nav}
    finally:
        context.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--down-mbit", type=float, default=10.0)
    ap.add_argument("--up-mbit", type=float, default=2.0)
    ap.add_argument("--rtt-ms", type=float, default=40.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpu": _cpu_name(),
              "cores": os.cpu_count(), "network": {"down_mbit": args.down_mbit, "up_mbit": args.up_mbit,
                                                   "rtt_ms": args.rtt_ms}, "runs": args.runs}
    runs: dict[str, list[dict]] = {way: [] for way in WAYS}
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        visit(browser, url, WAYS["gzip"], 1000, 1000, 0)  # the server's first page build, not counted
        for _ in range(args.runs):
            for way, accept in WAYS.items():
                runs[way].append(visit(browser, url, accept, args.down_mbit, args.up_mbit, args.rtt_ms))
        browser.close()
    for way, got in runs.items():
        report[way] = {"to_canvas_s_median": statistics.median(r["to_canvas_s"] for r in got),
                       "wire_mb": round(statistics.median(r["wire_bytes"] for r in got) / 1e6, 3),
                       "page_mb": round(statistics.median(r["page_bytes"] for r in got) / 1e6, 3), "runs": got}
    emit(report, args.json)


if __name__ == "__main__":
    main()
