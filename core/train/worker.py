"""A runner job's process: python -m core.train.worker RUN_DIR [--resume] (maybe under torchrun)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..registry import get_spec
from .config import config_from_dict
from .events import live_figures
from .loop import STOP_FILE, train


def describe(e: dict) -> str:
    """One human line per event, for worker.log (which the admin tab shows)."""
    when = time.strftime("%H:%M:%S", time.localtime(e["time"]))
    kind, step = e["event"], e["step"]
    if kind == "step":
        losses = " ".join(f"{k.replace('loss_', '')} {v:.3f}" for k, v in e["losses"].items())
        return f"{when} step {step}: {losses} | {e['it_per_s']:.2f} steps/s, {e['eta_s'] / 60:.1f} min left"
    if kind == "start":
        how = "resumed" if e.get("resumed") else "started"
        return f"{when} {how} at step {step} on {e['device']} x{e['world_size']}: {e['n_images']} images in {e['dataset']}"
    if kind == "eval":
        figures = ", ".join(f"{k} {v:.3f}" for k, v in live_figures(e).items())
        return f"{when} step {step}: {figures or 'no figures'} on {e['n']} fixed images"
    if kind in ("sample", "checkpoint"):
        return f"{when} step {step}: {kind} saved"
    return f"{when} {kind} at step {step}" + (f": {e['message']}" if e.get("message") else "")


def _print_event(e: dict) -> None:
    print(describe(e), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("run_dir", type=Path)
    p.add_argument("--resume", action="store_true")
    args = p.parse_args(argv)
    info = json.loads((args.run_dir / "run.json").read_text())
    spec = get_spec(info["model"])
    config = config_from_dict(spec, info["config"])
    stop_file = args.run_dir / STOP_FILE
    train(spec, config, on_event=_print_event, should_stop=stop_file.exists, run_dir=args.run_dir, resume=args.resume)
    return 0


if __name__ == "__main__":
    sys.exit(main())
