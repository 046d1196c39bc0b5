"""Vector arithmetic tab: A − B + C on mean latents of exemplar faces, and attribute sliders; with faces
v2, on your own photo too (C, or the sliders' face). A switch picks the faces model (DCGAN | v2)."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from core.pipelines import NotTrainedError
from core.pipelines import face_arithmetic as pipeline
from core.pipelines.face_arithmetic import NOISE_STD, PRESETS
from core.pipelines.faces import clean_seed, from_array, tile, to_array
from core.registry import get_spec

from .common import (FACES_TITLES, HEAVY, PHOTO_FACES, POOL_WAIT, await_pool, face_arithmetic, faces_model,
                     faces_switch, kept_latent, latent_of, notice, ok, on_first_open, photo_inputs, shipped_faces,
                     try_photo, warn)
from .inputs import number, picked, slider

CUSTOM = "my own picks (from the pool below)"
PAGE = 24
BIG, THUMB = 192, 96
MAX_PICKS = 3
NEEDS = ("This tab needs two trained models: the faces GAN (`python -m core.train faces --promote`) and the "
         "attribute classifier that labels its faces (`python -m core.train face_attributes --promote`).")


def _num(value, lo: float, hi: float, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return default if not np.isfinite(v) else float(min(hi, max(lo, v)))


def _caption(arith, probs: torch.Tensor) -> str:
    """The classifier's short verdict on one face, e.g. 'man · smiling · glasses'."""
    names = arith.classifier.names

    def p(name):
        return float(probs[names.index(name)]) if name in names else 0.5

    words = ["man" if p("Male") > 0.5 else "woman"]
    words.append("smiling" if p("Smiling") > 0.5 else "neutral")
    if p("Eyeglasses") > 0.5:
        words.append("glasses")
    return " · ".join(words)


def _record(arith, preset) -> str:
    """How often this preset works at all, so that a failed draw reads as the model's limit."""
    try:
        success, base = arith.record(preset)
    except LookupError:
        return ""
    return (f"\n\nWith these weights this preset gives a {preset.result_label} in **{_pct(success)}** of "
            f"{pipeline.RECORD_DRAWS} random "
            f"exemplar draws ({_pct(base)} of random faces already are one): change the draw to see others.")


def _pct(x: float) -> str:
    """0.452 -> '45 %', 0.0023 -> '0.2 %' (small rates keep a decimal instead of reading as 0)."""
    return f"{100 * x:.1f} %" if 0 < x < 0.1 else f"{100 * x:.0f} %"


def _satisfied(arith, probs: torch.Tensor, expect) -> bool:
    """True when the classifier finds every expected attribute (p > 0.5 for yes, <= 0.5 for no)."""
    names = arith.classifier.names
    return all((float(probs[names.index(name)]) > 0.5) == wanted for name, wanted in expect)


def _verdict(arith, probs: torch.Tensor, expect) -> str:
    names = arith.classifier.names
    parts = []
    for name, wanted in expect:
        pv = float(probs[names.index(name)])
        good = (pv > 0.5) == wanted
        parts.append(f"{name.replace('_', ' ')}: p = {pv:.2f}, wanted {'yes' if wanted else 'no'}: "
                     f"**{'met' if good else 'not met'}**")
    return "Classifier on the result: " + " · ".join(parts)


def _model(model) -> str:
    """The switch's value -> a faces model shipped with the classifier (a forged or missing one: the default)."""
    return faces_model(model, with_classifier=True)


def _load(model=None):
    """-> (the FaceArithmetic of the selected faces model, None), or (None, the message) when untrained."""
    try:
        return face_arithmetic(_model(model)), None
    except NotTrainedError:
        return None, warn(NEEDS)


