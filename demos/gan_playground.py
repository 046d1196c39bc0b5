"""GAN playground tab: a tiny GAN (and a VAE beside it) trained live on 2D points, in the spirit
of GAN Lab: play / pause / step, six losses, D's decision surface, G's gradients on its points, and
the share of modes covered as a number (core.pipelines.playground)."""
from __future__ import annotations

import math

import gradio as gr
import numpy as np

from core.pipelines import playground as pg

from .common import ok, warn
from .inputs import number, refused, slider

# The playground's own queue group: its ticks never wait behind the image tabs' model slots
# (demos.common.HEAVY). All its compute runs on one thread anyway (core.playground.compute); two
# at a time lets one event draw its picture while the next computes.
PLAYGROUND = dict(concurrency_id="playground", concurrency_limit=2)
LR_CHOICES = ["1e-5", "2e-5", "5e-5", "1e-4", "2e-4", "5e-4", "1e-3", "2e-3", "5e-3", "1e-2"]
STEP_PRESS = 10  # generator steps per press of Step
PAD = 240  # px, the drawing pad
SEED_MAX = 999_999
DEFAULT_PRESET, DEFAULT_DATASET, DEFAULT_SPEED = "nonsaturating", "ring", 100


# ---- checking what a client sends (sliders and menus can be bypassed through the API) ----------

