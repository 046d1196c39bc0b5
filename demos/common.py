"""What every tab shares: the heavy-event concurrency limit, the gate for component-server
functions, the notice/status styles (and the page's CSS), and the wait for the faces tabs'
labelled pool."""
from __future__ import annotations

import html
import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import anyio
import gradio as gr

from core.pipelines import NotTrainedError
from core.pipelines import face_arithmetic as face_arithmetic_pipeline
from core.pipelines import faces as faces_pipeline
from core.pipelines.images import ImageError

from . import PROCESS_TMP

# Every event that runs a model shares this one queue slot group: on a 2-core CPU more than
# two models at once only makes every user wait longer.
HEAVY = dict(concurrency_id="model", concurrency_limit=2)


class Gate:
    """Bounded concurrency for the functions a page calls through Gradio's /component_server
    (`gr.HTML(server_functions=...)`). That route is not queued: it runs each call at once, outside
    every concurrency limit, so a flood would run any number of models side by side on two cores.
    At most `slots` calls run at once; at most `max_waiting` more wait, each for at most `wait_s`;
    any other call is answered `None` at once (the page retries a little later). Waiting costs no
    thread: the wait is on the event loop, and only a call holding a slot gets a worker thread."""

    def __init__(self, slots: int = 2, max_waiting: int = 8, wait_s: float = 1.0):
        self.slots, self.max_waiting, self.wait_s = slots, max_waiting, wait_s
        self.waiting = 0
        self._limiter: anyio.CapacityLimiter | None = None  # made in the server's event loop, on first use

    async def run(self, fn: Callable[..., Any], *args) -> Any:
        """fn(*args) in a worker thread once a slot is free, or None when the gate is busy."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.slots)
        if self.waiting >= self.max_waiting:
            return None
        token, acquired = object(), False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait_s):
                await self._limiter.acquire_on_behalf_of(token)
                acquired = True
        finally:
            self.waiting -= 1
        if not acquired:
            return None
        try:
            # Not cancellable: a thread cannot be stopped, and the slot must stay taken while it runs.
            return await anyio.to_thread.run_sync(fn, *args)
        finally:
            self._limiter.release_on_behalf_of(token)


def share(demo: gr.Blocks, key: str, value: Any) -> None:
    """Offer a component (or several) to the tabs built after this one in the same app (e.g. the
    latent walk's "send to inpainting" button and its inputs), by name."""
    demo.__dict__.setdefault("_lab_shared", {})[key] = value


def shared(demo: gr.Blocks, key: str) -> Any:
    """What an earlier tab (or app.py) offered under `key`, or None (e.g. a tab run alone)."""
    return demo.__dict__.get("_lab_shared", {}).get(key)


def on_first_open(demo: gr.Blocks, tab: gr.Tab | None, **event):
    """Run `event` (the keyword arguments of an event listener) once per page, when `tab` is first
    opened (its State changes only then), or at page load for a tab built alone (tab None). Returns
    the event's dependency, for .then()."""
    if tab is None:
        return demo.load(**event)
    opened = gr.State(False)
    tab.select(lambda: True, None, [opened], api_name=False)
    return opened.change(**event)


def notice(title: str, body: str) -> gr.Markdown:
    """A friendly box for a tab whose model is not trained or shipped yet."""
    return gr.Markdown(f"### {title}\n\n{body}", elem_classes=["lab-notice"])


# Status marks: a word in a coloured badge (CSS below), not an emoji: emoji need a colour-emoji font,
# which many Linux desktops lack (they showed as empty boxes). Status lines are Markdown; a script
# reading them (gradio_client) gets the same string; `plain` turns one into text.
MARKS = {"ok": "OK", "warn": "Note", "wait": "Wait"}


def _mark(kind: str) -> str:
    return f'<span class="lab-mark lab-{kind}">{MARKS[kind]}</span>'


OK_MARK, WARN_MARK, WAIT_MARK = _mark("ok"), _mark("warn"), _mark("wait")


def ok(msg: str) -> str:
    """A status line for something that worked."""
    return f"{OK_MARK} {msg}"


def warn(msg: str) -> str:
    """A status line for something that did not work, or worked only in part: say why."""
    return f"{WARN_MARK} {msg}"


def wait(msg: str) -> str:
    """A status line for something still in progress."""
    return f"{WAIT_MARK} {msg}"


_TAG = re.compile(r"<[^>]+>")


def plain(status: str) -> str:
    """A status line as plain text, for places that show text rather than Markdown (e.g. a
    page's own JavaScript setting textContent): the mark becomes "OK:", "Note:" or "Wait:", other
    tags go, and the Markdown's ** and ` go."""
    for kind, word in MARKS.items():
        status = status.replace(_mark(kind), f"{word}:")
    return html.unescape(_TAG.sub("", status)).replace("**", "").replace("`", "")


# The page's own styles (given to launch by demos.server).
CSS = """
.lab-notice {border-left: 4px solid #f59e0b; padding: 0.5em 1em; background: rgba(245, 158, 11, 0.08);}
.lab-mark {display: inline-block; padding: 0 0.45em; margin-right: 0.2em; border-radius: 0.3em; font-size: 0.85em;
           font-weight: 600; line-height: 1.45; color: #fff; vertical-align: baseline;}
.lab-ok {background: #15803d;}
.lab-warn {background: #b45309;}
.lab-wait {background: #1d4ed8;}
.lab-progress {width: 12em; height: 0.8em; vertical-align: middle; margin: 0 0.4em;}
/* Galleries that show every item (Gradio caps a gallery at 55 % of the window and scrolls: the map's
   last row was cut off): their own height, no scroll bar. */
.lab-fit {height: auto !important; max-height: none !important;}  /* the block itself too (a set height clips) */
.lab-fit .grid-wrap {max-height: none !important; min-height: 0 !important; height: auto !important;
                     overflow-y: visible !important;}
/* Small pictures (the inpainting tab's 64 px faces) fill their box instead of showing at their own size. */
.lab-enlarge img {width: 100% !important; height: 100% !important; object-fit: contain;}
.lab-captions .caption-label {white-space: normal; text-overflow: clip; overflow-wrap: anywhere; line-height: 1.2;
                              max-width: calc(100% - 8px); font-size: 0.75em;}
"""


NOT_TRAINED = ("This model has not been trained yet, so there is nothing to run here. "
               "Train it with `python -m core.train {name} --promote` (or from the admin tab), "
               "and this tab picks the new weights up without a restart.")


# The files this process writes for the browser (GIFs, example files), in the process's temp
# folder (removed at exit); Gradio copies what a tab returns into its own cache (pruned by
# demos.server.DELETE_CACHE).
SCRATCH_MAX_AGE_S = 600


def scratch_dir() -> Path:
    folder = PROCESS_TMP / "scratch"
    folder.mkdir(exist_ok=True)
    return folder


def scratch_file(name: str) -> Path:
    """A fresh path in the scratch folder; files older than SCRATCH_MAX_AGE_S go first (Gradio
    has long copied them by then)."""
    folder = scratch_dir()
    now = time.time()
    for old in folder.glob("*.*"):
        try:
            if old.is_file() and now - old.stat().st_mtime > SCRATCH_MAX_AGE_S:
                old.unlink()
        except OSError:
            pass
    return folder / f"{uuid.uuid4().hex[:12]}_{name}"


# The labelled pool behind the vector-arithmetic tab and the map's attribute axes: labelled once per
# machine, then read from the disk cache. How long the first time takes, measured (docs/RESULTS.md).
POOL_FIRST_TIME = "1 to 3.5 minutes on 2 CPU cores"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60:02d} s"


