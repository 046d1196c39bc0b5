"""Training time-lapses (issue 18, part 4): what the "How it learned" tab shows, read from
`checkpoints/<model>/timelapse/` (written by core/train/timelapse/ at promote, or by
`python -m core.train.timelapse RUN_DIR --out checkpoints/NAME/timelapse`).

timelapse.json = {"format": 1, "model", "run", "caption", "note" (optional), "inputs": "inputs.png" | null,
"frames": [{"step", "file": "step_NNNNNNN.png"}, ...], "losses" / "metrics": {name: {"steps": [...],
"values": [...]}}, "last_step", "stages" (optional, a model trained in stages: [{"run", "from_step"}, ...]),
...}. Everything in it is checked before use: a frame is a file named
step_NNNNNNN.png directly in that folder (after resolving links: nothing outside the checkpoint
folder is ever opened), a PNG of bounded size; steps rise; values are finite numbers. A bad folder
raises TimelapseError with the reason. Loaded once and kept until timelapse.json changes (a promote
swaps the folder in, which gives it a new inode).

The curves are drawn with Pillow (no matplotlib here, as for the playground): one small panel per
curve with its own scale (GAN losses live on scales 100x apart), and a marker at the frame's step.
"""
from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ..data.images import ImageError, label_font, open_image, peek
from ..registry import REGISTRY, get_spec

DIR = "timelapse"
MANIFEST = "timelapse.json"
FRAME = re.compile(r"step_\d{7}\.png")
INPUTS = "inputs.png"
FORMAT = 1
MAX_FRAMES = 200  # what a manifest may list (promote ships at most 36)
MAX_CURVES = 24
MAX_POINTS = 2000  # per curve (promote ships at most 200)
MAX_FILE_BYTES = 2_000_000  # per picture
MAX_MANIFEST_BYTES = 1_000_000
MAX_STAGES = 8
MAX_NOTE = 300  # characters of the optional note; core/train/timelapse/'s writer keeps to the same
MAX_SIDE = 2048  # px, a picture's longer side
NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # a curve's name


class TimelapseError(ValueError):
    """A time-lapse folder that is missing, malformed or points outside itself."""


@dataclass(frozen=True)
class Curve:
    steps: tuple[int, ...]
    values: tuple[float, ...]

    def at(self, step: int) -> float | None:
        """The value logged at the last point at or before `step` (None before the first)."""
        best = None
        for s, v in zip(self.steps, self.values):
            if s > step:
                break
            best = v
        return best


@dataclass
class Timelapse:
    """A checked time-lapse: frames by index (steps rising), curves, the inputs' picture."""

    model: str
    title: str
    caption: str
    run: str
    note: str
    steps: tuple[int, ...]
    files: tuple[Path, ...]
    inputs: Path | None
    losses: dict[str, Curve]
    metrics: dict[str, Curve]
    last_step: int
    stages: tuple[tuple[str, int], ...] = ()  # (run, first step) of each stage of a model trained in stages

    def __len__(self) -> int:
        return len(self.steps)

    def stage_of(self, step: int) -> int:
        """The stage (0-based) that `step` belongs to; 0 for a model trained in one run."""
        return max([i for i, (_, start) in enumerate(self.stages) if start <= step], default=0)

    def _image(self, path: Path) -> Image.Image:
        """A checked picture, decoded on each call (a ~100 KB PNG: about a millisecond; keeping every
        model's decoded frames would hold ~10 MB each for good)."""
        try:
            return open_image(path)
        except ImageError as e:
            raise TimelapseError(f"{self.model}'s time-lapse picture {path.name} cannot be read: {e}") from None

    def frame(self, index: int) -> Image.Image:
        """Frame `index` (0 .. len - 1) as an RGB image; IndexError outside."""
        if not 0 <= index < len(self.steps):
            raise IndexError(f"frame {index} does not exist: this time-lapse has {len(self.steps)} frames "
                             f"(0 to {len(self.steps) - 1})")
        return self._image(self.files[index])

    def inputs_image(self) -> Image.Image | None:
        return None if self.inputs is None else self._image(self.inputs)


