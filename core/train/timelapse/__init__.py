"""Training time-lapse (issue 18, part 4): the frames a run saves of its own outputs, and the thinned,
size-capped copy a checkpoint ships.

During training (core/train/loop.py) every sample step writes `RUN/timelapse/step_NNNNNNN.png`: one
row of the model's outputs on fixed inputs made by this project's code (Task.timelapse_inputs; never
dataset images: frames are committed). The inputs' picture (`inputs.png`) and a caption
(`about.json`) are written once per run.

`write_into` (used by promote, and by the CLI below) copies at most MAX_FRAMES frames spread evenly
over the run (the first and the last always), the run's loss curves (the `step` events, at most
MAX_POINTS points per loss) and live-metric curves (`eval` events) into `timelapse.json`, within
MAX_BYTES for the whole folder: frames are re-encoded with a 256-colour palette, then fewer (down to
MIN_FRAMES) and downscaled, until they fit. The tab reads it through core/pipelines/timelapse.py.

    python -m core.train.timelapse RUN_DIR --out checkpoints/NAME/timelapse

builds the folder for an existing run without promoting its weights (the folder is swapped in
atomically; the checkpoint's other files are not touched). `--earlier RUN` (repeatable) puts the runs
of a model's earlier training stages first, this run's steps counted on from theirs; an earlier
stage may also be a shipped time-lapse folder (`checkpoints/NAME/timelapse`), when a model is
trained on from its shipped weights and the runs that made them are gone.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ...checkpoint import recover_swap, swap_folder
from ..events import live_figures, read_events

DIR = "timelapse"  # in a run folder (all frames) and in a checkpoint folder (the thinned copy)
MANIFEST = "timelapse.json"
INPUTS = "inputs.png"  # a picture of the fixed inputs (absent for latents)
ABOUT = "about.json"  # in the run's folder: the caption of its frames
FRAME = re.compile(r"step_(\d{7})\.png")
FORMAT = 1
MAX_FRAMES = 36
MAX_POINTS = 200  # per curve
MAX_BYTES = 1_500_000  # the whole shipped folder
# Re-encodings tried in order until the frames fit MAX_BYTES: (scale, 256-colour palette); within each,
# frames go first, down to MIN_FRAMES (see _fit).
PLANS = ((1.0, False), (1.0, True), (0.85, True), (0.75, True), (0.625, True), (0.5, True))
MIN_FRAMES = 24
HOPELESS = 1.5  # a plan whose first, middle and last frames, at its fewest frames, need this many times
# the room is skipped without encoding the rest (frames of one run differ far less in size than this)
MAX_NOTE = 300  # characters: core.pipelines.timelapse.MAX_NOTE, what the tab's reader accepts


# ---- during training --------------------------------------------------------------------------------

def frame_name(step: int) -> str:
    return f"step_{int(step):07d}.png"


def _atomic_png(im: Image.Image, path: Path, **options: Any) -> None:
    """Write a PNG through a temp file + rename: a process killed mid-write leaves no torn frame."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            im.save(f, format="PNG", **options)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_pil(picture: torch.Tensor) -> Image.Image:
    """[3, H, W] in [0, 1] -> an RGB image (rounded as torchvision's save_image rounds)."""
    a = picture.detach().float().cpu().clamp(0, 1).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)
    return Image.fromarray(a.permute(1, 2, 0).numpy(), "RGB")


def record_inputs(run_dir: Path, caption: str, view: torch.Tensor | None) -> None:
    """The run's caption (about.json) and, when given, its inputs' picture: view [N, 3, s, s] in
    [0, 1], laid out as the frames are."""
    from ..tasks.base import timelapse_row

    folder = Path(run_dir) / DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ABOUT).write_text(json.dumps({"caption": caption}) + "\n")
    if view is not None:
        _atomic_png(to_pil(timelapse_row(view)), folder / INPUTS)
    else:
        (folder / INPUTS).unlink(missing_ok=True)


def record_frame(run_dir: Path, step: int, frame: torch.Tensor) -> Path:
    """Save one frame ([3, H, W] in [0, 1]) as RUN/timelapse/step_NNNNNNN.png; returns its path."""
    folder = Path(run_dir) / DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / frame_name(step)
    _atomic_png(to_pil(frame), path)
    return path


# ---- thinning -----------------------------------------------------------------------------------------