def pool_progress(progress: tuple[int, int, float]) -> str:
    """A status line for the pool's labelling: how far, and how long it will still take."""
    done, total, elapsed = progress
    if done == 0 or elapsed < 3:
        left = f"the first time on a machine this takes {POOL_FIRST_TIME}"
    else:
        left = f"about {_duration(elapsed / done * (total - done))} left"
    return wait(f"Labelling the {total:,} generated faces behind the presets and attribute directions (once per "
                f"machine; later starts read them from disk): "
                f'<progress class="lab-progress" value="{done}" max="{total}"></progress> '
                f"{done:,} of {total:,} done, {left}.")


def await_pool(faces: str = "faces"):
    """The first step of a faces event that needs the labelled pool: a generator for one status
    line, which shows the labelling's progress while this request helps with it (at normal
    priority, however busy the warm-up thread's low priority keeps it), then clears the line; it
    changes nothing on the page when the pool is ready (or read from disk) at once. Run it outside
    the model slots (its own concurrency group): waiting here must not hold one."""
    try:
        arith = face_arithmetic_pipeline.load(faces)
    except NotTrainedError:
        yield gr.skip()
        return
    shown = 0.0
    while (progress := arith.labelling_step()) is not None:
        if time.monotonic() - shown > 0.9:
            shown = time.monotonic()
            yield pool_progress(progress)
    yield "" if shown else gr.skip()


