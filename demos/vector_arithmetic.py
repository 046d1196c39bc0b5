"""Vector arithmetic tab: A − B + C on mean latents of exemplar faces, and attribute sliders."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from core.pipelines import NotTrainedError
from core.pipelines import face_arithmetic as pipeline
from core.pipelines.face_arithmetic import NOISE_STD, PRESETS
from core.pipelines.faces import clean_seed, from_array, tile, to_array

from .common import HEAVY, face_arithmetic, notice, ok, warn
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
        parts.append(f"{'✅' if good else '❌'} {name.replace('_', ' ')}: p = {pv:.2f} (want {'yes' if wanted else 'no'})")
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
        status = ok(f"The classifier calls the result: **{_caption(arith, probs)}**")
    return (*galleries, tile(means, 3), result_img, grid, status)


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
    picks = {**{k: [to_array(z) for z in v] for k, v in ex.items()}, "source": preset_name}
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
    """Clicking a pool face adds it to A, B or C (the last three clicks of each group count)."""
    arith, err = _load()
    if err:
        return (gr.skip(), [], [], [], None, None, None, err)
    if group not in ("A", "B", "C"):
        group = "A"
    n_pages = max(1, len(arith.pool.z) // PAGE)
    on_page = picked(evt, PAGE)
    i = -1 if on_page is None else (clean_seed(page) % n_pages) * PAGE + on_page
    if not 0 <= i < len(arith.pool.z):
        return (gr.skip(), *[gr.skip()] * 6, warn("That face is not on this page any more; click again."))
    picks = {k: list(v) for k, v in (picks or {}).items() if k in ("A", "B", "C")}
    picks["source"] = CUSTOM
    picks[group] = (picks.get(group, []) + [to_array(arith.pool.z[i])])[-MAX_PICKS:]
    missing = [k for k in ("A", "B", "C") if not picks.get(k)]
    if missing:
        msg = ok(f"{group} has {len(picks[group])} face(s). Still to pick: {', '.join(missing)}.")
        return (picks, *[gr.skip()] * 6, msg)
    return (picks, *show(picks, noise, seed, CUSTOM))


def edit(seed, *amounts):
    """A face plus attribute directions times the slider amounts -> (image, status)."""
    arith, err = _load()
    if err:
        return None, err
    z = arith.faces.z(seed)
    known = set(arith.available_directions())
    moved, skipped = [], []
    for name, a in zip(pipeline.DIRECTION_ATTRIBUTES, amounts):
        a = _num(a, -4.0, 4.0, 0.0)
        if a and name in known:
            try:
                z = z + a * arith.direction(name)
            except LookupError:  # the pool has (almost) no faces with, or without, it
                skipped.append(name.replace("_", " "))
                continue
            moved.append(f"{a:+.1f} {name.replace('_', ' ')}")
    probs = arith.judge(z[None])[0]
    what = ", ".join(moved) if moved else "no change"
    note = f" (no direction for {', '.join(skipped)}: too few generated faces with or without it)" if skipped else ""
    return (arith.faces.images(z, BIG)[0],
            ok(f"seed {clean_seed(seed)}, {what} → classifier: **{_caption(arith, probs)}**{note}"))


def build(demo: gr.Blocks) -> None:
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
    picks = gr.State({})
    with gr.Row():
        preset = gr.Dropdown(list(PRESETS) + [CUSTOM], value=list(PRESETS)[0], label="Preset", scale=3,
                             elem_id="va-preset")
        seed = number(0, label="Exemplar draw (seed)", precision=0, elem_id="va-seed")
        noise = slider(0, 1, value=NOISE_STD, step=0.05, label="Noise in the 3×3 grid (±, uniform)",
                          elem_id="va-noise")
        go = gr.Button("Draw exemplars", variant="primary", elem_id="va-draw")
    with gr.Row(equal_height=False):
        gal = {}
        for key, sign in (("A", ""), ("B", "− "), ("C", "+ ")):
            with gr.Column(min_width=160):
                gal[key] = gr.Gallery(label=f"{sign}{key}", columns=3, height=150, allow_preview=False,
                                      elem_id=f"va-{key.lower()}")
        with gr.Column(min_width=200):
            result = gr.Image(label="= A − B + C", type="pil", interactive=False, height=BIG, elem_id="va-result")
    with gr.Row(equal_height=False):
        means = gr.Image(label="Mean faces of A, B, C (rescaled to |z| ≈ 10)", type="pil", interactive=False)
        grid = gr.Image(label="The result (centre) and 8 neighbours with noise", type="pil",
                        interactive=False, elem_id="va-grid")
    status = gr.Markdown("", elem_id="va-status")
    outs = [gal["A"], gal["B"], gal["C"], means, result, grid, status]
    go.click(draw, [preset, seed, noise], [picks, *outs], api_name="arithmetic", **HEAVY)
    preset.change(draw, [preset, seed, noise], [picks, *outs], api_name=False, **HEAVY)
    seed.change(lambda s: clean_seed(s), [seed], [seed], api_name=False)
    seed.submit(draw, [preset, seed, noise], [picks, *outs], api_name=False, **HEAVY)  # Enter draws too
    noise.change(show, [picks, noise, seed, preset], outs, api_name=False, **HEAVY)

    with gr.Accordion("Pick your own exemplars", open=False):
        gr.Markdown("Choose the group, then click faces (the last three per group count). Captions are the "
                    "classifier's opinion.")
        with gr.Row():
            group = gr.Radio(["A", "B", "C"], value="A", label="Clicking adds to", elem_id="va-group")
            page = number(0, label="Pool page", precision=0, elem_id="va-page")
            clear = gr.Button("Clear picks")
        pool = gr.Gallery(label="Generated faces", columns=8, height=300, allow_preview=False, elem_id="va-pool")
    page.change(pool_page, [page], [pool, page], api_name=False, **HEAVY)
    picking = pool.select(add_pick, [picks, group, page, noise, seed], [picks, *outs], api_name=False, **HEAVY)
    # A pick still queued would land after the clear and bring the cleared picks back: cancel it.
    clear.click(lambda: ({}, [], [], [], None, None, None, "Picks cleared."), None, [picks, *outs], api_name=False,
                cancels=[picking])

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
        demo.load(draw, [preset, seed, noise], [picks, *outs], api_name=False, **HEAVY).then(
            edit, edit_in, [edited, edit_status], api_name=False, **HEAVY).then(
            pool_page, [page], [pool, page], api_name=False, **HEAVY)


if __name__ == "__main__":  # python -m demos.vector_arithmetic: this tab alone
    from .server import serve_tab

    serve_tab(build, "Vector arithmetic")
