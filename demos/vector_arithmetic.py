"""Vector arithmetic tab: A − B + C on mean latents of exemplar faces, and attribute sliders."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from core.pipelines import NotTrainedError
from core.pipelines import face_arithmetic as pipeline
from core.pipelines.face_arithmetic import NOISE_STD, PRESETS
from core.pipelines.faces import clean_seed, from_array, tile, to_array

from .common import HEAVY, POOL_WAIT, await_pool, face_arithmetic, notice, ok, on_first_open, warn
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


def _load():
    try:
        return face_arithmetic(), None
    except NotTrainedError:
        return None, warn(NEEDS)


def _faces(arith, zs: torch.Tensor, size: int) -> list:
    return arith.faces.images(zs, size)


def show(picks: dict, noise, seed, preset_name):
    """picks {"A": [z, ...], ...} -> (galleries A, B, C, means strip, result, 3x3 grid, status)."""
    arith, err = _load()
    empty = ([], [], [], None, None, None)
    if err:
        return (*empty, err)
    D = arith.faces.z_dim
    ex = {}
    for key in "ABC":
        zs = [z for z in (from_array(v, D) for v in (picks or {}).get(key, [])) if z is not None]
        if not zs:
            return (*empty, warn(f"Pick at least one face for {key} (or choose a preset)."))
        ex[key] = torch.stack(zs)
    res = arith.combine(ex, seed=seed, noise=_num(noise, 0.0, 1.0, NOISE_STD))
    galleries = []
    for key in "ABC":
        faces = _faces(arith, ex[key], THUMB)
        probs = arith.judge(ex[key])
        galleries.append([(im, _caption(arith, pr)) for im, pr in zip(faces, probs)])
    means = _faces(arith, res.mean_faces(), THUMB)
    result_img = _faces(arith, res.result, BIG)[0]
    grid = tile(_faces(arith, res.grid, THUMB), 3)
    probs = arith.judge(res.result[None])[0]
    preset = PRESETS.get((picks or {}).get("source", preset_name))
    if preset is not None:
        # The line's mark is the classifier's verdict: a failed draw must not read as a success.
        mark = ok if _satisfied(arith, probs, preset.expect) else warn
        status = mark(f"{preset.name} = **{preset.result_label}**?  ") + _verdict(arith, probs, preset.expect)
        status += _record(arith, preset)
    else:
        status = ok(f"Your picks: the classifier calls the result **{_caption(arith, probs)}**.") + _mixed(picks)
    return (*galleries, tile(means, 3), result_img, grid, status)


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


def draw(preset_name, seed, noise):
    """A preset -> three exemplars per concept, drawn at random from the classifier-labelled pool."""
    arith, err = _load()
    if err:
        return None, [], [], [], None, None, None, err
    preset = PRESETS.get(preset_name)
    if preset is None:
        return (gr.skip(), *[gr.skip()] * 6, warn("Pick a preset, or build your own from the pool below."))
    try:
        ex = arith.draw(preset, seed)
    except LookupError as e:
        return None, [], [], [], None, None, None, warn(str(e))
    picks = {**{k: [to_array(z) for z in v] for k, v in ex.items()}, "source": preset_name, "preset": preset_name,
             "own": {}}
    return (picks, *show(picks, noise, seed, preset_name))


def pool_page(page):
    """A page of the labelled pool, captioned by the classifier: (items, cleaned page)."""
    arith, err = _load()
    if err:
        return [], 0
    n_pages = max(1, len(arith.pool.z) // PAGE)
    p = clean_seed(page) % n_pages
    idx = list(range(p * PAGE, (p + 1) * PAGE))
    faces = _faces(arith, arith.pool.z[idx], THUMB)
    return [(im, _caption(arith, arith.pool.probs[i])) for im, i in zip(faces, idx)], p


def add_pick(evt: gr.SelectData, picks, group, page, noise, seed):
    """Clicking a pool face adds it to A, B or C (the last three clicks of each group count). The
    preset menu then says "my own picks" (the groups are no longer the preset's), and the status
    says which of the preset's faces are still in the mix. -> (picks, preset menu, outputs...)."""
    arith, err = _load()
    if err:
        return (gr.skip(), gr.skip(), [], [], [], None, None, None, err)
    if group not in ("A", "B", "C"):
        group = "A"
    n_pages = max(1, len(arith.pool.z) // PAGE)
    on_page = picked(evt, PAGE)
    i = -1 if on_page is None else (clean_seed(page) % n_pages) * PAGE + on_page
    if not 0 <= i < len(arith.pool.z):
        return (gr.skip(), gr.skip(), *[gr.skip()] * 6, warn("That face is not on this page any more; click again."))
    picks = picks or {}
    own = dict(picks.get("own") or {})
    picks = {**{k: list(v) for k, v in picks.items() if k in ("A", "B", "C")},
             "source": CUSTOM, "preset": picks.get("preset"), "own": own}
    picks[group] = (picks.get(group, []) + [to_array(arith.pool.z[i])])[-MAX_PICKS:]
    own[group] = min(int(own.get(group, 0)) + 1, len(picks[group]))
    missing = [k for k in ("A", "B", "C") if not picks.get(k)]
    if missing:
        msg = ok(f"{group} has {len(picks[group])} face(s). Still to pick: {', '.join(missing)}.")
        return (picks, CUSTOM, *[gr.skip()] * 6, msg)
    return (picks, CUSTOM, *show(picks, noise, seed, CUSTOM))


def clear_picks():
    return ({}, CUSTOM, [], [], [], None, None, None,
            "Picks cleared: choose a group, then click faces in the pool (or pick a preset).")


def edit(seed, *amounts):
    """A face plus attribute directions times the slider amounts -> (image, status). The status
    says when the classifier does not see a pushed attribute in the result (a push along a direction
    does not always get this generator to draw it, e.g. glasses)."""
    arith, err = _load()
    if err:
        return None, err
    z = arith.faces.z(seed)
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
    line = f"seed {clean_seed(seed)}, {what} → classifier: **{_caption(arith, probs)}**{note}"
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


def build(demo: gr.Blocks, tab: gr.Tab | None = None) -> None:
    """The tab; its first draw runs when `tab` is first selected (in the whole app), or at page
    load (this tab alone), after the labelled pool is ready (its progress shown here meanwhile)."""
    ready = pipeline.has_checkpoints()
    if not ready:
        notice("Vector arithmetic (DCGAN faces)", NEEDS)
    gr.Markdown(
        "## Vector arithmetic\nAs in the DCGAN paper: average the latents `z` of three faces per concept, then "
        "compute **A − B + C**. Single faces are too noisy; means of three are not. Our own attribute classifier "
        f"labels {pipeline.POOL_SIZE:,} generated faces, fills the presets from them and judges the result. A preset's exemplars are "
        "faces the classifier is sure of *and* whose `z` lies clearly on the concept's side of a straight boundary "
        "fitted in latent space (a linear probe): the arithmetic moves along straight lines in `z`, so exemplars "
        "that are typical along those lines work far more often. Means and the result are "
        "rescaled to the length every sampled `z` has (about 10): a mean of three is ~40 % shorter, and "
        "the generator turns such short latents into bland 'average' faces.")
    # The labelling's progress, at the top where a person opening the tab looks (the first start on a machine).
    pool_note = gr.Markdown("", elem_id="va-pool-note")
    picks = gr.State({})
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
                gal[key] = gr.Gallery(label=f"{sign}{key}", columns=3, height="auto", allow_preview=False,
                                      object_fit="contain", elem_id=f"va-{key.lower()}",
                                      elem_classes=["lab-captions", "lab-fit"])
    with gr.Row(equal_height=False):
        result = gr.Image(label="= A − B + C", type="pil", interactive=False, height=BIG, elem_id="va-result")
        # short labels: a label floats over the picture's top-left corner
        means = gr.Image(label="Means of A, B, C", type="pil", interactive=False, height=BIG)
        grid = gr.Image(label="Result ± noise", type="pil", height=BIG, interactive=False, elem_id="va-grid")
    gr.Markdown("*Means* are rescaled to |z| ≈ 10 like the result; *result ± noise*: the result in the centre, "
                "8 neighbours with uniform noise of ± the amount set above added to it.")
    status = gr.Markdown("", elem_id="va-status")
    outs = [gal["A"], gal["B"], gal["C"], means, result, grid, status]
    go.click(draw, [preset, seed, noise], [picks, *outs], api_name="arithmetic", **HEAVY)
    # input, not change: the menu is also set by the code (to "my own picks" when a face is picked)
    preset.input(draw, [preset, seed, noise], [picks, *outs], api_name=False, **HEAVY)
    seed.change(lambda s: clean_seed(s), [seed], [seed], api_name=False)
    seed.submit(draw, [preset, seed, noise], [picks, *outs], api_name=False, **HEAVY)  # Enter draws too
    noise.change(show, [picks, noise, seed, preset], outs, api_name=False, **HEAVY)

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
    page.change(pool_page, [page], [pool, page], api_name=False, **HEAVY)
    picking = pool.select(add_pick, [picks, group, page, noise, seed], [picks, preset, *outs], api_name=False,
                          **HEAVY)
    # A pick still queued would land after the clear and bring the cleared picks back: cancel it.
    clear.click(clear_picks, None, [picks, preset, *outs], api_name=False, cancels=[picking])

    with gr.Accordion("Attribute directions: add them to any face", open=True):
        gr.Markdown("Direction = mean `z` of pool faces the classifier says have the attribute − mean `z` of those "
                    "without. 1 = one average step from 'without' to 'with'.")
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
    edit_in = [face_seed, *sliders]
    for s in sliders:
        # change (not input): typing a number into the slider's box and pressing Enter counts too.
        s.change(edit, edit_in, [edited, edit_status], api_name=False, trigger_mode="always_last", **HEAVY)
    face_seed.change(edit, edit_in, [edited, edit_status], api_name="edit", **HEAVY)
    reset.click(lambda: [0] * len(sliders), None, sliders, api_name=False)  # the sliders' change redraws

    if ready:
        # The pool first (its progress in the status line while it is labelled), outside the model slots.
        opening = on_first_open(demo, tab, fn=await_pool, inputs=None, outputs=[pool_note], api_name=False, **POOL_WAIT)
        opening.then(draw, [preset, seed, noise], [picks, *outs], api_name=False, **HEAVY).then(
            edit, edit_in, [edited, edit_status], api_name=False, **HEAVY).then(
            pool_page, [page], [pool, page], api_name=False, **HEAVY)


if __name__ == "__main__":  # python -m demos.vector_arithmetic: this tab alone
    from .server import serve_tab

    serve_tab(build, "Vector arithmetic")