def _choice(value, choices, label: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise refused(f"{label}: choose one of {', '.join(choices)}.")
    return value


def _lr(value, label: str) -> float:
    """A learning rate from its menu: one of LR_CHOICES (a string, or the same number)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        value = next((c for c in LR_CHOICES if math.isclose(float(c), value)), value)
    return float(_choice(value, LR_CHOICES, label))


def _lr_text(value: float) -> str:
    """A preset's learning rate as its menu entry."""
    return next(c for c in LR_CHOICES if math.isclose(float(c), value))


def _flag(value, label: str) -> bool:
    if not isinstance(value, bool):
        raise refused(f"{label}: expected true or false.")
    return value


def _key(request: gr.Request | None) -> str:
    """The browser session a run belongs to."""
    key = getattr(request, "session_hash", None)
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise refused("The playground needs a browser session: open the page in a browser.")
    return key


def _settings(preset, lr_G, lr_D, d_steps, noise_dim, spectral) -> pg.Settings:
    base = pg.PRESETS[_choice(preset, list(pg.PRESETS), "Loss")][0]
    return base.changed(lr_G=_lr(lr_G, "Learning rate of G"), lr_D=_lr(lr_D, "Learning rate of D"),
                        d_steps=int(round(d_steps)), noise_dim=int(round(noise_dim)),
                        spectral=_flag(spectral, "Spectral norm on D"))


def _data(dataset, points):
    try:
        return pg.make_dataset(_choice(dataset, list(pg.DATASETS), "Data"), points)
    except ValueError as e:
        raise refused(f"Data: {e}.") from None


# ---- what the tab shows -------------------------------------------------------------------------

def _view(snap: pg.Snapshot) -> str:
    cov = snap.coverage
    return (f'<img id="pg-picture" src="{pg.data_url(pg.picture(snap))}" data-step="{snap.step}" '
            f'data-covered="{cov.covered}" data-modes="{cov.n_modes}" style="max-width:100%;height:auto" '
            f'alt="GAN and VAE samples at step {snap.step}: {cov.line()}">')


def _readout(snap: pg.Snapshot) -> str:
    cov, h = snap.coverage, snap.history
    line = (f"**GAN: {cov.covered}/{cov.n_modes} {cov.mode_word} covered**, "
            f"{100 * cov.on_data:.0f}% of its points within 3σ")
    if snap.vae_coverage is not None:
        v = snap.vae_coverage
        line += f" · VAE: {v.covered}/{v.n_modes}, {100 * v.on_data:.0f}% within 3σ"
    line += f" · step {snap.step:,}"
    if len(h):
        line += f" · loss_D {h[-1, 1]:.3g}, loss_G {h[-1, 2]:.3g}"
    return line


def _live() -> str:
    return f"{pg.manager().live()} of {pg.MAX_RUNS} playground runs live on this server"


def _shown(snap: pg.Snapshot):
    return _view(snap), _readout(snap)


# ---- events ---------------------------------------------------------------------------------------

class NoRoom(Exception):
    """A run cannot start: the playground is full, or there is no drawing to train on yet (the
    message says which; the tab shows it as a status line, not as an error)."""


def _start(key, dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points) -> pg.Snapshot:
    settings = _settings(preset, lr_G, lr_D, d_steps, noise_dim, spectral)
    if dataset == "drawn" and (points is None or len(points) < pg.MIN_POINTS):
        raise NoRoom("There is nothing drawn yet: open “Draw your own data” and click on the pad a few times.")
    data = _data(dataset, points)
    try:
        return pg.manager().start(key, data, settings, int(seed or 0))
    except pg.Full as e:
        raise NoRoom(str(e)) from None


def play(dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points, request: gr.Request):
    """-> (views, readout, status, timer): start a run if this page has none, then tick."""
    key = _key(request)
    m = pg.manager()
    try:
        shown = (gr.skip(), gr.skip()) if m.has(key) else _shown(
            _start(key, dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points))
    except NoRoom as e:
        return gr.skip(), gr.skip(), warn(str(e)), gr.Timer(active=False)
    return (*shown, ok(f"Playing. {_live()}."), gr.Timer(value=m.interval(), active=True))


def pause(request: gr.Request):
    run = pg.manager().run(_key(request))
    at = f" at step {run.step_count:,}" if run else ""
    return ok(f"Paused{at}. Step moves on by {STEP_PRESS} steps; Play goes on."), gr.Timer(active=False)


def step(dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points, request: gr.Request):
    """-> (views, readout, status): STEP_PRESS more steps (a run is started first if needed)."""
    key = _key(request)
    m = pg.manager()
    try:
        if not m.has(key):
            _start(key, dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points)
    except NoRoom as e:
        return gr.skip(), gr.skip(), warn(str(e))
    result = m.step(key, STEP_PRESS)
    if result is None:
        return gr.skip(), gr.skip(), warn("This run has just ended; press Step again for a new one.")
    snap, _ = result
    if snap is None:  # pressed again too soon, or at the end of the run: nothing new
        return gr.skip(), gr.skip(), ok(f"Finished: {pg.MAX_STEPS:,} steps. Reset for a new run.") \
            if m.finished(key) else gr.skip()
    return (*_shown(snap), ok(f"Step {snap.step:,}."))


def restart(dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points, request: gr.Request):
    """-> (views, readout, status): a new run from step 0 with the settings shown (Reset, and any
    change of data, loss, noise size, spectral norm or seed)."""
    key = _key(request)
    try:
        snap = _start(key, dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points)
    except NoRoom as e:
        return gr.skip(), gr.skip(), warn(str(e))
    return (*_shown(snap), ok(f"New run on “{pg.DATASETS[dataset]}”: {pg.LOSSES[preset]}. {_live()}."))


def choose_preset(dataset, preset, seed, points, request: gr.Request):
    """A loss preset: its settings into the controls, and a new run with them."""
    settings, note = pg.PRESETS[_choice(preset, list(pg.PRESETS), "Loss")]
    lr_G, lr_D = _lr_text(settings.lr_G), _lr_text(settings.lr_D)
    views, readout, status = restart(dataset, preset, lr_G, lr_D, settings.d_steps, settings.noise_dim,
                                     settings.spectral, seed, points, request)
    if "New run" in status:
        status = ok(f"{pg.LOSSES[preset]}: {note} D steps per G step {settings.d_steps}, lr {lr_G} / {lr_D}.")
    return lr_G, lr_D, settings.d_steps, settings.noise_dim, settings.spectral, views, readout, status


def retune(lr_G, lr_D, d_steps, request: gr.Request):
    """New learning rates or D steps: taken by the live run without a restart."""
    lr_G, lr_D = _lr(lr_G, "Learning rate of G"), _lr(lr_D, "Learning rate of D")
    if not pg.manager().retune(_key(request), lr_G, lr_D, int(round(d_steps))):
        return gr.skip()
    return ok(f"The run goes on with lr_G {lr_G:g}, lr_D {lr_D:g}, {int(round(d_steps))} D steps per G step.")


def tick(speed, request: gr.Request):
    """The timer: -> (views, readout, status, timer). A chunk of steps within this run's rate and
    its share of the playground's CPU budget (core.playground.manager), and the new picture."""
    key = _key(request)
    m = pg.manager()
    result = m.tick(key, speed)
    if result is None:
        ended = warn(f"This run has ended (its tab was idle for {pg.IDLE_S / 60:.0f} minutes, or the server "
                     "restarted). Press Play for a new one.")
        return gr.skip(), gr.skip(), ended, gr.Timer(active=False)
    snap, _ = result
    if m.finished(key):
        return (*(_shown(snap) if snap else (gr.skip(), gr.skip())),
                ok(f"Finished: {pg.MAX_STEPS:,} steps. Reset for a new run."), gr.Timer(active=False))
    if snap is None:  # nothing new (no step was due, or the run was replaced meanwhile)
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    interval = m.timer_interval(key)
    return (*_shown(snap), gr.skip(), gr.skip() if interval is None else gr.Timer(value=interval, active=True))


def add_points(evt: gr.SelectData, points, dataset, request: gr.Request):
    """A click on the pad adds a small cloud of points there: -> (points, pad, status)."""
    index = getattr(evt, "index", None)
    if not (isinstance(index, (list, tuple)) and len(index) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= PAD
                    for v in index)):
        raise refused("The click's position must be two pixel coordinates on the pad.")
    old = np.zeros((0, 2), np.float32) if points is None else np.asarray(points, np.float32).reshape(-1, 2)
    if len(old) + pg.BLOB_POINTS > pg.MAX_POINTS:
        return gr.skip(), gr.skip(), warn(f"The pad holds at most {pg.MAX_POINTS:,} points: clear it to draw anew.")
    new = np.concatenate([old, pg.blob(*pg.pad_to_view(*index, size=PAD), np.random.default_rng())])
    if dataset != "drawn":
        status = ok(f"{len(new)} points drawn. Choose “{pg.DATASETS['drawn']}” as the data to train on them.")
    elif len(new) >= pg.MIN_POINTS and pg.manager().set_data(_key(request), pg.make_dataset("drawn", new)):
        status = ok(f"{len(new)} points: the run trains on them from now on.")
    else:
        status = ok(f"{len(new)} points drawn: press Play or Reset to train on them.")
    return new, pg.pad_image(new, PAD), status


