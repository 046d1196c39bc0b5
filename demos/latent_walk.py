"""Latent walk tab: slide between two generated faces; a strip, a GIF and a 2D latent map."""
from __future__ import annotations


import gradio as gr
import numpy as np

from core.pipelines import NotTrainedError
from core.pipelines import face_arithmetic as arith_pipeline
from core.pipelines import faces as pipeline
from core.pipelines.faces import MODES, clean_seed, from_array, gif_bytes, map_grid, orthogonal_directions, to_array

from .common import (HEAVY, NOT_TRAINED, POOL_WAIT, await_pool, face_arithmetic, notice, ok, on_first_open, scratch_file,
                     seed_page, share, warn)
from .inputs import number, picked, slider

NAME = "faces"
GALLERY_SIZE = 12
RANDOM = "random direction"
BIG, THUMB = 192, 96
# The map's default reach along each axis (latent units; a sample's |z| is about 10). Chosen by
# looking at the maps of several faces (docs/RESULTS.md): at 3 every face of the default map (Smiling
# x Male) is a face; from about 4 on, a corner turns into washed-out, blue-white half-faces.
MAP_REACH = 3.0
FAR = 1.3  # |z| beyond FAR * sqrt(D) (13 for D = 100; samples: 10 +- 0.7) is far outside what the generator saw


def _num(value, lo: float, hi: float, default: float) -> float:
    """A slider/number value clamped to [lo, hi]; default for None/NaN/garbage."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return default if not np.isfinite(v) else float(min(hi, max(lo, v)))


def _pipe():
    return pipeline.load(NAME)


def _z(state, seed, pipe):
    """The face's latent: the map's pick (state) if any, else the seed's."""
    z = from_array(state, pipe.z_dim) if state else None
    return z if z is not None else pipe.z(seed)


def face(seed, pick=None):
    """-> the face of a seed (or of the map's pick) at display size; None when untrained."""
    try:
        pipe = _pipe()
    except NotTrainedError:
        return None
    return pipe.images(_z(pick, seed, pipe), BIG)[0]


def _ends(seed_a, seed_b, pick_a):
    pipe = _pipe()
    return pipe, _z(pick_a, seed_a, pipe), _z(None, seed_b, pipe)


def walk(seed_a, seed_b, mode, steps, t, pick_a=None):
    """Seeds (or the map's pick for A) -> (face at t, strip of `steps` faces, status)."""
    try:
        pipe, za, zb = _ends(seed_a, seed_b, pick_a)
    except NotTrainedError:
        return None, None, warn(NOT_TRAINED.format(name=NAME))
    mode = mode if mode in MODES else "slerp"
    n = int(_num(steps, 2, 16, 8))
    t = _num(t, 0.0, 1.0, 0.5)
    path = pipe.walk(za, zb, n, mode)
    faces = pipe.images(path, THUMB)
    norms = path.norm(dim=1)
    return (pipe.images(pipeline.interpolate(za, zb, t, mode), BIG)[0], pipeline.strip(faces),
            ok(f"{mode} · {n} steps · |z| along the path {norms.min():.1f}–{norms.max():.1f} "
               f"(Gaussian samples: ≈{np.sqrt(pipe.z_dim):.1f})"))


def path_z(seed_a, seed_b, mode, t, pick_a=None):
    """The latent of the face on the path at t ([1, z_dim]); raises NotTrainedError."""
    pipe, za, zb = _ends(seed_a, seed_b, pick_a)
    return pipeline.interpolate(za, zb, _num(t, 0, 1, 0.5), mode if mode in MODES else "slerp")


def at_t(seed_a, seed_b, mode, t, pick_a=None):
    """The slider's face only (one decode: fast enough to follow the slider)."""
    try:
        return _pipe().images(path_z(seed_a, seed_b, mode, t, pick_a), BIG)[0]
    except NotTrainedError:
        return None


