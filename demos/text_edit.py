"""Text-guided edit tab: type what to change in a generated face or in your uploaded photo ("make her
smile", "older, without the moustache"); a sentence encoder reads the prompt, the face's latent moves
across attribute boundaries fitted on classifier-labelled faces, and the classifier says whether it
worked. A second mode ("Text score") optimises the latent against a small image-text model trained
here, as StyleCLIP does. Seeds are the DCGAN's faces; a photo is inverted into faces v2 (a VAE-GAN with
an encoder) and edited there: its latent is kept in a gr.State with that model's name (latents are
model-specific)."""
from __future__ import annotations

import gradio as gr

from core.pipelines import NotTrainedError
from core.pipelines import text_edit as pipeline
from core.pipelines.face_arithmetic import has_checkpoints as has_faces_models
from core.pipelines.faces import MAX_SEED, clean_seed
from core.pipelines.prompt_edits import MAX_CHARS as MAX_PROMPT
from core.pipelines.prompt_edits import clean as clean_prompt

from .common import (FACES_TITLES, HEAVY, PHOTO_FACES, POOL_WAIT, await_pool, kept_latent, latent_of, notice, ok,
                     on_first_open, photo_inputs, seed_page, try_photo, wait, warn)
from .inputs import number, picked, slider

EXAMPLES = ["make her smile", "add glasses", "older, without the moustache", "not smiling", "a bit more smile",
            "turn into a woman", "more masculine", "dark hair", "put on a hat", "she is smiling and wears glasses"]
GALLERY_SIZE = 12
BIG, THUMB = 256, 96
START = "Pick a face, then type what to change (or click an example prompt)."
NEEDS = ("This tab needs two trained models: the faces GAN (`python -m core.train faces --promote`) and the "
         "attribute classifier (`python -m core.train face_attributes --promote`).")
DIRECTIONS, SCORE = "directions", "score"  # the mode switch's values
SCORE_NEEDS = ("The text-score mode is unavailable: it needs the image-text model (`python -m core.train face_text "
               "--promote`) besides the faces GAN and the attribute classifier.")
SEEDS = "faces"  # the faces model of the seeds and the gallery: the paper's DCGAN (the recorded figures are its)
PHOTO = "your photo"  # common.kept_latent's "what" for an uploaded photo's latent


def photos_shipped() -> bool:
    """Whether a photo can be edited: the faces model with an encoder and the classifier are shipped."""
    return has_faces_models(PHOTO_FACES)


def held(photo):
    """The uploaded photo's latent kept in the tab's gr.State -> (faces model, latent [z_dim]), or None
    when there is none, or it is malformed or another model's."""
    if not isinstance(photo, dict) or not photos_shipped():
        return None
    try:
        z = latent_of(photo, PHOTO_FACES, pipeline.load_faces(PHOTO_FACES).z_dim)
    except NotTrainedError:
        return None
    return None if z is None else (PHOTO_FACES, z)


def _start(seed, photo) -> tuple[str, object]:
    """(faces model, latent [z_dim] or None) of the face an edit starts from: the held photo's, else
    (the DCGAN, None: the seed's latent, which the caller's pipeline makes)."""
    return held(photo) or (SEEDS, None)


def _problem(message: str) -> str:
    """A pipeline's message (ValueError) as a status line."""
    return warn(message[:1].upper() + message[1:] + ".")


def _label(name: str) -> str:
    return name.replace("_", " ").lower()


def _faces(model: str = SEEDS):
    return pipeline.load_faces(model)


def readout(result) -> str:
    """The classifier's verdicts before and after, as a Markdown table (asked attributes first, in bold)."""
    asked = result.parsed.as_dict() if result.parsed is not None else {}
    names = list(asked) + [n for n in result.probs_before if n not in asked]
    lines = ["| attribute (classifier) | before | after | asked |", "|---|---|---|---|"]
    for n in names:
        pb, pa = result.probs_before[n], result.probs_after[n]
        if n in asked:
            met = (pa > 0.5) if asked[n] > 0 else (pa < 0.5)
            want = f"{'add' if asked[n] > 0 else 'remove'} {abs(asked[n]):.1f}: {'**met**' if met else '**not met**'}"
            lines.append(f"| **{_label(n)}** | {pb:.2f} | **{pa:.2f}** | {want} |")
        else:
            changed = (pa > 0.5) != (pb > 0.5)
            lines.append(f"| {_label(n)} | {pb:.2f} | {pa:.2f} | {'changed too' if changed else ''} |")
    return "\n".join(lines)


def _asked(result) -> tuple[list[str], bool]:
    """The classifier's verdict on each asked attribute as text, and whether all were met."""
    parts, all_met = [], True
    for name, pb, pa, met in result.verdicts():
        all_met &= met
        parts.append(f"{_label(name)} p {pb:.2f} → {pa:.2f} ({'met' if met else 'not met'})")
    return parts, all_met


