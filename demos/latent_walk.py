"""Latent walk tab: slide between two faces (generated, or your photo with faces v2); a strip, a GIF
and a 2D latent map. A switch picks the faces model (DCGAN | v2) when both are shipped."""
from __future__ import annotations


import gradio as gr
import numpy as np

from core.pipelines import NotTrainedError
from core.pipelines import face_arithmetic as arith_pipeline
from core.pipelines import faces as pipeline
from core.pipelines.faces import MODES, clean_seed, from_array, gif_bytes, map_grid, orthogonal_directions, to_array
from core.registry import get_spec

from .common import (FACES_TITLES, HEAVY, NOT_TRAINED, PHOTO_FACES, POOL_WAIT, await_pool, face_arithmetic,
                     faces_model, faces_switch, kept_latent, latent_of, notice, ok, on_first_open, photo_inputs,
                     scratch_file, seed_page, share, shipped_faces, try_photo, warn)
from .inputs import number, picked, slider

NAME = "faces"  # the paper's DCGAN: the inpainting tab's GAN prior decodes its latents (path_z)
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


def _pipe(model=None):
    """The faces pipeline of the switch's model (faces_model: a forged or missing name gives the default)."""
    return pipeline.load(faces_model(model))


def _z(state, seed, pipe, model: str):
    """The face's latent [z_dim]: a pick kept in a State (the map's, or your photo's) if it is this
    model's, else the seed's."""
    z = latent_of(state, model, pipe.z_dim) if state else None
    return z if z is not None else pipe.z(seed)


def _is_photo(pick) -> bool:
    """Whether a kept pick is an uploaded photo's latent (common.kept_latent's "what")."""
    return isinstance(pick, dict) and pick.get("what") == "your photo"


def z_dim_of(model: str) -> int:
    """A faces model's latent size, from the registry (no weights loaded: the tab's texts are built with it)."""
    return get_spec(model).nets["G"].z_dim


def header(model) -> str:
    """The tab's title and first lines, for the selected faces model."""
    m = faces_model(model)
    photo = (" Its encoder also finds the numbers of a real face: upload your photo and walk from it."
             if m == PHOTO_FACES else "")
    return (f"## Latent walk ({FACES_TITLES.get(m, m)})\nEvery face here is decoded from {z_dim_of(m)} random "
            f"numbers `z`.{photo} Walk from face A to face B: **lerp** follows the straight line, **slerp** the great "
            "circle, which keeps `|z|` at the size the generator saw in training (the straight line's middle is ~30% "
            "shorter, a blander face).")


def reach_label(model) -> str:
    return f"Reach (a sample's |z| is ≈ {np.sqrt(z_dim_of(faces_model(model))):.0f})"


def face(seed, pick=None, model=None):
    """-> the face of a seed (or of a kept pick: the map's, your photo's) at display size; None when untrained."""
    m = faces_model(model)
    try:
        pipe = pipeline.load(m)
    except NotTrainedError:
        return None
    return pipe.images(_z(pick, seed, pipe, m), BIG)[0]


def _ends(seed_a, seed_b, pick_a, pick_b, model):
    """-> (pipeline, z_A [z_dim], z_B [z_dim]); raises NotTrainedError."""
    pipe = pipeline.load(model)
    return pipe, _z(pick_a, seed_a, pipe, model), _z(pick_b, seed_b, pipe, model)


def walk(seed_a, seed_b, mode, steps, t, pick_a=None, pick_b=None, model=None):
    """Seeds (or kept picks: the map's for A, your photo's for A or B) -> (face at t, strip of `steps`
    faces, status)."""
    m = faces_model(model)
    try:
        pipe, za, zb = _ends(seed_a, seed_b, pick_a, pick_b, m)
    except NotTrainedError:
        return None, None, warn(NOT_TRAINED.format(name=m))
    mode = mode if mode in MODES else "slerp"
    n = int(_num(steps, 2, 16, 8))
    t = _num(t, 0.0, 1.0, 0.5)
    path = pipe.walk(za, zb, n, mode)
    faces = pipe.images(path, THUMB)
    norms = path.norm(dim=1)
    ends = [f"{key}: your photo" for key, pick in (("A", pick_a), ("B", pick_b))
            if _is_photo(pick) and latent_of(pick, m, pipe.z_dim) is not None]
    return (pipe.images(pipeline.interpolate(za, zb, t, mode), BIG)[0], pipeline.strip(faces),
            ok(f"{mode} · {n} steps · |z| along the path {norms.min():.1f}–{norms.max():.1f} "
               f"(Gaussian samples: ≈{np.sqrt(pipe.z_dim):.1f})" + "".join(f" · {e}" for e in ends)))


