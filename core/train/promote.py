"""Promote: make a run's checkpoint the one a demo tab serves. One function for the CLI
(`--promote`) and the admin runner."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..checkpoint import is_checkpoint, read_config, recover_swap, swap_folder
from . import timelapse
from .events import live_figures, read_events
from .loop import EXPORT_DIR


def promote(spec, run_dir: Path) -> Path:
    """Copy `run_dir`/checkpoint over `spec.checkpoint_dir` in one atomic folder swap, with a new
    model card (the previous card's figures describe other weights) and the run's thinned time-lapse
    (`timelapse/`, core/train/timelapse/), when the run saved frames. A running app picks the new
    weights up on its next request. Returns the checkpoint folder."""
    if spec.comparison_only:
        raise ValueError(f"{spec.name} is trained for a comparison only and is never served")
    run_dir = Path(run_dir)
    src = run_dir / EXPORT_DIR
    if not is_checkpoint(src):
        raise FileNotFoundError(f"{src} holds no checkpoint")
    target = spec.checkpoint_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_swap(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.promote"))
    try:
        for name in ("config.json", "model.safetensors"):
            shutil.copy2(src / name, tmp / name)
        (tmp / "MODEL_CARD.md").write_text(promoted_card(spec, run_dir, read_config(src)["meta"]))
        # The run's thinned time-lapse goes in the same swap (none for a run without frames: the
        # previous weights' time-lapse describes another run, so it goes with them).
        timelapse.write_into(run_dir, tmp / timelapse.DIR, model=spec.name)
        os.chmod(tmp, 0o755)
        swap_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def promoted_card(spec, run_dir: Path, meta: dict) -> str:
    """A model card for weights promoted from a run: where they came from and its last figures."""
    events = read_events(run_dir / "events.jsonl")
    steps = [e for e in events if e["event"] == "step"]
    evals = [e for e in events if e["event"] == "eval"]
    starts = [e for e in events if e["event"] == "start"]
    losses = ", ".join(f"{k} {v:.3f}" for k, v in (steps[-1]["losses"] if steps else {}).items())
    figures = ", ".join(f"{k} {v:.3f}" for k, v in (live_figures(evals[-1]) if evals else {}).items())
    data = starts[-1].get("dataset") if starts else None
    return (f"# {spec.title}: promoted from run `{run_dir.name}`\n\n"
            f"- Steps: {meta.get('step')}, training wall-clock {meta.get('wall_clock_s')} s on {meta.get('device')}\n"
            f"- Data: `{data or 'the registry folders'}`\n- Last losses: {losses or 'n/a'}\n"
            f"- Live metrics on the run's small fixed set: {figures or 'not measured'}\n"
            f"- Training config: `{json.dumps(meta.get('train_config', {}))}`\n\n"
            f"The figures of the previously shipped model do not apply to these weights. Measure them with\n"
            f"`python -m core.eval {spec.name} --data DIR` before relying on them. Data licences as in the\n"
            f"project README; teaching and research use only.\n")
