"""The run's event log: JSON lines, appended and flushed one whole line at a time.

Each line is {"event": kind, "step": int, "time": unix seconds, ...}. Kinds: "start", "step"
(losses, it_per_s, eta_s), "sample" (path), "checkpoint" (path, state), "stopped", "end",
"error". The admin tab polls this file; a reader skips a torn last line.
"""
from __future__ import annotations

import json
import os
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