def make_gif(seed_a, seed_b, mode, seconds, pick_a=None):
    """-> (GIF file path for download, same for preview, status)."""
    try:
        pipe, za, zb = _ends(seed_a, seed_b, pick_a)
    except NotTrainedError:
        return None, None, warn(NOT_TRAINED.format(name=NAME))
    mode = mode if mode in MODES else "slerp"
    frames = pipe.images(pipe.walk(za, zb, 24, mode), 160)
    data = gif_bytes(frames, seconds=_num(seconds, 0.5, 10, 2.0))
    path = scratch_file("latent_walk.gif")
    path.write_bytes(data)
    return str(path), str(path), ok(f"GIF: 24 frames there and back, {len(data) // 1024} KB")


def gallery(start):
    """A page of sample faces: (gallery items, cleaned start seed)."""
    return seed_page(_pipe, start, GALLERY_SIZE, THUMB)


def direction_choices() -> list[str]:
    """The map's axes: a random direction, or an attribute direction (the classifier's names, read
    from its config: no model is loaded to build the tab)."""
    try:
        return [RANDOM] + arith_pipeline.direction_names() if arith_pipeline.has_checkpoints() else [RANDOM]
    except (OSError, ValueError, KeyError):
        return [RANDOM]


def _direction(name, pipe, seed, which: int):
    if name and name != RANDOM:
        try:
            return face_arithmetic().direction(name), name
        except (NotTrainedError, KeyError, LookupError, ValueError):
            pass
    return orthogonal_directions(pipe.z_dim, seed)[which], RANDOM


def await_map_pool(dir_x, dir_y):
    """Before a map with an attribute axis: the labelled pool behind the directions, with its
    progress in the map's status line while it is being labelled (the first start on a machine)."""
    if dir_x in (None, RANDOM) and dir_y in (None, RANDOM):
        yield gr.skip()
        return
    yield from await_pool()


