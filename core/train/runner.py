"""Training jobs in their own processes: start, status, stop, resume, promote, list.

A job's folder (runs/admin/<run id>/) holds run.json (what was asked: model, config, data,
processes), pid, worker.log, STOP (a request to stop, polled once per step) and what `train`
writes (events.jsonl, samples/, state.pt, checkpoint/). Status is read from those files and the
process table, so it survives an app restart or a page reload, and several app processes agree.
Every write is atomic, so a killed job (even kill -9) leaves only complete files.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checkpoint import atomic_write_text, is_checkpoint
from ..registry import REGISTRY, ROOT, SHARED_DATA, get_spec
from .config import BOUNDS, _coerce, config_for, config_from_dict
from .events import live_figures, read_events
from .loop import EXPORT_DIR, STOP_FILE
from .promote import promote
from .tasks import TASKS

RUNS = Path(os.environ.get("LAB_RUNS_DIR", ROOT / "runs" / "admin"))
TERMINAL = {"end": "finished", "stopped": "stopped", "error": "failed"}
# What start() names runs ("%Y%m%d-%H%M%S-<model>") with room to spare; ".." is refused separately.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class RunnerError(RuntimeError):
    """A refused request; the message is meant for the person who asked."""


PATH_KNOBS = {"data_root", "init_from"}  # TrainConfig fields that name files: the CLI's only


@dataclass(frozen=True)
class Runner:
    """The runner API over one runs folder; `allowed_data` are the roots datasets may come from."""

    runs: Path = RUNS
    allowed_data: tuple[Path, ...] = ()

    # ---- requests --------------------------------------------------------------------------
    def start(self, model: str, params: dict[str, Any] | None = None, data: str | None = None,
              nproc: int = 1) -> str:
        """Start a job training `model` with `params` (loop or task fields, routed by config_for) on `data` (a folder
        under an allowed root; default: the registry's). Returns the run id. One job at a time."""
        spec = _spec(model)
        nproc = _whole_number(nproc, "processes", 1, 16)
        if nproc > 1 and not TASKS[spec.task].supports_distributed:
            raise RunnerError(f"{model} trains in one process only (its {spec.task} task has no multi-process step)")
        params = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        paths = sorted(set(params) & PATH_KNOBS)
        if paths:  # a path would bypass check_data's roots (and state.pt files are unpickled)
            raise RunnerError(f"{', '.join(paths)} cannot be set here: choose the dataset folder instead")
        data_path = self.check_data(data) if data else None
        if data_path:
            params["data_root"] = str(data_path)
        try:
            config = config_for(spec, **params)
        except (ValueError, TypeError, OverflowError) as e:
            raise RunnerError(f"invalid hyper-parameters: {e}") from None
        with self._lock():
            self._refuse_if_busy()
            run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{model}"
            run_dir = self.runs / run_id
            run_dir.mkdir(parents=True)
            atomic_write_text(run_dir / "run.json", json.dumps(
                {"id": run_id, "model": model, "config": config.to_dict(), "nproc": int(nproc),
                 "created": time.time()}, indent=2))
            self._spawn(run_dir, resume=False)
        return run_id

    def stop(self, run_id: str) -> None:
        """Ask the job to stop: it finishes its step, saves everything and exits."""
        run_dir = self._run_dir(run_id)
        if not self._alive(run_dir):
            raise RunnerError(f"run {run_id} is not running")
        atomic_write_text(run_dir / STOP_FILE, str(time.time()))

    def resume(self, run_id: str, steps: int | None = None) -> None:
        """Continue a stopped, killed or finished run from its last checkpoint (optionally with a
        new total number of steps)."""
        run_dir = self._run_dir(run_id)
        if steps is not None:  # None keeps the run's total; anything else must be a real step count
            steps = _whole_number(steps, "steps", *BOUNDS["steps"])
        if not (run_dir / "state.pt").exists():
            raise RunnerError(f"run {run_id} has no checkpoint to resume from yet")
        with self._lock():
            self._refuse_if_busy()
            if steps is not None:
                info = json.loads((run_dir / "run.json").read_text())
                try:
                    info["config"] = config_from_dict(_spec(info["model"]), {**info["config"], "steps": steps}).to_dict()
                except ValueError as e:
                    raise RunnerError(str(e)) from None
                atomic_write_text(run_dir / "run.json", json.dumps(info, indent=2))
            self._spawn(run_dir, resume=True)

    def promote(self, run_id: str) -> Path:
        """Make the run's last checkpoint the one its demo tab serves (atomic folder swap; the
        running app notices on its next request)."""
        run_dir = self._run_dir(run_id)
        src = run_dir / EXPORT_DIR
        if not is_checkpoint(src):
            raise RunnerError(f"run {run_id} has no checkpoint yet")
        if self._alive(run_dir):
            raise RunnerError("stop the run first (promote takes a finished or stopped run)")
        info = json.loads((run_dir / "run.json").read_text())
        return promote(_spec(info["model"]), run_dir)

    # ---- reading ---------------------------------------------------------------------------
    def runs_list(self) -> list[dict[str, Any]]:
        """Every run, newest first, with its state and last figures."""
        if not self.runs.exists():
            return []
        dirs = sorted((p for p in self.runs.iterdir() if (p / "run.json").exists()), reverse=True)
        return [self.summary(p.name) for p in dirs]

    def active(self) -> str | None:
        for p in sorted(self.runs.glob("*/run.json"), reverse=True) if self.runs.exists() else []:
            if self._alive(p.parent):
                return p.parent.name
        return None

    def summary(self, run_id: str) -> dict[str, Any]:
        run_dir = self._run_dir(run_id)
        info = json.loads((run_dir / "run.json").read_text())
        events = read_events(run_dir / "events.jsonl")
        steps = [e for e in events if e["event"] == "step"]
        evals = [e for e in events if e["event"] == "eval"]
        last = steps[-1] if steps else {}
        return {"id": run_id, "model": info["model"], "state": self.state(run_id, events),
                "step": last.get("step", 0), "steps": info["config"]["steps"],
                "losses": last.get("losses", {}), "it_per_s": last.get("it_per_s"), "eta_s": last.get("eta_s"),
                "metrics": live_figures(evals[-1]) if evals else {},
                "data": info["config"].get("data_root") or str(_spec(info["model"]).data.train),
                "created": info.get("created"), "has_checkpoint": is_checkpoint(run_dir / EXPORT_DIR)}

    def state(self, run_id: str, events: list[dict] | None = None) -> str:
        """starting | running | stopping | finished | stopped | failed | killed."""
        run_dir = self._run_dir(run_id)
        events = read_events(run_dir / "events.jsonl") if events is None else events
        alive = self._alive(run_dir)
        if alive:
            if (run_dir / STOP_FILE).exists():
                return "stopping"
            return "running" if events and events[-1]["event"] != "stopped" else "starting"
        for e in reversed(events):
            if e["event"] in TERMINAL:
                return TERMINAL[e["event"]]
            if e["event"] == "start":
                break
        return "killed" if events else "failed"

    def events(self, run_id: str) -> list[dict[str, Any]]:
        return read_events(self._run_dir(run_id) / "events.jsonl")

    def log_tail(self, run_id: str, lines: int = 40) -> str:
        path = self._run_dir(run_id) / "worker.log"
        if not path.exists():
            return ""
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 20_000))
            text = f.read().decode(errors="replace")
        # tqdm redraws with carriage returns; keep the last state of each line.
        return "\n".join(line.split("\r")[-1] for line in text.splitlines()[-lines:])

    # ---- data roots ------------------------------------------------------------------------
    def data_choices(self) -> list[str]:
        """Folders under the allowed roots (two levels deep) that check_data accepts, each under
        the path it was found at (a symlink inside a root is offered only if it resolves inside)."""
        out = []
        for root in self.allowed_data:
            if not root.is_dir():
                continue
            for p in sorted([root, *root.glob("*"), *root.glob("*/*")]):
                if not p.name.startswith(".") and self._data_refusal(str(p))[1] is None:
                    out.append(str(p))
        return out

    def check_data(self, data: str) -> Path:
        """The resolved folder if it lies under an allowed root and holds images, else refuse."""
        path, refusal = self._data_refusal(data)
        if refusal:
            raise RunnerError(refusal)
        return path

    def _data_refusal(self, data: str) -> tuple[Path | None, str | None]:
        """(resolved folder, None) if `data` may be trained on, else (None, why not): the one rule
        behind both the list and the request, so the list never offers what a start refuses.
        Symlinks are resolved first, so a link out of the allowed roots is refused."""
        try:
            path = Path(data).expanduser().resolve()
            inside = any(path.is_relative_to(root.resolve()) for root in self.allowed_data)
            holds_images = inside and path.is_dir() and _has_images(path)
        except (OSError, RuntimeError, ValueError, TypeError):  # NUL byte, name too long, link loop
            return None, "that dataset folder cannot be read"
        if not inside:
            return None, "that dataset folder is outside the allowed data roots"
        if not holds_images:
            return None, f"no images found in {path}"
        return path, None

    # ---- internals -------------------------------------------------------------------------
    def _run_dir(self, run_id: str) -> Path:
        # Checked before any file-system call: the id comes from a request, and an overlong,
        # NUL-holding or ".." id would reach open() (OSError) or leave the runs folder.
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id) or ".." in run_id:
            raise RunnerError("no such run")
        run_dir = self.runs / run_id
        if not (run_dir / "run.json").exists():
            raise RunnerError(f"no such run: {run_id}")
        return run_dir

    @contextmanager
    def _lock(self):
        self.runs.mkdir(parents=True, exist_ok=True)
        with open(self.runs / ".lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _refuse_if_busy(self) -> None:
        busy = self.active()
        if busy:
            raise RunnerError(f"a training job is already running ({busy}); stop it first or wait for it to finish")

    def _spawn(self, run_dir: Path, resume: bool) -> None:
        (run_dir / STOP_FILE).unlink(missing_ok=True)
        info = json.loads((run_dir / "run.json").read_text())
        args = ["-m", "core.train.worker", str(run_dir)] + (["--resume"] if resume else [])
        if info.get("nproc", 1) > 1:
            args = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(info["nproc"]), *args]
        log = open(run_dir / "worker.log", "ab")
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        _CHILDREN[proc.pid] = proc
        # Reap the job the moment it exits: otherwise it stays a zombie until some request
        # happens to poll it (and a long-lived app collects them).
        threading.Thread(target=_reap, args=(proc,), daemon=True, name=f"reap-{proc.pid}").start()
        atomic_write_text(run_dir / "pid", str(proc.pid))

    def _alive(self, run_dir: Path) -> bool:
        try:
            pid = int((run_dir / "pid").read_text())
        except (OSError, ValueError):
            return False
        child = _CHILDREN.get(pid)
        if child is not None and child.poll() is not None:  # reap our own finished children
            _CHILDREN.pop(pid, None)
            return False
        return _pid_runs(pid, run_dir)


