"""CLI: python -m core.train NAME [--steps N] [--resume] [--run-dir DIR] [--promote] [--set k=v]."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from ..checkpoint import save_checkpoint, load_checkpoint
from ..registry import REGISTRY, get_spec
from .config import config_for
from .loop import EXPORT_DIR, default_run_dir, train


def with_data_options(spec, items: list[str]):
    """spec with data options replaced by KEY=JSON items (the run's start event records them)."""
    if not items:
        return spec
    options = dict(spec.data.options)
    for item in items:
        key, _, value = item.partition("=")
        if key not in options:
            raise SystemExit(f"unknown data option {key!r} for {spec.name}; known: {', '.join(options)}")
        options[key] = json.loads(value)
    return replace(spec, data=replace(spec.data, options=options))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.train", description="Train a registry model.")
    p.add_argument("name", choices=sorted(REGISTRY))
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--data", help="training folder (default: the registry's)")
    p.add_argument("--run-dir", type=Path, help="default: runs/NAME")
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument("--precision", choices=["bf16", "fp32"])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other TrainConfig field, e.g. --set lambda_L1=50")
    p.add_argument("--data-option", action="append", default=[], metavar="KEY=JSON",
                   help='replace one of the registry\'s data options, e.g. --data-option \'repeat={"Eyeglasses": 2}\'')
    p.add_argument("--promote", action="store_true",
                   help="at the end, copy the run's checkpoint to checkpoints/NAME (keeps the model card)")
    args = p.parse_args(argv)

    spec = with_data_options(get_spec(args.name), args.data_option)
    extra = dict(kv.split("=", 1) for kv in args.set)
    config = config_for(spec, steps=args.steps, batch_size=args.batch_size, data_root=args.data,
                        precision=args.precision, **extra)
    run_dir = args.run_dir or default_run_dir(spec)
    bar = tqdm(total=config.steps, desc=spec.name, unit="step", dynamic_ncols=True)

    def on_event(e: dict) -> None:
        if e["event"] == "start":
            bar.n = e["step"]
            bar.refresh()
        elif e["event"] == "step":
            bar.update(e["step"] - bar.n)
            bar.set_postfix({k.replace("loss_", ""): f"{v:.3f}" for k, v in e["losses"].items()})
        elif e["event"] in ("stopped", "error", "end"):
            tqdm.write(json.dumps(e))

    train(spec, config, on_event=on_event, run_dir=run_dir, resume=args.resume)
    bar.close()
    if args.promote:
        nets, meta = load_checkpoint(Path(run_dir) / EXPORT_DIR)
        save_checkpoint(spec.checkpoint_dir, nets, meta=meta)
        print(f"promoted {run_dir / EXPORT_DIR} -> {spec.checkpoint_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