def path_z(seed_a, seed_b, mode, t, pick_a=None, pick_b=None, model=NAME):
    """The latent of the face on the path at t ([1, z_dim]) in `model` (another model's picks are
    ignored); raises NotTrainedError."""
    m = faces_model(model)
    pipe, za, zb = _ends(seed_a, seed_b, pick_a, pick_b, m)
    return pipeline.interpolate(za, zb, _num(t, 0, 1, 0.5), mode if mode in MODES else "slerp")


def path_face(seed_a, seed_b, mode, t, pick_a=None, pick_b=None, model=None, size: int = BIG):
    """The face on the path at t as the walk shows it (PIL, size px), decoded by the walk's own model
    (the inpainting tab's "send"); raises NotTrainedError."""
    m = faces_model(model)
    return pipeline.load(m).images(path_z(seed_a, seed_b, mode, t, pick_a, pick_b, m), size)[0]


def at_t(seed_a, seed_b, mode, t, pick_a=None, pick_b=None, model=None):
    """The slider's face only (one decode: fast enough to follow the slider)."""
    m = faces_model(model)
    try:
        return pipeline.load(m).images(path_z(seed_a, seed_b, mode, t, pick_a, pick_b, m), BIG)[0]
    except NotTrainedError:
        return None


def make_gif(seed_a, seed_b, mode, seconds, pick_a=None, pick_b=None, model=None):
    """-> (GIF file path for download, same for preview, status)."""
    m = faces_model(model)
    try:
        pipe, za, zb = _ends(seed_a, seed_b, pick_a, pick_b, m)
    except NotTrainedError:
        return None, None, warn(NOT_TRAINED.format(name=m))
    mode = mode if mode in MODES else "slerp"
    frames = pipe.images(pipe.walk(za, zb, 24, mode), 160)
    data = gif_bytes(frames, seconds=_num(seconds, 0.5, 10, 2.0))
    path = scratch_file("latent_walk.gif")
    path.write_bytes(data)
    return str(path), str(path), ok(f"GIF: 24 frames there and back, {len(data) // 1024} KB")


def gallery(start, model=None):
    """A page of sample faces: (gallery items, cleaned start seed)."""
    return seed_page(lambda: _pipe(model), start, GALLERY_SIZE, THUMB)


def direction_choices() -> list[str]:
    """The map's axes: a random direction, or an attribute direction (the classifier's names, read
    from its config: no model is loaded to build the tab)."""
    try:
        return [RANDOM] + arith_pipeline.direction_names() if arith_pipeline.has_checkpoints() else [RANDOM]
    except (OSError, ValueError, KeyError):
        return [RANDOM]


def _direction(name, pipe, seed, which: int, model: str):
    """An axis of the map: the attribute direction of `model`'s labelled pool, else a random one."""
    if name and name != RANDOM:
        try:
            return face_arithmetic(model).direction(name), name
        except (NotTrainedError, KeyError, LookupError, ValueError):
            pass
    return orthogonal_directions(pipe.z_dim, seed)[which], RANDOM


def await_map_pool(dir_x, dir_y, model=None):
    """Before a map with an attribute axis: the selected model's labelled pool behind the directions,
    with its progress in the map's status line while it is being labelled (the first start on a
    machine)."""
    if dir_x in (None, RANDOM) and dir_y in (None, RANDOM):
        yield gr.skip()
        return
    yield from await_pool(faces_model(model))