def header(model) -> str:
    """The tab's title and explanation, for the selected faces model (|z| from its latent size)."""
    m = _model(model)
    norm = get_spec(m).nets["G"].z_dim ** 0.5
    photo = (" With faces v2 your own photo joins in: its encoder gives the photo a `z`, which can be C (your face "
             "plus the preset's A − B) or the face the attribute sliders move." if m == PHOTO_FACES else "")
    return (f"## Vector arithmetic ({FACES_TITLES.get(m, m)})\nAs in the DCGAN paper: average the latents `z` of three "
            "faces per concept, then compute **A − B + C**. Single faces are too noisy; means of three are not. Our "
            f"own attribute classifier labels {pipeline.POOL_SIZE:,} generated faces, fills the presets from them and "
            "judges the result. A preset's exemplars are faces the classifier is sure of *and* whose `z` lies clearly "
            "on the concept's side of a straight boundary fitted in latent space (a linear probe): the arithmetic "
            "moves along straight lines in `z`, so exemplars that are typical along those lines work far more often. "
            f"Means and the result are rescaled to the length every sampled `z` has (about {norm:.0f}): a mean of "
            f"three is ~40 % shorter, and the generator turns such short latents into bland 'average' faces.{photo}")


def _picks_model(picks) -> str | None:
    """The faces model a picks dict was made with (None: no model named, e.g. empty)."""
    return (picks or {}).get("model") if isinstance(picks, dict) else None


def _difference(preset) -> tuple[tuple[str, bool], ...]:
    """The attributes A has and B has not (e.g. Smiling for smiling woman − neutral woman): what
    A − B adds to any C, your photo included."""
    return tuple((name, wanted) for name, wanted in preset.A.attrs if (name, not wanted) in preset.B.attrs)


def _faces(arith, zs: torch.Tensor, size: int) -> list:
    return arith.faces.images(zs, size)


def show(picks: dict, noise, seed, preset_name, model=None):
    """picks {"A": [z, ...], ..., "model": name} -> (galleries A, B, C, means strip, result, 3x3 grid,
    status). Picks of another faces model than the selected one are not used (their latents mean
    other faces): the status says so."""
    arith, err = _load(model)
    empty = ([], [], [], None, None, None)
    if err:
        return (*empty, err)
    if _picks_model(picks) not in (None, _model(model)):
        return (*empty, warn("Those faces were picked with the other faces model: draw a preset or pick again."))
    D = arith.faces.z_dim
    ex = {}
    for key in "ABC":
        zs = [z for z in (from_array(v, D) for v in (picks or {}).get(key, [])) if z is not None]
        if not zs:
            return (*empty, warn(f"Pick at least one face for {key} (or choose a preset)."))
        ex[key] = torch.stack(zs)
    res = arith.combine(ex, seed=seed, noise=_num(noise, 0.0, 1.0, NOISE_STD))
    galleries = []
    yours = bool((picks or {}).get("photo_c"))  # C's first face is your photo
    for key in "ABC":
        faces = _faces(arith, ex[key], THUMB)
        probs = arith.judge(ex[key])
        galleries.append([(im, ("your photo · " if yours and key == "C" and i == 0 else "") + _caption(arith, pr))
                          for i, (im, pr) in enumerate(zip(faces, probs))])
    means = _faces(arith, res.mean_faces(), THUMB)
    result_img = _faces(arith, res.result, BIG)[0]
    grid = tile(_faces(arith, res.grid, THUMB), 3)
    probs = arith.judge(res.result[None])[0]
    preset = PRESETS.get((picks or {}).get("source", preset_name))
    if yours and PRESETS.get((picks or {}).get("preset")) is not None:
        status = _photo_verdict(arith, probs, PRESETS[picks["preset"]])
    elif preset is not None:
        # The line's mark is the classifier's verdict: a failed draw must not read as a success.
        mark = ok if _satisfied(arith, probs, preset.expect) else warn
        status = mark(f"{preset.name} = **{preset.result_label}**?  ") + _verdict(arith, probs, preset.expect)
        status += _record(arith, preset)
    else:
        status = ok(f"Your picks: the classifier calls the result **{_caption(arith, probs)}**.") + _mixed(picks)
    return (*galleries, tile(means, 3), result_img, grid, status)


