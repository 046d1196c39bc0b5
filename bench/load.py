"""Load on the real app: concurrent gradio_client users over three tabs (not a test: figures go to docs).

    python bench/load.py [--users 20] [--requests 10] [--timeout 900] [--json docs/results/load.json]

Starts app.py in a subprocess on a free port (tests.apprunner.running_app, LAB_WARMUP=0), makes one
warm-up request per endpoint (the models load once), then runs `--users` threads at once, each with
its own gradio_client.Client (its own session), each making `--requests` requests in turn, mixed over
/sketch (a drawing as a file), /horse2zebra (a file upload) and /walk (latent walk, slerp, 8 steps).
Latency is client-side wall time per request: upload, queue, compute and download of the outputs.
Any exception or a status without the OK mark (demos.common.ok) counts as an error (message recorded);
exits 1 then.
By default the users send the tabs' example drawings and photos, as a class clicking the same example
does, so concurrent requests can get byte-identical outputs; gradio writes those to one content-hash
path in its cache, rewriting it while another download may be reading it. `--distinct-inputs` changes
each input a little per request, so no two outputs are equal.
The app process's VmRSS is read before the warm-up, after it and after the load, with its VmHWM
(peak). The machine is shared: the load average at start and end is recorded.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gradio_client import Client, handle_file  # noqa: E402

from bench.common import _cpu_name, emit  # noqa: E402
from demos.common import OK_MARK  # noqa: E402
from tests.apprunner import running_app  # noqa: E402

ENDPOINTS = ("/sketch", "/horse2zebra", "/walk")
H2Z_DIRECTION = "horse → zebra"


# --- the app process -------------------------------------------------------------------------------

def app_pid(port: int) -> int | None:
    """The process running `app.py --port PORT` (running_app does not expose its Popen)."""
    want = ["app.py", "--port", str(port)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(argv[i:i + 3] == want for i in range(len(argv))):
            return int(entry.name)
    return None


def memory(pid: int | None) -> dict[str, float | None]:
    """VmRSS and VmHWM (peak RSS) of pid in MiB."""
    out: dict[str, float | None] = {"rss_mib": None, "peak_rss_mib": None}
    if pid is None:
        return out
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss_mib" if key == "VmRSS" else "peak_rss_mib"] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def threads_of(pid: int | None) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except (OSError, TypeError):
        pass
    return None


# --- the machine -----------------------------------------------------------------------------------

def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def machine_info() -> dict:
    flags = cpu_flags()
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "avx512_bf16": "avx512_bf16" in flags,
            "amx_bf16": "amx_bf16" in flags, "LAB_PRECISION": os.environ.get("LAB_PRECISION") or None}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --- the requests ----------------------------------------------------------------------------------

class Inputs:
    """Input files written once; requests rotate through them (and through walk seeds)."""

    def __init__(self, folder: Path, distinct: bool = False):
        from core.pipelines import horse2zebra, sketch2photo

        self.sketches = []
        for name, im in sketch2photo.examples(512).items():
            self.sketches.append(folder / f"sketch_{name}.png")
            im.save(self.sketches[-1])
        self.photos = []
        for i, (name, im) in enumerate(horse2zebra.examples().items()):
            self.photos.append(folder / f"h2z_{i}_{name.replace(' ', '_')}.png")
            im.save(self.photos[-1])
        self.folder, self.distinct = folder, distinct

    def _variant(self, path: Path, endpoint: str, k: int) -> Path:
        """With --distinct-inputs: the input changed a little for request k (so no two outputs are equal)."""
        from PIL import Image, ImageDraw

        im = Image.open(path).convert("RGB")
        draw = ImageDraw.Draw(im)
        w, h = im.size
        if endpoint == "/sketch":  # a short extra stroke inside the drawing, placed by k
            x, y = w // 3 + k % 50 * 2, h // 2 + (k // 50) % 8 * 6
            draw.line([(x, y), (x + 12, y)], fill=(0, 0, 0), width=3)
        else:  # a small block of a colour set by k
            draw.rectangle([4, 4, 9, 9], fill=(k % 256, (k * 7) % 256, (k * 13) % 256))
        out = self.folder / f"v_{endpoint.strip('/')}_{k}.png"
        im.save(out)
        return out

    def args(self, endpoint: str, k: int) -> tuple:
        if endpoint == "/sketch":
            path = self.sketches[k % len(self.sketches)]
            path = str(self._variant(path, endpoint, k) if self.distinct else path)
            return handle_file(path), True
        if endpoint == "/horse2zebra":
            path = self.photos[k % len(self.photos)]
            return handle_file(str(self._variant(path, endpoint, k) if self.distinct else path)), H2Z_DIRECTION
        return 1000 + 2 * k, 1001 + 2 * k, "slerp", 8, 0.5  # seed_a, seed_b, mode, steps, t


def call(client: Client, endpoint: str, args: tuple, timeout: float) -> tuple[float, str | None]:
    """(wall seconds, error message or None) of one request."""
    t0 = time.perf_counter()
    try:
        result = client.submit(*args, api_name=endpoint).result(timeout=timeout)
        status = result[-1] if isinstance(result, (list, tuple)) and result else None
        error = None if isinstance(status, str) and status.startswith(OK_MARK) else f"status: {str(status)[:300]!r}"
        if error is None and result[0] is None:
            error = "no output image"
    except Exception as e:  # noqa: BLE001 - any failure is an error of the run, with its message
        error = f"{type(e).__name__}: {str(e)[:300]}"
    return time.perf_counter() - t0, error


def percentile(xs: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


def summary(records: list[dict], wall: float) -> dict:
    lat = [r["s"] for r in records if r["error"] is None]
    errors = [r for r in records if r["error"] is not None]
    out = {"count": len(records), "errors": len(errors), "error_messages": sorted({r["error"] for r in errors})[:10],
           "throughput_per_s": round(len(records) / wall, 3) if wall else None}
    if lat:
        out.update(p50_s=round(statistics.median(lat), 3), p95_s=round(percentile(lat, 95), 3),
                   max_s=round(max(lat), 3), mean_s=round(statistics.fmean(lat), 3), min_s=round(min(lat), 3))
    return out


# --- the run ---------------------------------------------------------------------------------------

def run(args) -> dict:
    report: dict = {"what": "concurrent gradio_client users on the real app (bench/load.py)",
                    "command": "python bench/load.py " + " ".join(sys.argv[1:]),
                    "users": args.users, "requests_per_user": args.requests, "endpoints": list(ENDPOINTS),
                    "mix": "user u's request i goes to endpoints[(u + i) % 3]",
                    "distinct_inputs": args.distinct_inputs,
                    "inputs": {"/sketch": "sketch2photo.examples(512) drawings (rotating), fit=True",
                               "/horse2zebra": f"horse2zebra.examples() as PNG uploads (rotating), {H2Z_DIRECTION!r}",
                               "/walk": "seed_a=1000+2k, seed_b=seed_a+1, slerp, steps 8, t 0.5"},
                    "latency": "client wall time per request: upload + queue + compute + download of outputs",
                    "app_queue": "default_concurrency_limit=2, heavy events share concurrency_id 'model' (limit 2)",
                    "machine": machine_info(), "started": now(), "loadavg_start": loadavg()}
    work = Path(tempfile.mkdtemp(prefix="bench_load_"))
    try:
        inputs = Inputs(work, args.distinct_inputs)
        downloads = work / "downloads"
        t_start = time.perf_counter()
        with running_app(timeout=args.start_timeout, log=args.log) as url:
            report["app_start_s"] = round(time.perf_counter() - t_start, 2)
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            pid = app_pid(port)
            report["app_pid_found"] = pid is not None
            mem = {"before_warmup": memory(pid)}

            # Warm-up: one request per endpoint, one after the other (the models load on first use).
            warm_client = Client(url, verbose=False, download_files=str(downloads))
            report["warmup"] = {}
            for i, ep in enumerate(ENDPOINTS):
                s, err = call(warm_client, ep, inputs.args(ep, 10_000 + i), args.timeout)
                report["warmup"][ep] = {"s": round(s, 3), "error": err}
            mem["after_warmup"] = memory(pid)
            report["loadavg_after_warmup"] = loadavg()

            # Each user's Client is made before the clock starts (it fetches the app's config).
            t0 = time.perf_counter()
            clients = [Client(url, verbose=False, download_files=str(downloads / f"u{u}")) for u in range(args.users)]
            report["client_setup_s"] = round(time.perf_counter() - t0, 2)
            records: list[dict] = []
            lock = threading.Lock()
            barrier = threading.Barrier(args.users + 1)

            def user(u: int) -> None:
                barrier.wait()
                for i in range(args.requests):
                    ep = ENDPOINTS[(u + i) % len(ENDPOINTS)]
                    k = u * args.requests + i
                    s, err = call(clients[u], ep, inputs.args(ep, k), args.timeout)
                    with lock:
                        records.append({"user": u, "i": i, "endpoint": ep, "s": s, "error": err,
                                        "done_at": time.perf_counter()})

            threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(args.users)]
            for th in threads:
                th.start()
            report["load_started"] = now()
            barrier.wait()
            t_load = time.perf_counter()
            peak_threads = 0
            while any(th.is_alive() for th in threads):
                peak_threads = max(peak_threads, threads_of(pid) or 0)
                time.sleep(0.5)
            wall = time.perf_counter() - t_load
            report["load_finished"] = now()
            mem["after_load"] = memory(pid)
            report["app_threads_peak_during_load"] = peak_threads or None
            for c in clients + [warm_client]:
                try:
                    c.close()
                except Exception:  # noqa: BLE001 - a client that cannot close changes no figure
                    pass

        report["load_wall_s"] = round(wall, 2)
        report["overall"] = summary(records, wall)
        report["per_endpoint"] = {ep: summary([r for r in records if r["endpoint"] == ep], wall) for ep in ENDPOINTS}
        # Latency of the first vs the last quarter of requests to finish (queue building up / draining).
        done = sorted(records, key=lambda r: r["done_at"])
        q = max(1, len(done) // 4)
        report["p50_first_quarter_done_s"] = round(statistics.median(r["s"] for r in done[:q]), 3)
        report["p50_last_quarter_done_s"] = round(statistics.median(r["s"] for r in done[-q:]), 3)
        report["app_memory_mib"] = {
            "rss_before_warmup": mem["before_warmup"]["rss_mib"], "rss_after_warmup": mem["after_warmup"]["rss_mib"],
            "rss_after_load": mem["after_load"]["rss_mib"], "peak_rss_vmhwm": mem["after_load"]["peak_rss_mib"],
            "peak_rss_after_warmup": mem["after_warmup"]["peak_rss_mib"]}
        report["finished"] = now()
        report["loadavg_end"] = loadavg()
        try:  # what the app chose (the same probe as core.device); torch is imported only now
            from core.device import cpu_has_native_bf16

            report["machine"]["app_serves_bf16"] = cpu_has_native_bf16()
        except Exception:  # noqa: BLE001
            report["machine"]["app_serves_bf16"] = None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def table(report: dict) -> str:
    rows = [f"{'endpoint':<14}{'n':>5}{'err':>5}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'req/s':>8}"]
    for name, s in [*report["per_endpoint"].items(), ("overall", report["overall"])]:
        rows.append(f"{name:<14}{s['count']:>5}{s['errors']:>5}{s.get('p50_s', float('nan')):>9.2f}"
                    f"{s.get('p95_s', float('nan')):>9.2f}{s.get('max_s', float('nan')):>9.2f}"
                    f"{s['throughput_per_s']:>8.2f}")
    m = report["app_memory_mib"]
    rows.append(f"app RSS MiB: before warm-up {m['rss_before_warmup']}, after warm-up {m['rss_after_warmup']}, "
                f"after load {m['rss_after_load']}, peak (VmHWM) {m['peak_rss_vmhwm']}")
    rows.append("warm-up s: " + ", ".join(f"{ep} {w['s']:.1f}" for ep, w in report["warmup"].items()))
    rows.append(f"load wall {report['load_wall_s']} s; loadavg start {report['loadavg_start']}, "
                f"end {report['loadavg_end']}; {report['machine']['cpu']}, {report['machine']['cores']} cores, "
                f"avx512_bf16={report['machine']['avx512_bf16']}")
    for ep, s in [*report["per_endpoint"].items()]:
        for msg in s["error_messages"]:
            rows.append(f"ERROR {ep}: {msg}")
    for ep, w in report["warmup"].items():
        if w["error"]:
            rows.append(f"WARM-UP ERROR {ep}: {w['error']}")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--requests", type=int, default=10, help="requests per user")
    ap.add_argument("--timeout", type=float, default=900, help="seconds one request may take before it is an error")
    ap.add_argument("--start-timeout", type=float, default=180, help="seconds the app may take to start")
    ap.add_argument("--log", type=Path, help="the app's output (default: runs/test_app_PORT.log if runs/ exists)")
    ap.add_argument("--distinct-inputs", action="store_true",
                    help="change each sketch/photo a little per request, so that no two requests get equal outputs "
                         "(by default users share the tabs' example inputs, as a class clicking the same example does)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    report = run(args)
    failed = report["overall"]["errors"] + sum(1 for w in report["warmup"].values() if w["error"])
    emit(report, args.json)
    print(table(report))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