def _with_notes(line: str, result) -> str:
    return line + (" · Note: " + "; ".join(result.notes) if result.notes else "")


def verdict(result) -> str:
    """The status line: the parse, the classifier's verdict on each asked attribute, notes."""
    parts, all_met = _asked(result)
    line = f"**{result.parsed}** · the classifier: {'; '.join(parts)} · {result.seconds * 1000:.0f} ms"
    return (ok if all_met else warn)(_with_notes(line, result))


def face_pair(seed, photo=None):
    """The face on both sides of the slider (before any edit): the held photo's reconstruction, else the
    seed's face; None when untrained."""
    model, z = _start(seed, photo)
    try:
        faces = _faces(model)
    except NotTrainedError:
        return None
    face = faces.images(faces.z(clean_seed(seed)) if z is None else z, BIG)[0]
    return face, face


def _run(seed, prompt, strength, photo, load, status, **kw):
    """One edit in either mode: the start face (the held photo's latent, else the seed's), the mode's
    editor from load(faces=model), its edit -> (before/after pair, parsed edit, status(result), readout).
    An empty prompt shows the start face; a missing model or a prompt the editor refuses gets a message."""
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        return face_pair(seed, photo), "", START if pipeline.has_checkpoints() else warn(NEEDS), ""
    try:  # a prompt the editors would refuse is refused before they load (~300 MB the first time)
        clean_prompt(prompt)
    except ValueError as e:
        return face_pair(seed, photo), "", _problem(str(e)), ""
    model, z = _start(seed, photo)
    try:
        editor = load(faces=model)
    except NotTrainedError:
        return None, "", warn(NEEDS), ""
    except pipeline.EncoderMissing as e:
        return None, "", warn(str(e)), ""
    try:
        result = editor.edit(editor.faces.z(clean_seed(seed)) if z is None else z, prompt, strength, size=BIG, **kw)
    except ValueError as e:
        return face_pair(seed, photo), "", _problem(str(e)), ""
    parsed = str(result.parsed) if result.parsed is not None else ""
    return (result.before, result.after), parsed, status(result), readout(result)


def edit(seed, prompt, strength, photo=None):
    """(seed, prompt, strength, the held photo's latent or None) -> (before/after pair, parsed edit,
    status, readout). A held photo is edited in its own model (faces v2), a seed in the DCGAN."""
    return _run(seed, prompt, strength, photo, pipeline.load, verdict)


def score(seed, prompt, strength, photo=None, progress=gr.Progress()):
    """The text-score mode: (seed, prompt, strength, the held photo's latent or None) -> (before/after
    pair, parsed edit, status, readout), the latent optimised with a progress bar (a few seconds)."""
    if prompt is not None and (not isinstance(prompt, str) or prompt.strip()) and not pipeline.has_score_model():
        return face_pair(seed, photo), "", warn(SCORE_NEEDS), ""
    return _run(seed, prompt, strength, photo, pipeline.load_scorer, score_verdict,
                progress=lambda done, steps: progress((done, steps), desc="Text score: optimising"))


def from_photo(path, progress=gr.Progress()):
    """An uploaded face photo -> its latent in faces v2 (the encoder's guess, then a short optimisation
    with a progress bar), kept with the model's name, and the face square beside the generator's
    reconstruction of it. -> (held latent, photo square, reconstruction, photo status). A bad file gets
    a message and leaves the held face as it was."""
    got = try_photo(path, BIG, progress, photos_shipped(), NEEDS)
    if isinstance(got, str):
        return (*(gr.skip(),) * 3, got)
    u, square, recon, line = got
    line += (f" Prompts now edit your photo in {FACES_TITLES.get(PHOTO_FACES, PHOTO_FACES)}; type a seed or click "
             "a face above to go back to the DCGAN's faces.")
    return kept_latent(u, PHOTO_FACES, PHOTO), square, recon, ok(line)


def drop_photo():
    """A seed or a gallery face was chosen: the held photo is let go (edits are the DCGAN's again)."""
    return None, ""


def score_verdict(result) -> str:
    """The text-score mode's status line: the score before and after, the classifier's verdict on what
    the prompt asks (when the parser reads it), notes."""
    parts, all_met = _asked(result)
    line = (f"**text score {result.score_before:.2f} → {result.score_after:.2f}** ({result.steps} steps)"
            + (f" · the classifier: {'; '.join(parts)}" if parts else "") + f" · {result.seconds:.1f} s")
    return (ok if all_met and parts else warn)(_with_notes(line, result))


def edit_in(seed, prompt, strength, mode, photo=None):
    """The direction mode's edit when the switch is on it (else nothing changes)."""
    if mode == SCORE:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    return edit(seed, prompt, strength, photo)