# ---- reading and checking -------------------------------------------------------------------------------

def folder(name: str) -> Path:
    """checkpoints/<name>/timelapse (KeyError for a name the registry does not know)."""
    return get_spec(name).checkpoint_dir / DIR


def available() -> list[str]:
    """Shipped models (registry order) whose checkpoint folder holds a time-lapse manifest."""
    return [name for name, spec in REGISTRY.items()
            if not spec.comparison_only and (spec.checkpoint_dir / DIR / MANIFEST).is_file()]


def _inside(path: Path, root: Path) -> Path:
    """`path` resolved (links followed), if it is a regular file directly in `root`; else TimelapseError."""
    real = path.resolve()
    if real.parent != root or not real.is_file():
        raise TimelapseError(f"{path.name} is not a file inside {root.name}/")
    return real


def _picture(path: Path, root: Path) -> Path:
    """A picture the manifest names, checked: in the folder, at most MAX_FILE_BYTES, a PNG whose
    header declares at most MAX_SIDE px a side (nothing decoded)."""
    real = _inside(path, root)
    if real.stat().st_size > MAX_FILE_BYTES:
        raise TimelapseError(f"{path.name} is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        im = peek(real)
    except ImageError as e:
        raise TimelapseError(f"{path.name}: {e}") from None
    with im:
        if im.format != "PNG" or max(im.size) > MAX_SIDE:
            raise TimelapseError(f"{path.name} must be a PNG of at most {MAX_SIDE} px a side")
    return real


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
        raise TimelapseError(f"{what} must be a whole number of steps")
    return value


def _curves(data: Any, what: str) -> dict[str, Curve]:
    if data is None:
        return {}
    if not isinstance(data, dict) or len(data) > MAX_CURVES:
        raise TimelapseError(f"{what} must be a mapping of at most {MAX_CURVES} curves")
    out = {}
    for name, curve in data.items():
        if not isinstance(name, str) or not NAME.fullmatch(name) or not isinstance(curve, dict):
            raise TimelapseError(f"{what}: a curve needs a short name and {{steps, values}}")
        steps, values = curve.get("steps"), curve.get("values")
        if not (isinstance(steps, list) and isinstance(values, list) and len(steps) == len(values) <= MAX_POINTS):
            raise TimelapseError(f"{what} {name}: steps and values must be lists of the same length "
                                 f"(at most {MAX_POINTS})")
        steps = [_int(s, f"{what} {name}'s steps") for s in steps]
        if any(b < a for a, b in zip(steps, steps[1:])):
            raise TimelapseError(f"{what} {name}: steps must not go back")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise TimelapseError(f"{what} {name}: values must be finite numbers")
        out[name] = Curve(tuple(steps), tuple(float(v) for v in values))
    return out


def _shown(curves: dict[str, Curve]) -> dict[str, Curve]:
    """The curves worth a chart: a `*_std` is another curve's error bar (KID's spread over its
    subsets, 0 when the live set makes one subset), not something to watch move."""
    return {name: curve for name, curve in curves.items() if not name.endswith("_std")}


def _text(value: Any, what: str, limit: int = 300) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise TimelapseError(f"{what} must be a text of at most {limit} characters")
    return value


def read(name: str, where: Path | None = None) -> Timelapse:
    """Read and check the time-lapse of model `name` (from `where`, default its checkpoint's
    timelapse/ folder). Raises KeyError (unknown model), FileNotFoundError (none), TimelapseError."""
    spec = get_spec(name)
    where = Path(where) if where is not None else spec.checkpoint_dir / DIR
    manifest = where / MANIFEST
    if not manifest.is_file():
        raise FileNotFoundError(f"{name} has no time-lapse ({manifest} is missing)")
    root = where.resolve()
    if root.parent != where.parent.resolve():  # the folder itself a link to somewhere else
        raise TimelapseError(f"{where.name}/ must be a folder inside {where.parent.name}/, not a link out of it")
    real = _inside(manifest, root)
    if real.stat().st_size > MAX_MANIFEST_BYTES:
        raise TimelapseError(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES:,} bytes")
    try:
        data = json.loads(real.read_text())
    except (ValueError, UnicodeDecodeError):
        raise TimelapseError(f"{MANIFEST} is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TimelapseError(f"{MANIFEST} must be an object with \"format\": {FORMAT}")
    frames = data.get("frames")
    if not isinstance(frames, list) or not 1 <= len(frames) <= MAX_FRAMES:
        raise TimelapseError(f"{MANIFEST} must list 1 to {MAX_FRAMES} frames")
    steps, files = [], []
    for item in frames:
        file = item.get("file") if isinstance(item, dict) else None
        if not isinstance(file, str) or not FRAME.fullmatch(file):
            raise TimelapseError("a frame's file must be named step_NNNNNNN.png, in the time-lapse folder")
        steps.append(_int(item.get("step"), "a frame's step"))
        files.append(_picture(where / file, root))
    if any(b <= a for a, b in zip(steps, steps[1:])):
        raise TimelapseError("the frames' steps must rise")
    inputs = data.get("inputs")
    if inputs is not None and inputs != INPUTS:
        raise TimelapseError(f"\"inputs\" must be {INPUTS!r} or null")
    last = data.get("last_step", steps[-1])
    return Timelapse(model=name, title=spec.title, caption=_text(data.get("caption"), "the caption"),
                     run=_text(data.get("run"), "the run's name", 120), note=_text(data.get("note"), "the note", MAX_NOTE),
                     steps=tuple(steps), files=tuple(files),
                     inputs=None if inputs is None else _picture(where / INPUTS, root),
                     losses=_curves(data.get("losses"), "losses"), metrics=_shown(_curves(data.get("metrics"), "metrics")),
                     last_step=max(_int(last, "last_step"), steps[-1]), stages=_stages(data.get("stages")))


def _stages(data: Any) -> tuple[tuple[str, int], ...]:
    """The optional "stages": [{"run", "from_step"}, ...], the first from step 0, steps rising."""
    if data is None:
        return ()
    if not isinstance(data, list) or not 2 <= len(data) <= MAX_STAGES or not all(isinstance(d, dict) for d in data):
        raise TimelapseError(f"\"stages\" must list 2 to {MAX_STAGES} {{run, from_step}}")
    stages = tuple((_text(d.get("run"), "a stage's run", 120), _int(d.get("from_step"), "a stage's from_step"))
                   for d in data)
    if stages[0][1] != 0 or any(b[1] <= a[1] for a, b in zip(stages, stages[1:])):
        raise TimelapseError("the stages must start at step 0 and their steps must rise")
    return stages


_CACHE: dict[str, tuple[tuple, Timelapse]] = {}
_CACHE_LOCK = threading.Lock()


def load(name: str) -> Timelapse:
    """`read` once per version of the manifest (cached by its inode, mtime and size)."""
    manifest = folder(name) / MANIFEST
    try:
        st = manifest.stat()
    except OSError:
        raise FileNotFoundError(f"{name} has no time-lapse yet") from None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(name)
        if cached and cached[0] == stamp:
            return cached[1]
    lapse = read(name)
    with _CACHE_LOCK:
        _CACHE[name] = (stamp, lapse)
    return lapse


# ---- the curves, drawn ---------------------------------------------------------------------------------------

CHART_W, PANEL_H, LEFT, RIGHT, TOP, AXIS_H = 520, 70, 58, 12, 24, 22
LINE, MARK, GRID, INK = (37, 99, 235), (220, 38, 38), (226, 232, 240), (30, 30, 30)
STAGE = (120, 120, 120)  # where a later training stage began


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}"