def clear_points():
    return None, pg.pad_image(None, PAD), ok("Pad cleared.")


def drop(request: gr.Request):
    """The tab closed (Gradio's unload event): end its run at once."""
    key = getattr(request, "session_hash", None)
    if isinstance(key, str):
        pg.manager().drop(key)


def _first_view() -> tuple[str, str]:
    """The picture before anything runs: a fresh run's step 0 (drawn once, when the tab is built)."""
    return (_view(pg.preview(DEFAULT_DATASET, DEFAULT_PRESET)),
            "Press **Play**: the generator (purple) learns to make points like the data (green).")


# ---- the tab --------------------------------------------------------------------------------------

INTRO = """## GAN playground: 2D GANs trained live
A generator **G** turns random noise into points (purple); a discriminator **D** learns to tell them
from the data (green). The background is D's verdict (green: "real", purple: "fake"); the short lines
show where G's loss pushes each of its points. **Modes covered**, under the picture, counts the
data's modes that get at least a quarter of their fair share of G's points within 3σ: a generator
that makes only a few of them has *collapsed*. The non-saturating preset (a strong D) collapses on
the ring; WGAN-GP and hinge with spectral norm cover all 8 (so does the collapsing preset once you
tick spectral norm). The VAE beside it learns the same data by likelihood: it misses no mode, but
blurs them into each other.

Every visitor gets their own run; all runs together train on at most {share:.0%} of one CPU core,
so with many visitors each one trains more slowly (at most {runs} runs at once)."""