# await_pool's events: their own queue group (the wait holds no model slot), a few at a time.
POOL_WAIT = dict(concurrency_id="pool-wait", concurrency_limit=8)


def face_arithmetic(faces: str = "faces"):
    """The shared FaceArithmetic of a faces model (face_arithmetic.FACES_MODELS; raises
    NotTrainedError). Its pool may still be being labelled: a tab shows that with await_pool
    before it asks for the pool."""
    return face_arithmetic_pipeline.load(faces)


# ---- the faces tabs' model switch ----------------------------------------------------------------
# Two faces generators (face_arithmetic.FACES_MODELS): the paper's DCGAN and faces v2, a VAE-GAN whose
# encoder gives a visitor's photo a latent (issue 17). Every faces tab starts on FACES_DEFAULT when it
# is shipped, so they all show the same model at first.
FACES_DEFAULT = "faces_v2"
PHOTO_FACES = "faces_v2"  # the faces model with an encoder: an uploaded photo becomes one of its latents
FACES_LABELS = {"faces_v2": "v2 (VAE-GAN: takes your photo)", "faces": "DCGAN (Radford et al. 2016)"}
FACES_TITLES = {"faces_v2": "faces v2, a VAE-GAN", "faces": "DCGAN faces"}


def shipped_faces(with_classifier: bool = False) -> list[str]:
    """The faces models that are shipped, FACES_DEFAULT first (with the attribute classifier too, when
    the tab needs it: the arithmetic's pools are labelled by it)."""
    if with_classifier:
        names = face_arithmetic_pipeline.shipped_faces_models()
    else:
        names = [n for n in face_arithmetic_pipeline.FACES_MODELS if faces_pipeline.has_checkpoint(n)]
    return sorted(names, key=lambda n: n != FACES_DEFAULT)


def faces_model(name, with_classifier: bool = False) -> str:
    """The faces model an event works on: `name` (the switch's value; a client may send anything)
    when it is a shipped one, else the default of those shipped ("faces" when none is: the tab then
    says it is not trained)."""
    shipped = shipped_faces(with_classifier)
    if name in shipped:
        return name
    return shipped[0] if shipped else "faces"


def faces_switch(shipped: list[str], elem_id: str) -> gr.Radio:
    """The "DCGAN | v2" switch of a faces tab; shown only when there is a choice (else it keeps the
    one model as its value, and the tab looks as before v2)."""
    return gr.Radio([(FACES_LABELS[n], n) for n in shipped], value=shipped[0] if shipped else "faces",
                    label="Faces model", visible=len(shipped) > 1, elem_id=elem_id)


def latent_of(pick, model: str, z_dim: int):
    """A latent kept in a gr.State for one faces model ({"model": name, "z": [floats]}) -> its
    tensor [z_dim], or None when it is missing, malformed or another model's (the models' latents
    mean different faces, even where their lengths agree). A bare list, a latent without its model,
    is never taken: nothing says which model's face it is."""
    if isinstance(pick, dict) and pick.get("model") == model:
        return faces_pipeline.from_array(pick.get("z"), z_dim)
    return None


def kept_latent(z, model: str, what: str) -> dict:
    """A latent [z_dim] for a gr.State, with its model and what it is (e.g. "your photo")."""
    return {"model": model, "z": faces_pipeline.to_array(z), "what": what}


NO_PHOTO_MODEL = "No faces model that takes photos is shipped here."


def try_photo(path, size: int, progress, shipped: bool, needs: str) -> tuple | str:
    """The faces tabs' upload handler's common part: photo_to_latent for the model that takes photos
    -> (u, square, reconstruction, status line), or a warning line to show instead: no such model
    shipped (`shipped` False), a refused file, or a missing model (`needs`: what to say then)."""
    if not shipped:
        return warn(NO_PHOTO_MODEL)
    try:
        return photo_to_latent(path, PHOTO_FACES, size, progress)
    except ValueError as e:
        return warn(str(e))
    except NotTrainedError:
        return warn(needs)