def latent_map(seed_a, dir_x, dir_y, size, span, seed, pick_a=None, model=None):
    """-> (gallery of size x size faces around face A, their latents [[z_dim] ...], status)."""
    m = faces_model(model)
    try:
        pipe = pipeline.load(m)
    except NotTrainedError:
        return [], None, warn(NOT_TRAINED.format(name=m))
    za = _z(pick_a, seed_a, pipe, m)
    n = int(_num(size, 3, 9, 5))
    n += 1 - n % 2  # odd, so face A sits in the middle
    span = _num(span, 0.0, 20.0, MAP_REACH)
    dx, name_x = _direction(dir_x, pipe, seed, 0, m)
    dy, name_y = _direction(dir_y, pipe, seed, 1, m)
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


# ---- the model switch and your photo -------------------------------------------------------------
# What else changes with the model, beside the picks and faces A and B: the header, the samples, the
# map (cleared: its latents were the other model's), the reach slider's label.
N_MODEL_OUT = 6


def _model_outputs(model: str, page) -> tuple:
    """-> (header, samples, map gallery, map latents, map status, reach slider) for `model`."""
    return (header(model), gallery(page, model)[0], gr.update(value=[]), None, "",
            gr.update(label=reach_label(model)))


def switched(model, seed_a, seed_b, pick_a, pick_b, page):
    """The switch moved to `model`: kept picks of the other model are dropped (its latents mean other
    faces, or do not fit), and everything else follows. -> (pick A, pick B, face A, face B, photo
    square, its reconstruction, photo status, *_model_outputs)."""
    m = faces_model(model)
    kept = [pick if isinstance(pick, dict) and pick.get("model") == m else None for pick in (pick_a, pick_b)]
    if any(_is_photo(pick) and k is None for pick, k in zip((pick_a, pick_b), kept)):
        photo = (None, None, ok(f"Your photo's latent belongs to {FACES_TITLES[PHOTO_FACES]}, so on this model faces A "
                                "and B are seeds again. Upload it again to walk from it (the switch moves back)."))
    else:
        photo = (gr.skip(),) * 3
    return (*kept, face(seed_a, kept[0], m), face(seed_b, kept[1], m), *photo, *_model_outputs(m, page))


def from_photo(path, target, model, pick_a, pick_b, progress=gr.Progress()):
    """An uploaded face photo -> its latent in the model with an encoder (faces v2: the switch moves
    there), made face A or B (`target`), shown beside the photo's face square as the generator draws
    it. -> (switch, pick A, pick B, photo square, reconstruction, photo status, moved: whether the
    switch moved); photo_shown (chained) then draws faces A and B. Bad files get a message, never
    an error (and leave everything else as it was)."""
    got = try_photo(path, BIG, progress, PHOTO_FACES in shipped_faces(), NOT_TRAINED.format(name=PHOTO_FACES))
    if isinstance(got, str):
        return (*(gr.skip(),) * 5, got, False)
    u, square, recon, line = got
    m, moved = PHOTO_FACES, faces_model(model) != PHOTO_FACES
    mine = kept_latent(u, m, "your photo")
    b = target == "B"
    other = pick_a if b else pick_b
    other = other if isinstance(other, dict) and other.get("model") == m else None  # the other model's: let go
    note = f" The switch moved to {FACES_TITLES[m]}, the model that takes photos." if moved else ""
    return (m, *((other, mine) if b else (mine, other)), square, recon,
            ok(f"Face {'B' if b else 'A'} is your photo now.{note} {line}"), moved)


def photo_shown(moved, seed_a, seed_b, pick_a, pick_b, page, model):
    """After from_photo: faces A and B as they now are, and, when the switch moved, the rest of the
    tab for the new model. -> (face A, face B, *_model_outputs or skips)."""
    m = faces_model(model)
    rest = _model_outputs(m, page) if moved is True else (gr.skip(),) * N_MODEL_OUT
    return (face(seed_a, pick_a, m), face(seed_b, pick_b, m), *rest)


