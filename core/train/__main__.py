"""CLI: python -m core.train NAME [--steps N] [--resume] [--run-dir DIR] [--promote] [--set k=v].

Stopping: Ctrl-C (SIGINT), SIGTERM or a file named STOP in the run folder ends the run after the
current step, with a checkpoint saved there; `--resume` continues from it. A second Ctrl-C aborts.
Exit code: 0 when the run finished or a STOP file ended it, 128 + signal number after a signal
(130 for Ctrl-C, as shells expect), 1 when training reported an error. Under torchrun, give the
agent time to let rank 0 save: `torchrun --shutdown_timeout 120 ...` (its default, 30 s, then SIGKILL)."""
from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from ..registry import REGISTRY, get_spec
from .config import config_for
from .events import read_events
from .loop import EXPORT_DIR, STATE_FILE, STOP_FILE, default_run_dir, train
from .promote import promote


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


class StopRequest:
    """should_stop for train(): true after the first SIGINT/SIGTERM or while run_dir/STOP exists
    (the admin runner's convention), so an interrupted run loses no steps."""

    def __init__(self, run_dir: Path):
        self.stop_file, self.signal = Path(run_dir) / STOP_FILE, None
        self.stop_file.unlink(missing_ok=True)  # a stale request must not end the new run at step 1

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self.signal is not None:
            if signum == signal.SIGINT:  # a second Ctrl-C: the user means now
                raise KeyboardInterrupt
            return  # a supervisor repeating SIGTERM must not break the save under way
        self.signal = signum
        tqdm.write("stopping after this step and saving a checkpoint (resume with --resume); "
                   "press Ctrl-C again to abort without saving")

    def __call__(self) -> bool:
        return self.signal is not None or self.stop_file.exists()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.train", description="Train a registry model.")
    p.add_argument("name", choices=sorted(REGISTRY))
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--data", help="training folder (default: the registry's)")
    p.add_argument("--photo-left", action="store_true",
                   help="with --data, for paired tasks: pairs are photo|edges (../shared/data's order) instead of "
                        "the official pix2pix edges|photo; the same option as python -m core.eval's")
    p.add_argument("--run-dir", type=Path, help="default: runs/NAME")
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument("--precision", choices=["bf16", "fp32"])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any loop or task hyper-parameter, e.g. --set lambda_L1=50 (an unknown key lists the valid ones)")
    p.add_argument("--data-option", action="append", default=[], metavar="KEY=JSON",
                   help='replace one of the registry\'s data options, e.g. --data-option \'repeat={"Eyeglasses": 2}\'')
    p.add_argument("--promote", action="store_true",
                   help="at the end, make the run's checkpoint the shipped one (checkpoints/NAME, with a new model card)")
    args = p.parse_args(argv)

    spec = with_data_options(get_spec(args.name), args.data_option)
    if args.photo_left and not args.data:
        p.error("--photo-left describes a --data folder (the registry's own folders carry their order)")
    if args.data and "photo_left" in spec.data.options:
        # A folder given by hand is in the official order unless it says otherwise, as for the eval.
        spec = with_data_options(spec, [f"photo_left={json.dumps(args.photo_left)}"])
    bad = [kv for kv in args.set if "=" not in kv]
    if bad:
        p.error(f"--set takes KEY=VALUE, not {bad[0]!r}")
    extra = dict(kv.split("=", 1) for kv in args.set)
    try:
        config = config_for(spec, steps=args.steps, batch_size=args.batch_size, data_root=args.data,
                            precision=args.precision, **extra)
    except ValueError as e:
        p.error(str(e))
    run_dir = args.run_dir or default_run_dir(spec)
    if not args.resume and (Path(run_dir) / STATE_FILE).exists():
        if args.promote and _finished(Path(run_dir)):
            # "--promote" on a finished run only promotes it (it once started the run over instead).
            target = promote(spec, run_dir)
            print(f"promoted the finished run {run_dir} -> {target} (no training)")
            return 0
        p.error(f"{run_dir} already holds a run: add --resume to continue it (with --promote: "
                f"promote it at the end), or give another --run-dir")
    bar = tqdm(total=config.steps, desc=spec.name, unit="step", dynamic_ncols=True)

    outcome = {}

    def on_event(e: dict) -> None:
        outcome["last"] = e["event"]
        if e["event"] == "start":
            bar.n = e["step"]
            bar.refresh()
        elif e["event"] == "step":
            bar.update(e["step"] - bar.n)
            bar.set_postfix({k.replace("loss_", ""): f"{v:.3f}" for k, v in e["losses"].items()})
        elif e["event"] in ("stopped", "error", "end"):
            tqdm.write(json.dumps(e))

    stop = StopRequest(run_dir)
    stop.install()
    train(spec, config, on_event=on_event, should_stop=stop, run_dir=run_dir, resume=args.resume)
    bar.close()
    if outcome.get("last") != "end":  # stopped, failed, or a torchrun rank other than 0 (it emits nothing)
        if args.promote and outcome:
            print(f"not promoted: the run did not finish ({outcome['last']}); resume it with --resume")
        if outcome.get("last") == "error":
            return 1
        return 128 + int(stop.signal) if stop.signal is not None else 0
    if args.promote:
        target = promote(spec, run_dir)
        print(f"promoted {Path(run_dir) / EXPORT_DIR} -> {target} (new model card: measure it with python -m core.eval)")
    return 0


def _finished(run_dir: Path) -> bool:
    """True when the run's last logged event is its end (not stopped, failed or still going)."""
    events = read_events(run_dir / "events.jsonl")
    return bool(events) and events[-1].get("event") == "end"


if __name__ == "__main__":
    sys.exit(main())
