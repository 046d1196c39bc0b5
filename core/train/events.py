"""The run's event log: JSON lines, appended and flushed one whole line at a time.

Each line is {"event": kind, "step": int, "time": unix seconds, ...}. Kinds: "start", "step"
(losses, it_per_s, eta_s), "sample" (path), "checkpoint" (path, state), "stopped", "end",
"error". The admin tab polls this file; a reader skips a torn last line. On resume the log is cut
back to the resumed state's step (truncate_after), so a step is never logged twice.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: str, step: int, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "step": int(step), "time": round(time.time(), 3), **fields}
        line = json.dumps(record, default=str) + "\n"
        # O_APPEND + a single write keeps lines whole even with several writers.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return record


def live_figures(event: dict[str, Any]) -> dict[str, float]:
    """The figures of an "eval" event (the task's live metrics), by name."""
    return {k: v for k, v in event.items()
            if k not in ("event", "step", "time", "n") and isinstance(v, (int, float)) and not isinstance(v, bool)}


def read_events(path: Path) -> list[dict[str, Any]]:
    """All complete records of an event log ([] if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line from a killed writer
    return out


def truncate_after(path: Path, step: int) -> int:
    """Cut the log back to what a resume from `step` has not undone; return the records dropped.

    A job killed after its last save logged steps, samples and evals that resuming will do
    again, so they would show twice. Kept: every "start" record and every record with
    step <= `step`; dropped: the rest and any unparsable (torn) line, which would otherwise glue
    itself to the next appended record. Written via a temp file + os.replace, so the admin tab
    (and a kill during the cut) sees either the old log or the new one, never a half-written one.
    """
    path = Path(path)
    if not path.exists():
        return 0
    text = path.read_bytes().decode(errors="replace")
    lines = text.splitlines()
    kept = [line for line in lines if _keep(line, step)]
    if len(kept) == len(lines) and (not text or text.endswith("\n")):
        return 0  # nothing to cut and every line whole: leave the file alone
    _atomic_write_lines(path, kept)
    return len(lines) - len(kept)


def _keep(line: str, step: int) -> bool:
    try:
        record = json.loads(line)
        return record["event"] == "start" or int(record["step"]) <= step
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return False  # a torn line from a killed writer (or junk): never a valid record


def _atomic_write_lines(path: Path, lines: list[str]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; keep the log's usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