def build(demo: gr.Blocks, tab: gr.Tab | None = None) -> None:
    """The tab; its first faces are drawn when `tab` is first selected (in the whole app), or at
    page load (this tab alone)."""
    shipped = shipped_faces()
    trained = bool(shipped)
    if not trained:
        notice("Latent walk (DCGAN faces)", NOT_TRAINED.format(name=NAME))
    first_model = shipped[0] if shipped else NAME
    title = gr.Markdown(header(first_model), elem_id="walk-header")
    model = faces_switch(shipped, "walk-model")
    # Faces A and B picked as latents rather than seeds (the map's, your photo's), each with its model.
    pick_a, pick_b, map_z = gr.State(None), gr.State(None), gr.State(None)
    photos = PHOTO_FACES in shipped
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            with gr.Row():
                seed_a = number(11, label="Face A: seed", precision=0, elem_id="walk-seed-a")
                seed_b = number(42, label="Face B: seed", precision=0, elem_id="walk-seed-b")
            with gr.Row():
                mode = gr.Radio(list(MODES), value="slerp", label="Path", elem_id="walk-mode")
                steps = slider(2, 16, value=8, step=1, label="Steps in the strip", elem_id="walk-steps")
            target = gr.Radio(["A", "B"], value="A", elem_id="walk-target",
                              label="Clicking a sample (or uploading a photo) sets face" if photos
                              else "Clicking a sample sets face")
            if photos:  # v2's encoder: a photo becomes a latent (shown only when that model is shipped)
                photo, crop, recon, photo_status = photo_inputs("walk")
            else:
                crop = recon = photo_status = None
            samples = gr.Gallery(label="Samples (click one)", columns=4, allow_preview=False, object_fit="contain",
                                 elem_id="walk-gallery")
            with gr.Row():
                page = number(100, label="Samples from seed", precision=0, elem_id="walk-page")
                more = gr.Button("More faces", elem_id="walk-more")
        with gr.Column(scale=3):
            with gr.Row():
                img_a = gr.Image(label="A", type="pil", interactive=False, height=BIG, elem_id="walk-a")
                img_t = gr.Image(label="On the path", type="pil", interactive=False, height=BIG, elem_id="walk-face")
                img_b = gr.Image(label="B", type="pil", interactive=False, height=BIG, elem_id="walk-b")
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
                span = slider(0.5, 20, value=MAP_REACH, step=0.5, label=reach_label(first_model),
                              elem_id="map-span")
                with gr.Row():
                    map_seed = number(0, label="Random directions: seed", precision=0, min_width=140)
                    map_btn = gr.Button("Draw map", elem_id="map-btn", variant="primary", min_width=120)
                map_status = gr.Markdown("", elem_id="map-status")
            with gr.Column(scale=3):
                # lab-fit (CSS): the gallery grows to show every row (capped at 55 % of the window, it cut the last off)
                grid = gr.Gallery(label="Latent map (click to jump)", columns=5, allow_preview=False, height="auto",
                                  object_fit="contain", elem_id="map-gallery", elem_classes=["lab-fit"])

    share(demo, "latent_walk.send", (send, [seed_a, seed_b, mode, t, pick_a, pick_b, model]))  # path_face's
    walk_in = [seed_a, seed_b, mode, steps, t, pick_a, pick_b, model]
    walk_out = [img_t, strip, status]
    model_out = [title, samples, grid, map_z, map_status, span]
    photo_out = [crop, recon, photo_status]

    def cleaned(seed):
        """The cleaned seed (wrapped, no NaN) to show in the box, or gr.skip() when the box already
        shows it: writing an unchanged value back would overwrite a gallery click made meanwhile."""
        s = clean_seed(seed)
        return gr.skip() if isinstance(seed, (int, float)) and seed == s else s

    def new_seed(seed, m):
        """A typed seed replaces any kept pick (the map's, your photo's)."""
        return face(clean_seed(seed), None, m), None, cleaned(seed)

    seed_a.change(new_seed, [seed_a, model], [img_a, pick_a, seed_a], api_name=False, **HEAVY).then(
        walk, walk_in, walk_out, api_name=False, **HEAVY)
    seed_b.change(new_seed, [seed_b, model], [img_b, pick_b, seed_b], api_name=False, **HEAVY).then(
        walk, walk_in, walk_out, api_name=False, **HEAVY)
    for ctl in (mode, steps):
        ctl.change(walk, walk_in, walk_out, api_name=False, **HEAVY)
    t.input(at_t, [seed_a, seed_b, mode, t, pick_a, pick_b, model], [img_t], api_name=False,
            trigger_mode="always_last", **HEAVY)
    t.release(walk, walk_in, walk_out, api_name="walk", **HEAVY)
    gif_btn.click(make_gif, [seed_a, seed_b, mode, seconds, pick_a, pick_b, model], [gif_file, gif_view, gif_status],
                  api_name="gif", **HEAVY)
    more.click(lambda p: (clean_seed(p) + GALLERY_SIZE) % (pipeline.MAX_SEED + 1), [page], [page], api_name=False)
    page.change(gallery, [page, model], [samples, page], api_name=False, **HEAVY)

    def pick(evt: gr.SelectData, which, start):
        i = picked(evt, GALLERY_SIZE)
        if i is None:
            return gr.skip(), gr.skip()
        seed = (clean_seed(start) + i) % (pipeline.MAX_SEED + 1)
        return (seed, gr.skip()) if which != "B" else (gr.skip(), seed)

    samples.select(pick, [target, page], [seed_a, seed_b], api_name=False)

    map_in = [seed_a, dir_x, dir_y, size, span, map_seed, pick_a, model]
    map_btn.click(await_map_pool, [dir_x, dir_y, model], [map_status], api_name=False, **POOL_WAIT).then(
        latent_map, map_in, [grid, map_z, map_status], api_name="latent_map", **HEAVY)

    def jump(evt: gr.SelectData, zs, m):
        """A click on the map: that face becomes face A (a pick of the selected model)."""
        m = faces_model(m)
        i = picked(evt, len(zs) if isinstance(zs, list) else 0)
        try:
            z = from_array(zs[i], pipeline.load(m).z_dim) if i is not None else None
        except NotTrainedError:
            z = None
        if z is None:  # a forged index, or the map of the other model (the switch clears it)
            return gr.skip(), gr.skip()
        mine = kept_latent(z, m, "map")
        return face(None, mine, m), mine

    grid.select(jump, [map_z, model], [img_a, pick_a], api_name=False, **HEAVY).then(
        walk, walk_in, walk_out, api_name=False, **HEAVY).then(
        latent_map, map_in, [grid, map_z, map_status], api_name=False, **HEAVY)

    if len(shipped) > 1:  # .input: only a person's switch (an upload moves it too, and does that part itself)
        sinks = photo_out if photos else [gr.State(None) for _ in photo_out]  # no photo box: nothing to clear
        model.input(switched, [model, seed_a, seed_b, pick_a, pick_b, page],
                    [pick_a, pick_b, img_a, img_b, *sinks, *model_out], api_name=False, **HEAVY).then(
            walk, walk_in, walk_out, api_name=False, **HEAVY)
    if photos:
        moved = gr.State(False)
        photo.upload(from_photo, [photo, target, model, pick_a, pick_b], [model, pick_a, pick_b, *photo_out, moved],
                     api_name=False, **HEAVY).then(
            photo_shown, [moved, seed_a, seed_b, pick_a, pick_b, page, model], [img_a, img_b, *model_out],
            api_name=False, **HEAVY).then(
            walk, walk_in, walk_out, api_name=False, **HEAVY)

    if trained:
        def first(sa, sb, p, m, pa, pb):
            return face(sa, pa, m), face(sb, pb, m), gallery(p, m)[0]

        on_first_open(demo, tab, fn=first, inputs=[seed_a, seed_b, page, model, pick_a, pick_b],
                      outputs=[img_a, img_b, samples], api_name=False, **HEAVY).then(
            walk, walk_in, walk_out, api_name=False, **HEAVY)


if __name__ == "__main__":  # python -m demos.latent_walk: this tab alone
    from .server import serve_tab

    serve_tab(build, "Latent walk")