def _photo_verdict(arith, probs: torch.Tensor, preset) -> str:
    """The status of A − B + your photo: did the result gain what A has and B has not?"""
    gain = _difference(preset)
    words = ", ".join(f"{'' if wanted else 'no '}{name.replace('_', ' ').lower()}" for name, wanted in gain)
    mark = ok if _satisfied(arith, probs, gain) else warn
    return (mark(f"{preset.A.label} − {preset.B.label} + your photo = **your face with {words}**?  ")
            + _verdict(arith, probs, gain) + f". The classifier calls the result **{_caption(arith, probs)}**.")


def _mixed(picks: dict) -> str:
    """What the groups hold when own picks were added to a preset's exemplars (empty when none of a
    preset's faces are left)."""
    origin, own = (picks or {}).get("preset"), (picks or {}).get("own") or {}
    if origin not in PRESETS:
        return ""
    parts, theirs = [], 0
    for key in "ABC":
        n, total = int(own.get(key, 0)), len((picks or {}).get(key) or [])
        theirs += total - n
        parts.append(f"{key}: " + (f"the preset's {total}" if n == 0 else f"your {n}" if n == total
                                   else f"your {n} + {total - n} of the preset's"))
    if not theirs:
        return ""
    return (f"\n\nMixed with the exemplars of the preset *{origin}*: {'; '.join(parts)}. "
            "Each click replaces the oldest face of its group; *Clear picks* starts from none.")


def _preset_picks(arith, preset_name: str, seed, model: str) -> dict:
    """A preset's exemplars drawn from the pool, as picks; raises LookupError (too few faces of a concept)."""
    ex = arith.draw(PRESETS[preset_name], seed)
    return {**{k: [to_array(z) for z in v] for k, v in ex.items()}, "source": preset_name, "preset": preset_name,
            "own": {}, "model": model}


def draw(preset_name, seed, noise, model=None):
    """A preset -> three exemplars per concept, drawn at random from the classifier-labelled pool of
    the selected faces model."""
    arith, err = _load(model)
    if err:
        return None, [], [], [], None, None, None, err
    preset = PRESETS.get(preset_name)
    if preset is None:
        return (gr.skip(), *[gr.skip()] * 6, warn("Pick a preset, or build your own from the pool below."))
    try:
        picks = _preset_picks(arith, preset_name, seed, _model(model))
    except LookupError as e:
        return None, [], [], [], None, None, None, warn(str(e))
    return (picks, *show(picks, noise, seed, preset_name, model))


def photo_as_c(picks, photo, preset_name, seed, noise, model=None):
    """Your photo as C: A − B of the preset shown (its exemplars, or your own picks for A and B) added
    to your photo's latent. -> (picks, galleries A, B, C, means, result, grid, status)."""
    arith, err = _load(model)
    if err:
        return None, [], [], [], None, None, None, err
    m = _model(model)
    z = latent_of(photo, m, arith.faces.z_dim) if photo else None
    if z is None:
        return (gr.skip(), *[gr.skip()] * 6, warn(f"Upload a face photo first (with {FACES_TITLES[PHOTO_FACES]})."))
    picks = picks if _picks_model(picks) == m and (picks or {}).get("A") and picks.get("B") else None
    if picks is None:
        if preset_name not in PRESETS:
            return (gr.skip(), *[gr.skip()] * 6,
                    warn("Choose a preset (or pick faces for A and B): their A − B is what is added to your photo."))
        try:
            picks = _preset_picks(arith, preset_name, seed, m)
        except LookupError as e:
            return None, [], [], [], None, None, None, warn(str(e))
    picks = {**picks, "C": [to_array(z)], "photo_c": True}
    return (picks, *show(picks, noise, seed, picks.get("source", preset_name), m))