def run_frames(run_dir: Path) -> list[tuple[int, Path]]:
    """The run's frames as (step, path), by step."""
    folder = Path(run_dir) / DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := FRAME.fullmatch(p.name)) and p.is_file()]
    return sorted(found)


def spread(n: int, k: int) -> list[int]:
    """k (or n, if fewer) indices into n items, evenly spread, the first and the last always in."""
    if n <= 0 or k <= 0:
        return []
    if n <= k:
        return list(range(n))
    if k == 1:
        return [n - 1]
    return sorted({round(float(i)) for i in np.linspace(0, n - 1, k)})


def thin_mean(points: list[tuple[int, float]], k: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most k points: consecutive runs of points averaged (the step of a run's last point), so a
    loss curve keeps its level and loses only its noise."""
    if len(points) <= k:
        return list(points)
    chunks = np.array_split(np.arange(len(points)), k)
    return [(points[c[-1]][0], float(np.mean([points[i][1] for i in c]))) for c in chunks if len(c)]


def thin_pick(points: list[tuple[int, float]], k: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most k of the points themselves, evenly spread (measurements: never averaged)."""
    return [points[i] for i in spread(len(points), k)]


def _by_step(records: list[tuple[int, str, float]]) -> dict[str, list[tuple[int, float]]]:
    """(step, name, value) -> per name, its finite values by step (a step logged twice: the last)."""
    out: dict[str, dict[int, float]] = {}
    for step, name, value in records:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out.setdefault(name, {})[int(step)] = float(value)
    return {name: sorted(values.items()) for name, values in out.items()}


def curves(events: list[dict[str, Any]], k: int = MAX_POINTS) -> tuple[dict, dict]:
    """The run's loss curves (`step` events, averaged down to k points) and live-metric curves
    (`eval` events, picked down to k): {name: {"steps": [...], "values": [...]}} each."""
    losses = _by_step([(e["step"], name, v) for e in events if e.get("event") == "step"
                       for name, v in (e.get("losses") or {}).items()])
    metrics = _by_step([(e["step"], name, v) for e in events if e.get("event") == "eval"
                        for name, v in live_figures(e).items()])

    def packed(points: list[tuple[int, float]]) -> dict[str, list]:
        return {"steps": [s for s, _ in points], "values": [float(f"{v:.5g}") for _, v in points]}

    return ({name: packed(thin_mean(p, k)) for name, p in losses.items()},
            {name: packed(thin_pick(p, k)) for name, p in metrics.items()})


# ---- the shipped copy ---------------------------------------------------------------------------------

def _encode(im: Image.Image, scale: float, palette: bool) -> bytes:
    """A frame re-encoded as PNG: `scale` (Lanczos), a 256-colour palette if asked (no dithering:
    it would cost more bytes than it saves)."""
    if scale != 1.0:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.LANCZOS)
    if palette:
        im = im.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _readable(frames: list[tuple[int, Path]]) -> list[tuple[int, Image.Image]]:
    """The frames that open as whole RGB images (a torn or foreign file is left out)."""
    out = []
    for step, path in frames:
        try:
            with Image.open(path) as im:
                out.append((step, im.convert("RGB")))
        except (OSError, ValueError, Image.DecompressionBombError):
            continue
    return out


def _fit(images: list[tuple[int, Image.Image]], inputs: Image.Image | None, budget: int,
         max_frames: int) -> tuple[list[tuple[int, bytes]], bytes | None, float, bool]:
    """Frames (evenly spread, at most max_frames) and the inputs' picture encoded to fit `budget`
    bytes together. Each plan of PLANS in turn; within a plan, fewer frames down to MIN_FRAMES
    before the next, smaller plan (detail matters more than the 30th frame); at the last plan down
    to two (the first and the last). Raises ValueError when even those do not fit."""
    n = len(images)
    for i, (scale, palette) in enumerate(PLANS):
        fewest = min(2 if i == len(PLANS) - 1 else MIN_FRAMES, max_frames, n)
        pic = _encode(inputs, scale, palette) if inputs is not None else None
        room = budget - len(pic or b"")
        k = min(max_frames, n)
        # frame index -> its bytes in this plan, each encoded once: a smaller k re-picks some of them
        encoded_frame = functools.cache(lambda j: _encode(images[j][1], scale, palette))
        sample = [encoded_frame(j) for j in spread(n, min(3, k))]
        if i < len(PLANS) - 1 and fewest * sum(map(len, sample)) / max(1, len(sample)) > HOPELESS * room:
            continue  # far from fitting even at its fewest frames: the next plan (each encode can cost 25 ms);
            # the last plan is always tried down to its two frames
        while k >= fewest:
            encoded = [(images[j][0], encoded_frame(j)) for j in spread(n, k)]
            used = sum(len(b) for _, b in encoded)
            if used <= room:
                return encoded, pic, scale, palette
            k = min(k - 1, int(room / (used / len(encoded))))  # as many as the mean frame leaves room for
    raise ValueError(f"even {min(2, max_frames, n)} time-lapse frame(s) do not fit in {budget:,} bytes")


def _last_step(images: list[tuple[int, Image.Image]], events: list[dict[str, Any]]) -> int:
    return max(images[-1][0] if images else 0, max((int(e.get("step", 0)) for e in events), default=0))


def _stages(runs: list[Path]) -> tuple[list[tuple[int, Image.Image]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The frames and events of a model trained in stages (runs in order, each started from the
    previous one's weights), each stage's steps counted on from the previous stage's last step;
    and the stages as [{"run", "from_step"}]."""
    images, events, stages, offset = [], [], [], 0
    for run in runs:
        if (run / MANIFEST).is_file() and not (run / "events.jsonl").exists():
            mine, logged, theirs, last = _published(run)
        else:
            mine, logged = _readable(run_frames(run)), read_events(run / "events.jsonl")
            theirs, last = [{"run": run.name, "from_step": 0}], _last_step(mine, logged)
        images += [(offset + step, im) for step, im in mine]
        events += [{**e, "step": offset + int(e["step"])} if "step" in e else e for e in logged]
        stages += [{**stage, "from_step": offset + int(stage["from_step"])} for stage in theirs]
        offset += last
    by_step = dict(images)  # a stage's frame at its step 0 is the previous stage's last: one frame, the later's
    return sorted(by_step.items(), key=lambda item: item[0]), events, stages


def _published(folder: Path) -> tuple[list[tuple[int, Image.Image]], list[dict[str, Any]], list[dict[str, Any]], int]:
    """A shipped time-lapse folder (timelapse.json + frames) read back as an earlier stage, for a
    model trained on from shipped weights whose runs are gone: its frames at the runs' own size
    (undoing the shipped downscale), its curves as step / eval events, its stages and last step."""
    manifest = json.loads((folder / MANIFEST).read_text())
    scale = float(manifest.get("scale", 1.0))
    frames = _readable([(int(f["step"]), folder / f["file"]) for f in manifest.get("frames", [])])
    if scale != 1.0:
        frames = [(step, im.resize((round(im.width / scale), round(im.height / scale)), Image.LANCZOS))
                  for step, im in frames]
    events = [{"event": "step", "step": step, "losses": {name: value}}
              for name, curve in manifest.get("losses", {}).items() for step, value in zip(curve["steps"], curve["values"])]
    events += [{"event": "eval", "step": step, name: value}
               for name, curve in manifest.get("metrics", {}).items() for step, value in zip(curve["steps"], curve["values"])]
    stages = manifest.get("stages") or [{"run": manifest.get("run") or folder.name, "from_step": 0}]
    return frames, events, stages, int(manifest.get("last_step") or _last_step(frames, events))


def write_into(run_dir: Path, folder: Path, model: str | None = None, max_frames: int = MAX_FRAMES,
               max_bytes: int = MAX_BYTES, note: str = "", earlier: tuple[Path, ...] = ()) -> dict[str, Any] | None:
    """Write the thinned time-lapse of `run_dir` into `folder` (created; it must not hold one yet):
    frames, inputs.png, timelapse.json, at most `max_bytes` in all. `note` (optional, at most
    MAX_NOTE characters) is shown under the frames: e.g. that the run is a re-run of the shipped
    recipe rather than the run that made the shipped weights. `earlier`: the runs of the model's
    earlier stages, in order (its frames and curves come first; `run_dir`'s steps count on from their
    last step). Returns the manifest, or None (nothing written) when the runs saved no readable frame."""
    if len(note) > MAX_NOTE:
        raise ValueError(f"the note must be at most {MAX_NOTE} characters")
    run_dir, folder = Path(run_dir), Path(folder)
    images, events, stages = _stages([*map(Path, earlier), run_dir])
    if not images:
        return None
    starts = [e for e in events if e.get("event") == "start"]
    about = _about(run_dir)
    inputs = _readable([(0, run_dir / DIR / INPUTS)]) if (run_dir / DIR / INPUTS).is_file() else []
    losses, metrics = curves(events)
    manifest: dict[str, Any] = {
        "format": FORMAT, "model": model or (starts[-1].get("model") if starts else None) or "",
        "run": " + ".join(stage["run"] for stage in stages), "caption": str(about.get("caption", "")),
        "inputs": None, "frames": [], "last_step": _last_step(images, events),
        "frames_in_run": len(images), "losses": losses, "metrics": metrics, **({"note": note} if note else {}),
        **({"stages": stages} if len(stages) > 1 else {})}
    # The manifest's own size, with room for every frame's entry, comes off the budget first.
    reserve = len(json.dumps(manifest)) + 64 * min(max_frames, len(images)) + 200
    encoded, pic, scale, palette = _fit(images, inputs[0][1] if inputs else None, max_bytes - reserve, max_frames)
    folder.mkdir(parents=True)
    for step, data in encoded:
        (folder / frame_name(step)).write_bytes(data)
    if pic is not None:
        (folder / INPUTS).write_bytes(pic)
        manifest["inputs"] = INPUTS
    manifest.update(frames=[{"step": step, "file": frame_name(step)} for step, _ in encoded], scale=scale,
                    palette=palette)
    (folder / MANIFEST).write_text(json.dumps(manifest, separators=(",", ":")) + "\n")
    os.chmod(folder, 0o755)
    return manifest


def _about(run_dir: Path) -> dict[str, Any]:
    try:
        about = json.loads((run_dir / DIR / ABOUT).read_text())
        return about if isinstance(about, dict) else {}
    except (OSError, ValueError):
        return {}


def build(run_dir: Path, out: Path, model: str | None = None, max_frames: int = MAX_FRAMES,
          max_bytes: int = MAX_BYTES, note: str = "", earlier: tuple[Path, ...] = ()) -> dict[str, Any]:
    """`write_into` a temp folder beside `out`, then swap it in for `out` in one rename (a reader
    sees the old time-lapse or the new one, never half of one). Raises FileNotFoundError when the
    run has no frames."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recover_swap(out)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.build"))
    try:
        manifest = write_into(run_dir, tmp / "new", model, max_frames, max_bytes, note, earlier)
        if manifest is None:
            raise FileNotFoundError(f"{Path(run_dir) / DIR} holds no time-lapse frames (runs started before "
                                    f"the time-lapse existed, and tasks without an image output, have none)")
        swap_folder(tmp / "new", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m core.train.timelapse",
                                description="Build a run's thinned time-lapse (frames + curves) for the app, "
                                            "without promoting its weights.")
    p.add_argument("run_dir", type=Path, help="the run folder (holds events.jsonl and timelapse/)")
    p.add_argument("--out", type=Path, required=True, help="e.g. checkpoints/NAME/timelapse (replaced atomically)")
    p.add_argument("--model", help="the model name recorded (default: the run's)")
    p.add_argument("--max-frames", type=int, default=MAX_FRAMES)
    p.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    p.add_argument("--note", default="", help=f"shown under the frames (at most {MAX_NOTE} characters), e.g. "
                                              "'a re-run of the shipped recipe: ...'")
    p.add_argument("--earlier", type=Path, action="append", default=[], metavar="RUN",
                   help="the run of an earlier stage of the same model (repeat, in order), e.g. one without "
                        "colour hints that run_dir went on from: its frames and curves come first; or a shipped "
                        "time-lapse folder (checkpoints/NAME/timelapse) when the runs that made it are gone")
    args = p.parse_args(argv)
    try:
        manifest = build(args.run_dir, args.out, args.model, args.max_frames, args.max_bytes, args.note,
                         tuple(args.earlier))
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    print(f"{args.out}: {len(manifest['frames'])} of {manifest['frames_in_run']} frames (steps "
          f"{manifest['frames'][0]['step']}-{manifest['frames'][-1]['step']}), scale {manifest['scale']}, "
          f"palette {manifest['palette']}, {folder_bytes(args.out):,} bytes; curves: "
          f"{', '.join([*manifest['losses'], *manifest['metrics']]) or 'none'}")