def build(demo: gr.Blocks) -> None:
    first_view, first_readout = _first_view()
    settings = pg.PRESETS[DEFAULT_PRESET][0]
    gr.Markdown(INTRO.format(share=pg.CPU_SHARE, runs=pg.MAX_RUNS))
    points = gr.State(None)
    timer = gr.Timer(pg.TICK_S, active=False)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            views = gr.HTML(first_view, elem_id="pg-views")
            readout = gr.Markdown(first_readout, elem_id="pg-coverage")
        with gr.Column(scale=2, min_width=320):
            with gr.Row():
                play_btn = gr.Button("Play", variant="primary", elem_id="pg-play", min_width=60)
                pause_btn = gr.Button("Pause", elem_id="pg-pause", min_width=60)
                step_btn = gr.Button("Step", elem_id="pg-step", min_width=60)  # STEP_PRESS steps
                reset_btn = gr.Button("Reset", elem_id="pg-reset", min_width=60)
            status = gr.Markdown("", elem_id="pg-status")
            speed = slider(5, pg.MAX_RATE, value=DEFAULT_SPEED, step=5, label="Speed: steps per second, at most",
                           elem_id="pg-speed")
            dataset = gr.Dropdown([(t, k) for k, t in pg.DATASETS.items()], value=DEFAULT_DATASET, label="Data",
                                  elem_id="pg-data")
            preset = gr.Dropdown([(t, k) for k, t in pg.LOSSES.items()], value=DEFAULT_PRESET,
                                 label="Loss (sets the controls below)", elem_id="pg-loss")
            with gr.Row():
                lr_G = gr.Dropdown(LR_CHOICES, value=_lr_text(settings.lr_G), label="lr of G",
                                   elem_id="pg-lr-g", min_width=100)
                lr_D = gr.Dropdown(LR_CHOICES, value=_lr_text(settings.lr_D), label="lr of D",
                                   elem_id="pg-lr-d", min_width=100)
            d_steps = slider(*pg.D_STEPS_RANGE, value=settings.d_steps, step=1, label="D steps per G step",
                             elem_id="pg-d-steps")
            noise_dim = slider(*pg.NOISE_DIM_RANGE, value=settings.noise_dim, step=1, label="Noise dimensions",
                               elem_id="pg-noise")
            with gr.Row():
                spectral = gr.Checkbox(settings.spectral, label="Spectral norm on D", elem_id="pg-spectral")
                seed = number(0, minimum=0, maximum=SEED_MAX, precision=0, label="Seed", elem_id="pg-seed",
                              min_width=100)
            with gr.Accordion("Draw your own data", open=False):
                gr.Markdown("Click on the pad: each click adds a small cloud of points. Then choose "
                            f"“{pg.DATASETS['drawn']}” as the data.")
                pad = gr.Image(pg.pad_image(None, PAD), type="pil", interactive=False, show_label=False,
                               elem_id="pg-pad", height=PAD, width=PAD)
                clear = gr.Button("Clear the pad", elem_id="pg-clear")

    conf = [dataset, preset, lr_G, lr_D, d_steps, noise_dim, spectral, seed, points]
    shown = [views, readout, status]
    play_btn.click(play, conf, [*shown, timer], api_name=False, **PLAYGROUND)
    pause_btn.click(pause, None, [status, timer], api_name=False)
    step_btn.click(step, conf, shown, api_name=False, **PLAYGROUND)
    reset_btn.click(restart, conf, shown, api_name=False, **PLAYGROUND)
    for ctl in (dataset, noise_dim, spectral, seed):
        ctl.input(restart, conf, shown, api_name=False, trigger_mode="always_last", **PLAYGROUND)
    preset.input(choose_preset, [dataset, preset, seed, points], [lr_G, lr_D, d_steps, noise_dim, spectral, *shown],
                 api_name=False, **PLAYGROUND)
    for ctl in (lr_G, lr_D, d_steps):
        ctl.input(retune, [lr_G, lr_D, d_steps], [status], api_name=False, trigger_mode="always_last", **PLAYGROUND)
    timer.tick(tick, [speed], [views, readout, status, timer], api_name=False, show_progress="hidden", **PLAYGROUND)
    pad.select(add_points, [points, dataset], [points, pad, status], api_name=False, **PLAYGROUND)
    clear.click(clear_points, None, [points, pad, status], api_name=False)
    demo.unload(drop)


if __name__ == "__main__":  # python -m demos.gan_playground: this tab alone
    from .server import serve_tab

    serve_tab(build, "GAN playground")