_CHILDREN: dict[int, subprocess.Popen] = {}


def _reap(proc: subprocess.Popen) -> None:
    """Wait for a job process (a daemon thread per job) and forget it once it has exited."""
    proc.wait()
    _CHILDREN.pop(proc.pid, None)


def _whole_number(value: Any, what: str, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]: an int or a whole float (UI number boxes send 3.0), checked
    as config fields are (`_coerce`), except that text is refused: a request sends numbers."""
    try:
        number = None if isinstance(value, str) else _coerce(what, "int", value)
    except ValueError:
        number = None
    if number is None or not lo <= number <= hi:
        raise RunnerError(f"{what} must be a whole number between {lo:,} and {hi:,}")
    return number


def _pid_runs(pid: int, run_dir: Path) -> bool:
    """True if `pid` is a live (not zombie) process working on `run_dir` (guards pid reuse)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        return str(run_dir) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def _spec(model: str):
    if model not in REGISTRY:
        raise RunnerError(f"unknown model {model!r}")
    return get_spec(model)


def _has_images(folder: Path) -> bool:
    from ..data.images import IMAGE_EXTS

    try:
        return any(p.suffix.lower() in IMAGE_EXTS for _, p in zip(range(2000), folder.iterdir()))
    except OSError:
        return False


def default_runner() -> Runner:
    """The app's runner: data may come from ../shared/data and the folders in LAB_DATA_ROOTS."""
    roots = [SHARED_DATA] + [Path(p) for p in os.environ.get("LAB_DATA_ROOTS", "").split(os.pathsep) if p]
    return Runner(RUNS, tuple(roots))