def photo_inputs(prefix: str, label: str = "Your face photo", height: int = 160, min_width: int = 120,
                 row: bool = False, status: str = ""):
    """An upload for a face photo, its face square and what v2 draws of it, and a status line
    (elem_ids PREFIX-photo, -photo-crop, -photo-recon, -photo-status) -> (upload, crop, recon, status).
    Stacked (the default: for a side column) or, with `row`, all four in one row, the status in a
    column of its own: `with status.parent:` adds a control under it."""
    def pictures():  # its face square beside what the generator makes of it
        scale = {"scale": 1} if row else {}
        return (gr.Image(label="Your photo", type="pil", interactive=False, height=height, buttons=[],
                         elem_id=f"{prefix}-photo-crop", min_width=min_width, **scale),
                gr.Image(label="What v2 can draw", type="pil", interactive=False, height=height, buttons=[],
                         elem_id=f"{prefix}-photo-recon", min_width=min_width, **scale))

    def upload(**layout):
        return gr.File(label=label, type="filepath", file_types=["image", ".tif", ".tiff"], elem_id=f"{prefix}-photo",
                       **layout)

    if row:
        with gr.Row(equal_height=True):
            file = upload(min_width=220, height=height, scale=2)
            crop, recon = pictures()
            with gr.Column(scale=4, min_width=300):
                line = gr.Markdown(status, elem_id=f"{prefix}-photo-status")
        return file, crop, recon, line
    with gr.Group():
        file = upload(height=100)
        with gr.Row(equal_height=True):
            crop, recon = pictures()
        line = gr.Markdown(status, elem_id=f"{prefix}-photo-status")
    return file, crop, recon, line


def photo_to_latent(path, model: str, size: int, progress=None):
    """An uploaded photo -> (its latent u [z_dim] in `model`, which must have an encoder; the face
    square and the generator's reconstruction of it, both PIL at size x size; the status line).
    Raises ValueError with a message to show for what is not a usable face photo (not an image, too
    small, too many pixels: core.pipelines.faces.photo_face). `progress(fraction, desc=...)`
    follows the short latent optimisation after the encoder's guess (FacesPipeline.invert)."""
    if not path:
        raise ValueError("Upload a face photo (PNG, JPEG, WebP, BMP or TIFF).")
    pipe = faces_pipeline.load(model)
    if not pipe.can_encode:
        raise ValueError(f"The {FACES_TITLES.get(model, model)} model has no encoder, so it cannot take a photo.")
    try:
        face, square, note = faces_pipeline.photo_face(path)
    except ImageError as e:
        raise ValueError(f"That file was refused: {str(e).rstrip('.')}.") from None

    def step(i: int, n: int) -> None:
        if progress is not None:
            progress(i / max(1, n), desc=f"Finding your face's latent: step {i} of {n}")

    u, figures = pipe.invert(face, on_step=step)
    said = f" The photo was {note}." if note else ""
    line = (f"Your photo is now a latent of {FACES_TITLES.get(model, model)} (right: what its generator can "
            f"draw of it). Reconstruction at 64 px: {figures['psnr_encoder']:.1f} dB PSNR from the encoder's "
            f"guess, {figures['psnr_refined']:.1f} dB after {faces_pipeline.INVERT_STEPS} optimisation steps.{said}")
    return u, faces_pipeline.upscale(square, size), pipe.images(u[None], size)[0], line


def seed_page(load: Callable[[], Any], start, count: int, thumb: int) -> tuple[list, int]:
    """A gallery page of a faces pipeline's faces: `count` seeds from `start` (cleaned, wrapping) ->
    ([(image, "seed N")], the cleaned start); ([], 0) while the model is not trained."""
    from core.pipelines.faces import MAX_SEED, clean_seed

    try:
        pipe = load()
    except NotTrainedError:
        return [], 0
    s = clean_seed(start)
    seeds = [(s + i) % (MAX_SEED + 1) for i in range(count)]
    return [(im, f"seed {sd}") for im, sd in zip(pipe.images(pipe.zs(seeds), thumb), seeds)], s