def score_in(seed, prompt, strength, mode, photo=None, progress=gr.Progress()):
    """The text-score mode's edit when the switch is on it (else nothing changes)."""
    if mode != SCORE:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    return score(seed, prompt, strength, photo, progress)


def _load_once(load, what: str):
    """A mode's models, loaded before its first edit with a note while they load (seconds, once per
    process); a missing model is left for the edit itself to explain."""
    yield wait(f"Loading {what} (once, a few seconds)…")
    try:
        load()
    except (NotTrainedError, pipeline.EncoderMissing):
        pass
    yield ""


def prepare_score(photo=None):
    """Before the first text-score edit of the face's model: the image-text model, the sentence encoder
    (seconds, once)."""
    model = _start(None, photo)[0]
    if not pipeline.has_score_model() or pipeline.scorer_loaded(model):
        yield gr.skip()
        return
    yield from _load_once(lambda: pipeline.load_scorer(faces=model), "the image-text model and the sentence encoder")


def prepare_for(mode, photo=None):
    """What the mode needs before its first edit (see prepare and prepare_score)."""
    yield from (prepare_score(photo) if mode == SCORE else prepare(photo))


def prepare(photo=None):
    """Before the first edit of the face's model (the held photo's, else the DCGAN): its labelled pool
    (the progress while it is labelled, the first time on a machine), then the sentence encoder and its
    boundaries (seconds, once per process)."""
    model = _start(None, photo)[0]
    yield from await_pool(model)
    if not pipeline.loaded(model):
        yield from _load_once(lambda: pipeline.load(faces=model), "the sentence encoder and the attribute boundaries")


def gallery(start):
    """A page of sample faces: (gallery items, cleaned start seed)."""
    return seed_page(_faces, start, GALLERY_SIZE, THUMB)


def shipped() -> bool:
    """Whether the models are there (else app.py keeps the "coming" tab in its place)."""
    return pipeline.has_checkpoints()


def _enclosing_tab() -> gr.Tab | None:
    """The gr.Tab this tab is being built in (app.py builds it inside one), so that its first faces
    are drawn when a person opens it rather than at every page load; None when it runs alone."""
    from gradio.context import Context

    block = Context.block
    return block if isinstance(block, gr.Tab) else None