def latent_map(seed_a, dir_x, dir_y, size, span, seed, pick_a=None):
    """-> (gallery of size x size faces around face A, their latents, status)."""
    try:
        pipe = _pipe()
    except NotTrainedError:
        return [], None, warn(NOT_TRAINED.format(name=NAME))
    za = _z(pick_a, seed_a, pipe)
    n = int(_num(size, 3, 9, 5))
    n += 1 - n % 2  # odd, so face A sits in the middle
    span = _num(span, 0.0, 20.0, MAP_REACH)
    dx, name_x = _direction(dir_x, pipe, seed, 0)
    dy, name_y = _direction(dir_y, pipe, seed, 1)
    if name_x == name_y != RANDOM:  # the same attribute twice would only fill a diagonal
        dy, name_y = orthogonal_directions(pipe.z_dim, seed)[1], RANDOM
    zs = map_grid(za, dx, dy, n, span)
    faces = pipe.images(zs, THUMB)
    items = [(im, "A" if i == len(zs) // 2 else None) for i, im in enumerate(faces)]
    norms = zs.norm(dim=1)
    cos = float(dx @ dy / (dx.norm() * dy.norm()).clamp_min(1e-8))
    shared = (f" (↑ is the part of {name_y} not along {name_x}: the two directions share cos {cos:+.2f})"
              if abs(cos) > 0.05 else "")
    line = (f"{n}×{n} faces: → {name_x}, ↑ {name_y}{shared}, reach ±{span:.1f}; |z| on the map "
            f"{norms.min():.1f}–{norms.max():.1f} (samples: ≈{np.sqrt(pipe.z_dim):.0f}). "
            "Click a face to make it face A.")
    far = FAR * np.sqrt(pipe.z_dim)
    if float(norms.max()) > far:
        return (gr.update(value=items, columns=n), [to_array(z) for z in zs],
                warn(f"{line} The outer faces lie far outside where the generator was trained (|z| over {far:.0f}): "
                     f"expect washed-out half-faces there; a reach of about {MAP_REACH:.0f} keeps to faces."))
    return gr.update(value=items, columns=n), [to_array(z) for z in zs], ok(line)


def build(demo: gr.Blocks, tab: gr.Tab | None = None) -> None:
    """The tab; its first faces are drawn when `tab` is first selected (in the whole app), or at
    page load (this tab alone)."""
    trained = pipeline.has_checkpoint(NAME)
    if not trained:
        notice("Latent walk (DCGAN faces)", NOT_TRAINED.format(name=NAME))
    gr.Markdown(
        "## Latent walk (DCGAN faces)\nEvery face here is decoded from 100 random numbers `z`. Walk from face A "
        "to face B: **lerp** follows the straight line, **slerp** the great circle, which keeps `|z|` at the size "
        "the generator saw in training (the straight line's middle is ~30% shorter, a blander face).")
    pick_a, map_z = gr.State(None), gr.State(None)  # a face A picked on the map (a latent, not a seed)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            with gr.Row():
                seed_a = number(11, label="Face A: seed", precision=0, elem_id="walk-seed-a")
                seed_b = number(42, label="Face B: seed", precision=0, elem_id="walk-seed-b")
            with gr.Row():
                mode = gr.Radio(list(MODES), value="slerp", label="Path", elem_id="walk-mode")
                steps = slider(2, 16, value=8, step=1, label="Steps in the strip", elem_id="walk-steps")
            target = gr.Radio(["A", "B"], value="A", label="Clicking a sample sets face", elem_id="walk-target")
            samples = gr.Gallery(label="Samples (click one)", columns=4, allow_preview=False, object_fit="contain",
                                 elem_id="walk-gallery")
            with gr.Row():
                page = number(100, label="Samples from seed", precision=0, elem_id="walk-page")
                more = gr.Button("More faces", elem_id="walk-more")
        with gr.Column(scale=3):
            with gr.Row():
                img_a = gr.Image(label="A", type="pil", interactive=False, height=BIG)
                img_t = gr.Image(label="On the path", type="pil", interactive=False, height=BIG, elem_id="walk-face")
                img_b = gr.Image(label="B", type="pil", interactive=False, height=BIG)
            t = slider(0, 1, value=0.5, step=0.01, label="Position along the path (A → B)", elem_id="walk-t")
            # Wired and shown by a later tab that takes a face (inpainting), when the app has one.
            send = gr.Button("Send the face on the path to inpainting →", visible=False, size="sm",
                             elem_id="walk-send")
            strip = gr.Image(label="The walk", type="pil", interactive=False, elem_id="walk-strip")
            status = gr.Markdown("", elem_id="walk-status")
            with gr.Row():
                seconds = slider(0.5, 6, value=2, step=0.5, label="GIF: seconds one way")
                gif_btn = gr.Button("Make GIF", elem_id="walk-gif-btn")
            with gr.Row():
                gif_view = gr.Image(label="GIF", type="filepath", interactive=False, height=160)
                gif_file = gr.File(label="Download", elem_id="walk-gif-file")
            gif_status = gr.Markdown("", elem_id="walk-gif-status")  # its own line: a walk can't overwrite it
    with gr.Accordion("2D map: faces along two directions around face A", open=False):
        choices = direction_choices()
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                with gr.Row():
                    dir_x = gr.Dropdown(choices, value=choices[1] if len(choices) > 1 else RANDOM,
                                        label="→ direction", elem_id="map-x", min_width=140)
                    dir_y = gr.Dropdown(choices, value=choices[2] if len(choices) > 2 else RANDOM,
                                        label="↑ direction", elem_id="map-y", min_width=140)
                size = slider(3, 9, value=5, step=2, label="Faces per side", elem_id="map-size")
                span = slider(0.5, 20, value=MAP_REACH, step=0.5, label="Reach (a sample's |z| is ≈ 10)",
                              elem_id="map-span")
                with gr.Row():
                    map_seed = number(0, label="Random directions: seed", precision=0, min_width=140)
                    map_btn = gr.Button("Draw map", elem_id="map-btn", variant="primary", min_width=120)
                map_status = gr.Markdown("", elem_id="map-status")
            with gr.Column(scale=3):
                # lab-fit (CSS): the gallery grows to show every row (capped at 55 % of the window, it cut the last off)
                grid = gr.Gallery(label="Latent map (click to jump)", columns=5, allow_preview=False, height="auto",
                                  object_fit="contain", elem_id="map-gallery", elem_classes=["lab-fit"])

    share(demo, "latent_walk.send", (send, [seed_a, seed_b, mode, t, pick_a]))  # path_z's arguments
    walk_in = [seed_a, seed_b, mode, steps, t, pick_a]
    walk_out = [img_t, strip, status]

    def cleaned(seed):
        """The cleaned seed (wrapped, no NaN) to show in the box, or gr.skip() when the box already
        shows it: writing an unchanged value back would overwrite a gallery click made meanwhile."""
        s = clean_seed(seed)
        return gr.skip() if isinstance(seed, (int, float)) and seed == s else s

    def new_seed(seed):
        """A typed seed replaces any map pick."""
        return face(clean_seed(seed)), None, cleaned(seed)

    seed_a.change(new_seed, [seed_a], [img_a, pick_a, seed_a], api_name=False, **HEAVY).then(
        walk, walk_in, walk_out, api_name=False, **HEAVY)
    seed_b.change(lambda sd: (face(sd), cleaned(sd)), [seed_b], [img_b, seed_b], api_name=False, **HEAVY).then(
        walk, walk_in, walk_out, api_name=False, **HEAVY)
    for ctl in (mode, steps):
        ctl.change(walk, walk_in, walk_out, api_name=False, **HEAVY)
    t.input(at_t, [seed_a, seed_b, mode, t, pick_a], [img_t], api_name=False, trigger_mode="always_last", **HEAVY)
    t.release(walk, walk_in, walk_out, api_name="walk", **HEAVY)
    gif_btn.click(make_gif, [seed_a, seed_b, mode, seconds, pick_a], [gif_file, gif_view, gif_status], api_name="gif",
                  **HEAVY)
    more.click(lambda p: (clean_seed(p) + GALLERY_SIZE) % (pipeline.MAX_SEED + 1), [page], [page], api_name=False)
    page.change(gallery, [page], [samples, page], api_name=False, **HEAVY)

    def pick(evt: gr.SelectData, which, start):
        i = picked(evt, GALLERY_SIZE)
        if i is None:
            return gr.skip(), gr.skip()
        seed = (clean_seed(start) + i) % (pipeline.MAX_SEED + 1)
        return (seed, gr.skip()) if which != "B" else (gr.skip(), seed)

    samples.select(pick, [target, page], [seed_a, seed_b], api_name=False)

    map_in = [seed_a, dir_x, dir_y, size, span, map_seed, pick_a]
    map_btn.click(await_map_pool, [dir_x, dir_y], [map_status], api_name=False, **POOL_WAIT).then(
        latent_map, map_in, [grid, map_z, map_status], api_name="latent_map", **HEAVY)

    def jump(evt: gr.SelectData, zs):
        i = picked(evt, len(zs or []))
        if i is None:
            return gr.skip(), gr.skip()
        return face(None, zs[i]), zs[i]

    grid.select(jump, [map_z], [img_a, pick_a], api_name=False, **HEAVY).then(
        walk, walk_in, walk_out, api_name=False, **HEAVY).then(
        latent_map, map_in, [grid, map_z, map_status], api_name=False, **HEAVY)

    if trained:
        def first(sa, sb, p):
            return face(sa), face(sb), gallery(p)[0]

        on_first_open(demo, tab, fn=first, inputs=[seed_a, seed_b, page], outputs=[img_a, img_b, samples],
                      api_name=False, **HEAVY).then(walk, walk_in, walk_out, api_name=False, **HEAVY)


if __name__ == "__main__":  # python -m demos.latent_walk: this tab alone
    from .server import serve_tab

    serve_tab(build, "Latent walk")
