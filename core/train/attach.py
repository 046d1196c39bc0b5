"""Attach nets trained later (e.g. a discriminator trained alone against the shipped generator,
`--set d_warmup=N`) to a shipped checkpoint, without touching the nets it already serves.

    python -m core.train.attach NAME RUN_DIR --nets D [D_B ...]

The run's checkpoint must hold the shipped nets unchanged (bit for bit, fp16 as stored): then only
the named nets are new, and the shipped figures still describe what the app serves. The shipped
meta is kept; meta["attached"] records where each attached net came from. The model card is kept
(say what was attached in it).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..checkpoint import load_checkpoint, read_config, save_checkpoint
from ..registry import get_spec
from .events import read_events
from .loop import EXPORT_DIR


def attach(spec, run_dir: Path, names: list[str]) -> Path:
    """Copy nets `names` of run_dir/checkpoint into spec.checkpoint_dir (atomically). Raises
    ValueError if a name is not one of the spec's nets or not in the run, or if any net both hold
    (other than `names`) differs: the run must have left the shipped nets alone."""
    run_dir, target = Path(run_dir), spec.checkpoint_dir
    unknown = [n for n in names if n not in spec.nets]
    if unknown:
        raise ValueError(f"{spec.name} has no net {', '.join(unknown)}; its nets: {', '.join(spec.nets)}")
    shipped, meta = load_checkpoint(target, dtype=torch.float16)
    run_nets, run_meta = load_checkpoint(run_dir / EXPORT_DIR, dtype=torch.float16)
    missing = [n for n in names if n not in run_nets]
    if missing:
        raise ValueError(f"{run_dir / EXPORT_DIR} holds no {', '.join(missing)}")
    for name in set(shipped) & set(run_nets) - set(names):
        a, b = shipped[name].state_dict(), run_nets[name].state_dict()
        if a.keys() != b.keys() or any(not torch.equal(a[k], b[k]) for k in a):
            raise ValueError(f"the run changed {name}: attach only to the weights it was trained against")
    events = read_events(run_dir / "events.jsonl")
    end = next((e for e in reversed(events) if e["event"] in ("end", "stopped")), {})
    wall = end.get("wall_clock_s") or (round(events[-1]["time"] - events[0]["time"], 1) if events else None)
    record = {"run": run_dir.name, "step": run_meta.get("step"), "wall_clock_s": wall,
              "train_config": run_meta.get("train_config")}
    nets = {**shipped, **{n: run_nets[n] for n in names}}
    meta = {**meta, "attached": {**meta.get("attached", {}), **{n: record for n in names}}}
    return save_checkpoint(target, nets, meta)  # keeps MODEL_CARD.md


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--nets", nargs="+", required=True)
    args = ap.parse_args(argv)
    folder = attach(get_spec(args.name), args.run_dir, args.nets)
    print(folder, "now holds", ", ".join(read_config(folder)["nets"]))


if __name__ == "__main__":
    main()