def _range(values: tuple[float, ...]) -> tuple[float, float]:
    """The y range of a panel: the 2nd to 98th percentile of the values, padded by 8 % (a spike in
    the first steps would flatten the rest of a GAN's loss; it is drawn clipped at the edge)."""
    ordered = sorted(values)
    lo = ordered[int(0.02 * (len(ordered) - 1))]
    hi = ordered[math.ceil(0.98 * (len(ordered) - 1))]
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 1e-6)
    return lo - pad, hi + pad


def chart(curves: dict[str, Curve], step: int, last_step: int, title: str,
          boundaries: tuple[int, ...] = ()) -> Image.Image:
    """One panel per curve (its own y scale), steps 0..last_step across, a red line at `step` and
    each curve's value there, a grey line where each later training stage began (`boundaries`).
    An empty `curves` gives a short note instead."""
    width = CHART_W
    if not curves:
        im = Image.new("RGB", (width, TOP + 40), "white")
        ImageDraw.Draw(im).text((8, 6), f"{title}: none recorded in this run", fill=INK, font=label_font(13))
        return im
    height = TOP + PANEL_H * len(curves) + AXIS_H
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    d.text((8, 4), title, fill=INK, font=label_font(14))
    x0, x1 = LEFT, width - RIGHT
    span = max(1, last_step)

    def x_of(s: float) -> float:
        return x0 + (x1 - x0) * min(max(s / span, 0.0), 1.0)

    for i, (name, curve) in enumerate(curves.items()):
        top = TOP + i * PANEL_H
        y0, y1 = top + 16, top + PANEL_H - 6  # the plot area of this panel
        lo, hi = _range(curve.values)

        def y_of(v: float, y0=y0, y1=y1, lo=lo, hi=hi) -> float:
            return y1 - (y1 - y0) * min(max((v - lo) / (hi - lo), 0.0), 1.0)

        d.rectangle([x0, y0, x1, y1], outline=GRID)
        for k, start in enumerate(boundaries, 2):  # a jump in a curve there is the new stage, not a fault
            d.line([(x_of(start), y0), (x_of(start), y1)], fill=STAGE, width=1)
            if i == 0:
                d.text((x_of(start) + 3, y0 + 1), f"stage {k}", fill=STAGE, font=label_font(10))
        d.text((4, y0 - 2), _fmt(hi), fill=(100, 100, 100), font=label_font(10))
        d.text((4, y1 - 11), _fmt(lo), fill=(100, 100, 100), font=label_font(10))
        points = [(x_of(s), y_of(v)) for s, v in zip(curve.steps, curve.values)]
        if len(points) > 1:
            d.line(points, fill=LINE, width=2, joint="curve")
        elif points:
            d.ellipse([points[0][0] - 2, points[0][1] - 2, points[0][0] + 2, points[0][1] + 2], fill=LINE)
        now = curve.at(step)
        label = f"{name}: {_fmt(now)} at step {step:,}" if now is not None else f"{name}: not logged yet at step {step:,}"
        d.text((x0 + 4, top + 1), label, fill=INK, font=label_font(12))
        d.line([(x_of(step), y0), (x_of(step), y1)], fill=MARK, width=2)  # the marker: the frame's step
        if now is not None:
            y = y_of(now)
            d.ellipse([x_of(step) - 4, y - 4, x_of(step) + 4, y + 4], outline=MARK, width=2)
    for s in (0, span // 2, span):
        d.text((x_of(s) - (0 if s == 0 else 28 if s == span else 14), height - AXIS_H + 4), f"{s:,}",
               fill=(100, 100, 100), font=label_font(10))
    return im


@dataclass(frozen=True)
class View:
    """What the tab shows for one frame."""

    frame: Image.Image
    losses: Image.Image
    metrics: Image.Image
    step: int
    index: int
    total: int


def view(name: str, index: int) -> View:
    """Frame `index` of model `name`'s time-lapse with its two charts (marker at its step).
    Raises KeyError, FileNotFoundError, TimelapseError, IndexError."""
    lapse = load(name)
    frame = lapse.frame(index)
    step = lapse.steps[index]
    starts = tuple(start for _, start in lapse.stages[1:])
    return View(frame, chart(lapse.losses, step, lapse.last_step, "Training losses (each on its own scale)", starts),
                chart(lapse.metrics, step, lapse.last_step, "Live metrics on the run's small fixed set", starts),
                step, index, len(lapse))