def pool_page(page, model=None):
    """A page of the labelled pool, captioned by the classifier: (items, cleaned page)."""
    arith, err = _load(model)
    if err:
        return [], 0
    n_pages = max(1, len(arith.pool.z) // PAGE)
    p = clean_seed(page) % n_pages
    idx = list(range(p * PAGE, (p + 1) * PAGE))
    faces = _faces(arith, arith.pool.z[idx], THUMB)
    return [(im, _caption(arith, arith.pool.probs[i])) for im, i in zip(faces, idx)], p


def add_pick(evt: gr.SelectData, picks, group, page, noise, seed, model=None):
    """Clicking a pool face adds it to A, B or C (the last three clicks of each group count). The
    preset menu then says "my own picks" (the groups are no longer the preset's), and the status
    says which of the preset's faces are still in the mix. Picks of the other faces model are
    dropped first. -> (picks, preset menu, outputs...)."""
    arith, err = _load(model)
    if err:
        return (gr.skip(), gr.skip(), [], [], [], None, None, None, err)
    if group not in ("A", "B", "C"):
        group = "A"
    n_pages = max(1, len(arith.pool.z) // PAGE)
    on_page = picked(evt, PAGE)
    i = -1 if on_page is None else (clean_seed(page) % n_pages) * PAGE + on_page
    if not 0 <= i < len(arith.pool.z):
        return (gr.skip(), gr.skip(), *[gr.skip()] * 6, warn("That face is not on this page any more; click again."))
    m = _model(model)
    picks = picks if isinstance(picks, dict) and _picks_model(picks) in (None, m) else {}
    own = dict(picks.get("own") or {})
    # your photo stays C's first face until a click adds to C (then C is a mix of your picks)
    picks = {**{k: list(v) for k, v in picks.items() if k in ("A", "B", "C")},
             "source": CUSTOM, "preset": picks.get("preset"), "own": own, "model": m,
             "photo_c": bool(picks.get("photo_c")) and group != "C"}
    picks[group] = (picks.get(group, []) + [to_array(arith.pool.z[i])])[-MAX_PICKS:]
    own[group] = min(int(own.get(group, 0)) + 1, len(picks[group]))
    missing = [k for k in ("A", "B", "C") if not picks.get(k)]
    if missing:
        msg = ok(f"{group} has {len(picks[group])} face(s). Still to pick: {', '.join(missing)}.")
        return (picks, CUSTOM, *[gr.skip()] * 6, msg)
    return (picks, CUSTOM, *show(picks, noise, seed, CUSTOM, m))


def clear_picks():
    return ({}, CUSTOM, [], [], [], None, None, None,
            "Picks cleared: choose a group, then click faces in the pool (or pick a preset).")


def edit(seed, *amounts, photo=None, model=None):
    """A face (your photo's latent when `photo` holds one of this model, else the seed's) plus
    attribute directions times the slider amounts -> (image, status). The status says when the
    classifier does not see a pushed attribute in the result (a push along a direction does not
    always get this generator to draw it, e.g. glasses)."""
    arith, err = _load(model)
    if err:
        return None, err
    z = latent_of(photo, _model(model), arith.faces.z_dim) if photo else None
    who = "your photo" if z is not None else f"seed {clean_seed(seed)}"
    z = z if z is not None else arith.faces.z(seed)
    known = set(arith.available_directions())
    moved, skipped, pushed = [], [], []
    for name, a in zip(pipeline.DIRECTION_ATTRIBUTES, amounts):
        a = _num(a, -4.0, 4.0, 0.0)
        if a and name in known:
            try:
                z = z + a * arith.direction(name)
            except LookupError:  # the pool has (almost) no faces with, or without, it
                skipped.append(name.replace("_", " "))
                continue
            moved.append(f"{a:+.1f} {name.replace('_', ' ')}")
            pushed.append((name, a))
    probs = arith.judge(z[None])[0]
    what = ", ".join(moved) if moved else "no change"
    note = f" (no direction for {', '.join(skipped)}: too few generated faces with or without it)" if skipped else ""
    line = f"{who}, {what} → classifier: **{_caption(arith, probs)}**{note}"
    missed = []
    for name, a in pushed:
        i = arith.classifier.index(name)
        p = float(probs[i])
        if (p > 0.5) != (a > 0):
            share = float((arith.pool.probs[:, i] > 0.5).float().mean())
            label = name.replace("_", " ")
            missed.append(f"{label}: p = {p:.2f} after {a:+.1f}, so the classifier "
                          f"{'does not see it' if a > 0 else 'still sees it'} ({_pct(share)} of this generator's "
                          f"faces have it)")
    if missed:
        return (arith.faces.images(z, BIG)[0],
                warn(f"{line}. Not confirmed: {'; '.join(missed)}. The face moved along the direction, but not "
                     "far enough for the generator to draw it: try a larger amount, or another face."))
    return arith.faces.images(z, BIG)[0], ok(line)


def edit_seed(seed, *rest):
    """/edit: a face seed, the slider amounts, then the model -> (edited face, status, your photo:
    none). A typed seed is the face the sliders move from then on (your photo is let go)."""
    *amounts, model = rest if rest else (None,)
    return (*edit(seed, *amounts, model=model), None)


def edit_current(seed, photo, *rest):
    """The sliders: the face seed, your photo (a kept latent or None), the amounts, then the model
    -> (edited face, status); the face is your photo while there is one of this model."""
    *amounts, model = rest if rest else (None,)
    return edit(seed, *amounts, photo=photo, model=model)


def switched(model, picks, photo):
    """The switch moved to `model`: picks and your photo of the other model are let go (its latents
    mean other faces), the texts follow; the chain after it draws the preset, the edit and the pool
    again. -> (header, picks, galleries A, B, C, means, result, grid, status, photo, photo square,
    reconstruction, photo status)."""
    m = _model(model)
    keep_picks = _picks_model(picks) == m
    keep_photo = isinstance(photo, dict) and photo.get("model") == m
    cleared = ({}, [], [], [], None, None, None, ok(f"Switched to {FACES_TITLES.get(m, m)}: pick again from its pool."))
    if not photo or keep_photo:
        photo_out = (gr.skip(),) * 4
    else:
        photo_out = (None, None, None, ok(f"Your photo's latent belongs to {FACES_TITLES[PHOTO_FACES]}: upload it "
                                          "again to use it (the switch moves back)."))
    return (header(m), *((gr.skip(),) * 8 if keep_picks else cleared), *photo_out)


def from_photo(path, model, progress=gr.Progress()):
    """An uploaded face photo -> its latent in the model with an encoder (faces v2: the switch moves
    there). -> (switch, header, your photo (kept latent), face square, reconstruction, photo status,
    fresh: True when a new photo came in). The chain after it puts the photo in as C and as the
    sliders' face. Bad files get a message (and leave an earlier photo as it was)."""
    got = try_photo(path, BIG, progress, PHOTO_FACES in shipped_faces(with_classifier=True), NEEDS)
    if isinstance(got, str):
        return (*(gr.skip(),) * 5, got, False)
    u, square, recon, line = got
    moved = _model(model) != PHOTO_FACES
    note = f" The switch moved to {FACES_TITLES[PHOTO_FACES]}, the model that takes photos." if moved else ""
    return (PHOTO_FACES, header(PHOTO_FACES) if moved else gr.skip(), kept_latent(u, PHOTO_FACES, "your photo"),
            square, recon, ok(f"Your photo is C in the preset above and the face the sliders below move.{note} {line}"),
            True)


def photo_in_preset(fresh, picks, photo, preset_name, seed, noise, model=None):
    """After an upload: your photo as C (photo_as_c), unless no new photo came in (a refused file)."""
    if fresh is not True:
        return (gr.skip(),) * 8
    return photo_as_c(picks, photo, preset_name, seed, noise, model)


def build(demo: gr.Blocks, tab: gr.Tab | None = None) -> None:
    """The tab; its first draw runs when `tab` is first selected (in the whole app), or at page
    load (this tab alone), after the labelled pool is ready (its progress shown here meanwhile)."""
    shipped = shipped_faces(with_classifier=True)
    ready = bool(shipped)
    if not ready:
        notice("Vector arithmetic (DCGAN faces)", NEEDS)
    first_model = shipped[0] if shipped else "faces"
    title = gr.Markdown(header(first_model), elem_id="va-header")
    model = faces_switch(shipped, "va-model")
    photos = PHOTO_FACES in shipped
    # The labelling's progress, at the top where a person opening the tab looks (the first start on a machine).
    pool_note = gr.Markdown("", elem_id="va-pool-note")
    picks, photo = gr.State({}), gr.State(None)  # photo: your photo's latent, with its model
    if photos:  # v2's encoder: your photo gets a latent (shown only when that model is shipped)
        upload, crop, recon, photo_status = photo_inputs(
            "va", height=150, min_width=140, row=True,
            status="Upload a face photo: it becomes C in the preset (your face + A − B) and the face the attribute "
                   "sliders move.")
        with photo_status.parent:
            as_c = gr.Button("Your photo as C", elem_id="va-photo-c", size="sm")
    else:
        crop = recon = photo_status = as_c = upload = None
    with gr.Row(equal_height=True):
        preset = gr.Dropdown(list(PRESETS) + [CUSTOM], value=list(PRESETS)[0], label="Preset", scale=3, min_width=320,
                             elem_id="va-preset")
        seed = number(0, label="Exemplar draw (seed)", precision=0, elem_id="va-seed", min_width=160)
        noise = slider(0, 1, value=NOISE_STD, step=0.05, label="Noise in the 3×3 grid", elem_id="va-noise",
                       min_width=300)
        go = gr.Button("Draw exemplars", variant="primary", elem_id="va-draw", min_width=160)
    with gr.Row(equal_height=False):
        gal = {}
        for key, sign in (("A", ""), ("B", "− "), ("C", "+ ")):
            with gr.Column(min_width=300):
                # its own height and wrapped captions (CSS: lab-fit, lab-captions): all three faces and
                # their captions show in full (a fixed height clipped the third face and cut the captions)
                # fit_columns off: one face (your photo as C, a first pick) stays a third wide, not the whole column
                gal[key] = gr.Gallery(label=f"{sign}{key}", columns=3, height="auto", allow_preview=False,
                                      object_fit="contain", elem_id=f"va-{key.lower()}", fit_columns=False,
                                      elem_classes=["lab-captions", "lab-fit"])
    with gr.Row(equal_height=False):
        result = gr.Image(label="= A − B + C", type="pil", interactive=False, height=BIG, elem_id="va-result")
        # short labels: a label floats over the picture's top-left corner
        means = gr.Image(label="Means of A, B, C", type="pil", interactive=False, height=BIG)
        grid = gr.Image(label="Result ± noise", type="pil", height=BIG, interactive=False, elem_id="va-grid")
    gr.Markdown("*Means* are rescaled to the length of a sampled `z`, like the result; *result ± noise*: the result "
                "in the centre, 8 neighbours with uniform noise of ± the amount set above added to it.")
    status = gr.Markdown("", elem_id="va-status")
    outs = [gal["A"], gal["B"], gal["C"], means, result, grid, status]
    go.click(draw, [preset, seed, noise, model], [picks, *outs], api_name="arithmetic", **HEAVY)
    # input, not change: the menu is also set by the code (to "my own picks" when a face is picked)
    preset.input(draw, [preset, seed, noise, model], [picks, *outs], api_name=False, **HEAVY)
    seed.change(lambda s: clean_seed(s), [seed], [seed], api_name=False)
    seed.submit(draw, [preset, seed, noise, model], [picks, *outs], api_name=False, **HEAVY)  # Enter draws too
    noise.change(show, [picks, noise, seed, preset, model], outs, api_name=False, **HEAVY)

    with gr.Accordion("Pick your own exemplars", open=False):
        gr.Markdown("Choose the group, then click faces (the last three per group count; a preset's faces stay "
                    "until yours replace them, and the status says which are in the mix). Captions are the "
                    "classifier's opinion.")
        with gr.Row():
            group = gr.Radio(["A", "B", "C"], value="A", label="Clicking adds to", elem_id="va-group")
            page = number(0, label="Pool page", precision=0, elem_id="va-page")
            clear = gr.Button("Clear picks", elem_id="va-clear")
        pool = gr.Gallery(label="Generated faces", columns=8, height="auto", allow_preview=False, elem_id="va-pool",
                          elem_classes=["lab-captions", "lab-fit"])
    page.change(pool_page, [page, model], [pool, page], api_name=False, **HEAVY)
    picking = pool.select(add_pick, [picks, group, page, noise, seed, model], [picks, preset, *outs], api_name=False,
                          **HEAVY)
    # A pick still queued would land after the clear and bring the cleared picks back: cancel it.
    clear.click(clear_picks, None, [picks, preset, *outs], api_name=False, cancels=[picking])

    with gr.Accordion("Attribute directions: add them to any face", open=True):
        gr.Markdown("Direction = mean `z` of pool faces the classifier says have the attribute − mean `z` of those "
                    "without. 1 = one average step from 'without' to 'with'."
                    + (" The face is your photo once you upload one (above), until you type a seed." if photos else ""))
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                face_seed = number(7, label="Face (seed)", precision=0, elem_id="va-face-seed")
                names = pipeline.DIRECTION_ATTRIBUTES
                sliders = [slider(-3, 3, value=0, step=0.1, label=n.replace("_", " "), elem_id=f"va-dir-{n}")
                           for n in names]
                reset = gr.Button("Reset sliders")
            with gr.Column(scale=1):
                edited = gr.Image(label="Edited face", type="pil", interactive=False, height=BIG, elem_id="va-edited")
                edit_status = gr.Markdown("", elem_id="va-edit-status")
    edit_in = [face_seed, photo, *sliders, model]
    edit_out = [edited, edit_status]
    for s in sliders:
        # change (not input): typing a number into the slider's box and pressing Enter counts too.
        s.change(edit_current, edit_in, edit_out, api_name=False, trigger_mode="always_last", **HEAVY)
    face_seed.change(edit_seed, [face_seed, *sliders, model], [*edit_out, photo], api_name="edit", **HEAVY)
    reset.click(lambda: [0] * len(sliders), None, sliders, api_name=False)  # the sliders' change redraws

    def _await(m):
        """The selected model's labelled pool (its progress in the note while it is labelled)."""
        yield from await_pool(_model(m))

    def redraw(dep):
        """After `dep`: the preset, the edited face and the pool page, for the model selected."""
        return dep.then(draw, [preset, seed, noise, model], [picks, *outs], api_name=False, **HEAVY).then(
            edit_current, edit_in, edit_out, api_name=False, **HEAVY).then(
            pool_page, [page, model], [pool, page], api_name=False, **HEAVY)

    if len(shipped) > 1:  # .input: only a person's switch (an upload moves it too, and does the rest itself)
        photo_out = [crop, recon, photo_status] if photos else [gr.State(None) for _ in range(3)]  # sinks
        redraw(model.input(switched, [model, picks, photo], [title, picks, *outs, photo, *photo_out],
                           api_name=False, **HEAVY).then(
            _await, [model], [pool_note], api_name=False, **POOL_WAIT))
    if photos:
        as_c.click(photo_as_c, [picks, photo, preset, seed, noise, model], [picks, *outs], api_name=False, **HEAVY)
        fresh = gr.State(False)
        upload.upload(from_photo, [upload, model], [model, title, photo, crop, recon, photo_status, fresh],
                      api_name=False, **HEAVY).then(
            _await, [model], [pool_note], api_name=False, **POOL_WAIT).then(
            photo_in_preset, [fresh, picks, photo, preset, seed, noise, model], [picks, *outs], api_name=False,
            **HEAVY).then(
            edit_current, edit_in, edit_out, api_name=False, **HEAVY).then(
            pool_page, [page, model], [pool, page], api_name=False, **HEAVY)

    if ready:
        # The pool first (its progress in the status line while it is labelled), outside the model slots.
        redraw(on_first_open(demo, tab, fn=_await, inputs=[model], outputs=[pool_note], api_name=False, **POOL_WAIT))


if __name__ == "__main__":  # python -m demos.vector_arithmetic: this tab alone
    from .server import serve_tab

    serve_tab(build, "Vector arithmetic")
