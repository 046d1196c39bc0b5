"""How every eval command reports: its figures as indented JSON on stdout and, with --json, in a file."""
from __future__ import annotations

import json
from pathlib import Path


def report(metrics: dict, path: Path | None = None) -> str:
    """Print `metrics` as JSON; also write it to `path` (its folder made) when given. Returns the text."""
    text = json.dumps(metrics, indent=2)
    print(text)
    if path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return text