def build(demo: gr.Blocks, tab: gr.Tab | None = None) -> None:
    """The tab; its first faces are drawn when `tab` is first selected (in the whole app), or at page
    load (this tab alone)."""
    tab = tab or _enclosing_tab()
    trained = pipeline.has_checkpoints()
    photos = photos_shipped()
    if not trained:
        notice("Text-guided edit", NEEDS)
    gr.Markdown(
        "## Text-guided edit (InterFaceGAN directions, read from English)\n"
        "A sentence encoder (MiniLM, 22 M parameters) matches your words to the attributes our classifier "
        "knows; negations (\"not\", \"without\", \"remove\") and intensities (\"slightly\", \"very\") are read "
        "off the sentence. The face's 100 latent numbers then move across straight **boundaries** fitted on "
        "12,000 generated faces the classifier labelled, and only across the asked ones: the step keeps the face "
        "on its side of the other attributes' boundaries (*conditional manipulation*, Shen et al. 2020), so "
        "\"smile\" should not also change gender or age. The classifier then judges the result.\n\n"
        "**Text score** (the mode switch): no attribute boundaries. A small image-text model trained here "
        "(a face encoder taught to put each face near the MiniLM embeddings of captions made from its CelebA "
        "attributes, CLIP's contrastive loss) scores how well the face fits your words, and the face's latent is "
        "optimised for about 40 steps to raise that score while the classifier's features keep who it is "
        "(StyleCLIP's latent optimisation, Patashnik et al. 2021, with our model in place of CLIP). Any description "
        "of a face may be tried; the strength is the weight of the text score."
        + ("\n\n**Your photo**: upload a face photo and faces v2 (a VAE-GAN: an encoder beside its generator) "
           "finds its 128 latent numbers (the encoder's guess, then a short optimisation); the prompts then edit "
           "that face along boundaries fitted on v2's own 12,000 labelled faces. Look at what v2 can draw of your "
           "photo before judging an edit: the edit starts from that." if photos else ""))
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            seed = number(1, label="Face: seed", precision=0, elem_id="te-seed")
            samples = gr.Gallery(label="Or click a face", columns=4, allow_preview=False, object_fit="contain",
                                 height="auto", elem_id="te-gallery", elem_classes=["lab-fit"])
            with gr.Row():
                page = number(100, label="Faces from seed", precision=0, elem_id="te-page", min_width=120)
                more = gr.Button("Other faces", elem_id="te-more", min_width=120)
            photo = gr.State(None)  # your photo's latent with its model's name (common.kept_latent), or None
            if photos:  # v2's encoder: a photo becomes a latent (shown only when that model is shipped)
                upload, crop, recon, photo_status = photo_inputs("te", "Or upload a face photo (edited in faces v2)",
                                                                 height=150, min_width=110)
            else:
                photo_status = gr.State("")  # nothing to show it in: a sink for drop_photo
            prompt = gr.Textbox(label="What to change", placeholder="make her smile", max_length=MAX_PROMPT,
                                lines=1, elem_id="te-prompt")
            examples = gr.Radio(EXAMPLES, value=None, label="Examples (click one)", elem_id="te-examples")
            strength = slider(0, pipeline.MAX_STRENGTH, value=1.0, step=0.05, elem_id="te-strength",
                              label="Strength: how far the face moves (0 none, 1 as the prompt says, 2 twice as far)")
            scored = pipeline.has_score_model()
            mode = gr.Radio([("Directions", DIRECTIONS),
                             ("Text score" if scored else "Text score (unavailable: not trained)", SCORE)],
                            value=DIRECTIONS, label="Mode", elem_id="te-mode",
                            info=("Directions: boundaries, milliseconds. Text score: optimise against our image-text "
                                  "model, a few seconds." if scored else SCORE_NEEDS))
            go = gr.Button("Edit", variant="primary", elem_id="te-go")
            score_go = gr.Button("Optimise the text score", variant="primary", elem_id="te-score-go", visible=False)
        with gr.Column(scale=3):
            pair = gr.ImageSlider(label="Before ↔ after (drag)", type="pil", format="png", elem_id="te-slider")
            parsed = gr.Textbox(label="Parsed edit", interactive=False, elem_id="te-parsed")
            status = gr.Markdown(START, elem_id="te-status")
            table = gr.Markdown("", elem_id="te-readout")

    inputs, outputs = [seed, prompt, strength, photo], [pair, parsed, status, table]
    go.click(prepare, [photo], [status], api_name=False, **POOL_WAIT).then(
        edit, inputs, outputs, api_name="text_edit", **HEAVY)
    # The text-score mode: its own event (a few seconds, with a progress bar) in the same model slots.
    score_go.click(prepare_score, [photo], [status], api_name=False, **POOL_WAIT).then(
        score, inputs, outputs, api_name="text_score", **HEAVY)
    mode.change(lambda m: (gr.update(visible=m != SCORE), gr.update(visible=m == SCORE)), [mode], [go, score_go],
                api_name=False)

    with_mode = [seed, prompt, strength, mode, photo]

    def then_edit(prepared):
        """After `prepared` (what the mode needs for the face's model is loaded): the edit of the mode
        the switch is on."""
        return prepared.then(edit_in, with_mode, outputs, api_name=False, **HEAVY).then(
            score_in, with_mode, outputs, api_name=False, **HEAVY)

    def then_prepare(event):
        return event.then(prepare_for, [mode, photo], [status], api_name=False, **POOL_WAIT)

    for trigger in (prompt.submit, strength.release):
        then_edit(trigger(prepare_for, [mode, photo], [status], api_name=False, **POOL_WAIT))
    # A seed typed (.input: not the gallery's, which lets the photo go itself) lets a held photo go.
    then_edit(then_prepare(seed.input(drop_photo, None, [photo, photo_status], api_name=False)))
    # The prompt takes the example; the choice is cleared so that the same example can be clicked again.
    def take_example(text):
        return (text, None) if isinstance(text, str) else (gr.skip(), gr.skip())

    then_edit(then_prepare(examples.input(take_example, [examples], [prompt, examples], api_name=False)))
    more.click(lambda p: (clean_seed(p) + GALLERY_SIZE) % (MAX_SEED + 1), [page], [page], api_name=False)
    page.change(gallery, [page], [samples, page], api_name=False, **HEAVY)

    def pick(evt: gr.SelectData, start):
        """A gallery face: its seed, and the held photo let go."""
        i = picked(evt, GALLERY_SIZE)
        return (gr.skip(),) * 3 if i is None else ((clean_seed(start) + i) % (MAX_SEED + 1), *drop_photo())

    then_edit(then_prepare(samples.select(pick, [page], [seed, photo, photo_status], api_name=False)))
    if photos:
        then_edit(then_prepare(upload.upload(from_photo, [upload], [photo, crop, recon, photo_status],
                                             api_name=False, **HEAVY)))

    if trained:
        def first(sd, p, ph):
            return gallery(p)[0], face_pair(sd, ph)

        on_first_open(demo, tab, fn=first, inputs=[seed, page, photo], outputs=[samples, pair], api_name=False,
                      **HEAVY)


if __name__ == "__main__":  # python -m demos.text_edit: this tab alone
    from .server import serve_tab

    serve_tab(build, "Text-guided edit")
