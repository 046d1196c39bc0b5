"""Inpainting tab: paint over part of a face and see the hole filled three ways side by side: our
network (a context encoder trained with an SN-PatchGAN, in milliseconds), semantic inpainting with the
faces GAN as the prior (Yeh et al. 2017: a search of its latent space, seconds, with a progress bar),
and the classical biharmonic baseline. Faces come from the faces GAN (a seed, or the latent walk's
"send"), or from an upload cut to the face square the faces GAN was trained on."""
from __future__ import annotations

import gradio as gr
import numpy as np
from PIL import Image

from core.pipelines import NotTrainedError
from core.pipelines import inpainting as pipeline
from core.pipelines.faces import clean_seed
from core.pipelines.gan_prior import RESTARTS, STEPS
from core.pipelines.images import ImageError, open_image, peek

from .common import HEAVY, NOT_TRAINED, notice, ok, on_first_open, shared, warn
from .inputs import PaintEditor, number, paint_editor

NAME = "inpainting"
FACE_MAX = 256  # px: an upload's face square is filled at its own size up to this (the nets work at 64)
PAINT = (255, 0, 255)  # the brush: magenta at PAINT_ALPHA, opaque enough to count as hole, the face shows through
PAINT_ALPHA = 0.6
BRUSH_SHARE = 0.06  # brush radius / face side: strokes 12 % of the side wide, as the training masks' (6-16 %)
SHOW = 256  # px: how large the pictures are shown
START = "Paint over part of the face (or press **Centre square**), then press **Fill**."
NO_FACE = "Pick a face first: a seed, an upload, or the latent walk's “send to inpainting”."
FACES_NEEDED = "The GAN prior needs the faces GAN (`python -m core.train faces --promote`)."


# ---- helpers (no model) --------------------------------------------------------------------------
def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def tinted(face: np.ndarray, hole: np.ndarray | None) -> Image.Image:
    """The face uint8 [S, S, 3] with the hole bool [S, S] painted over as the brush paints (so a preset
    hole, the centre square, looks like painted strokes)."""
    out = face.astype(np.float32)
    if hole is not None:
        out[hole] = (1 - PAINT_ALPHA) * out[hole] + PAINT_ALPHA * np.array(PAINT, np.float32)
    return Image.fromarray(out.round().astype(np.uint8), "RGB")


def holed(face: np.ndarray, hole: np.ndarray) -> Image.Image:
    """The face with its hole grey (0 in the nets' [-1, 1] range): what the three methods are given."""
    out = face.copy()
    out[hole] = 128
    return Image.fromarray(out, "RGB")


def editor(face: np.ndarray, preset: np.ndarray | None = None) -> PaintEditor:
    """The editor showing `face` (and a preset hole), its painted layer cleared, with a brush sized to it."""
    size = max(2, round(face.shape[0] * BRUSH_SHARE))
    return PaintEditor({"background": tinted(face, preset), "layers": [], "composite": None},
                       brush=gr.Brush(default_size=size, colors=[(f"rgb{PAINT}", PAINT_ALPHA)], color_mode="fixed"),
                       eraser=gr.Eraser(default_size=size))


def painted(layers: list, side: int) -> np.ndarray:
    """The editor's painted layers (PIL, any size) -> bool [side, side]: True wherever a layer is more than
    half opaque over any part of the pixel (a stroke thinner than a pixel of the face still counts).
    Raises ImageError for a layer that cannot be decoded."""
    hole = np.zeros((side, side), dtype=bool)
    for layer in layers or []:
        try:
            alpha = np.asarray(layer.convert("RGBA"))[..., 3] > 127
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            raise ImageError("could not read the painted layer") from e
        if alpha.shape != (side, side):  # BOX: a pixel's share of painted area, > 0 where any is
            alpha = np.asarray(Image.fromarray(alpha.astype(np.uint8) * 255).resize((side, side), Image.BOX)) > 0
        hole |= alpha
    return hole


# ---- the face --------------------------------------------------------------------------------------
def _pipe():
    return pipeline.load(NAME)


def shipped() -> bool:
    """Whether the model is there (else app.py keeps the "coming" tab in its place)."""
    return pipeline.has_checkpoint(NAME)


def cleared() -> tuple:
    """Empty results: (the hole, ours, prior, baseline, their three times, the prior's job)."""
    return None, None, None, None, "", "", "", None


def _new_face(face: np.ndarray, status: str) -> tuple:
    """(editor, face, preset hole, status, *cleared results) for a new face uint8 [S, S, 3]."""
    return editor(face), face, None, status, *cleared()


def _nothing(status: str) -> tuple:
    return gr.skip(), gr.skip(), gr.skip(), status, *[gr.skip()] * len(cleared())


def from_seed(seed) -> tuple:
    """A face of the faces GAN, at the size it makes (64 px, the nets' own)."""
    try:
        pipe = _pipe()
        faces = pipe.faces
    except NotTrainedError:
        return _nothing(warn("Faces by seed need the faces GAN and this tab's model; upload a photo instead."))
    s = clean_seed(seed)
    face = faces.images(faces.z(s), pipe.image_size)[0]
    return _new_face(np.asarray(face).copy(), ok(f"The face of seed {s}, {pipe.image_size} px as the GAN makes it. "
                                                 f"{START}"))


def from_upload(path) -> tuple:
    """An uploaded photo: cut to its face square (pipeline.face_crop) and shrunk to FACE_MAX at most,
    with a note on both."""
    if path is None:
        return _nothing(gr.skip())
    try:
        im = open_image(path)
    except ImageError as e:
        return _nothing(warn(_sentence(str(e))))
    im, note = pipeline.face_crop(im)
    notes = [note] if note else []
    if im.width > FACE_MAX:
        notes.append(f"shrunk from {im.width} to {FACE_MAX} px (the nets work at 64)")
        im = im.resize((FACE_MAX, FACE_MAX), Image.LANCZOS)
    if im.width < pipeline.MIN_SIDE:
        return _nothing(warn(f"The photo is too small ({im.width} px); use at least {pipeline.MIN_SIDE} px a side."))
    said = f"Note: {'; '.join(notes)}. " if notes else ""
    return _new_face(np.asarray(im).copy(), ok(f"Your photo, {im.width}x{im.height} px. {said}{START}"))


def from_walk(seed_a, seed_b, mode, t, pick_a, pick_b=None, model=None) -> tuple:
    """The latent walk's face on the path (its "send" button), decoded by the walk's own faces model;
    then this tab is shown."""
    from .latent_walk import path_face

    try:
        face = path_face(seed_a, seed_b, mode, t, pick_a, pick_b, model, _pipe().image_size)
    except NotTrainedError:
        return (*_nothing(warn(NOT_TRAINED.format(name="faces"))), gr.Tabs(selected=NAME))
    status = ok(f"The latent walk's face on its path. {START}")
    return *_new_face(np.asarray(face).copy(), status), gr.Tabs(selected=NAME)


def centre(face) -> tuple:
    """The centre square (half the side, as in Pathak et al. and a quarter of the training masks) as
    the hole, painted strokes cleared: (editor, preset hole)."""
    if face is None:
        return gr.skip(), None
    return editor(face, pipeline.center_mask(face.shape[0])), pipeline.center_mask(face.shape[0])


def clear_mask(face) -> tuple:
    """No hole: the face as it is, the strokes and the results cleared."""
    if face is None:
        return gr.skip(), None, *cleared()
    return editor(face), None, *cleared()


# ---- the fills ------------------------------------------------------------------------------------
def fill(face, preset, layers) -> tuple:
    """Ours and the baseline for the painted hole (and any preset one) -> (the hole, ours, baseline,
    ours' time, baseline's time, status, the prior's job {"face", "hole"} or None)."""
    if face is None:
        return None, None, None, "", "", warn(NO_FACE), None
    side = face.shape[0]
    hole = painted(layers, side) | (preset if preset is not None else False)
    try:
        pipe = _pipe()
        prepared = pipe.prepare(face, hole)
        ours, base = pipe.fill(prepared), pipe.baseline(prepared)
    except NotTrainedError:
        return None, None, None, "", "", warn(NOT_TRAINED.format(name=NAME)), None
    except (ImageError, ValueError) as e:
        return None, None, None, "", "", warn(_sentence(str(e))), None
    blended = " (with the seam blend at this size)" if side != pipe.image_size else ""
    status = ok(f"{100 * hole.mean():.0f} % of the {side}x{side} face filled: ours {_ms(ours.seconds)}{blended}, "
                f"biharmonic {_ms(base.seconds)}; the GAN prior follows.")
    return (holed(face, hole), ours.image, base.image, f"Ours: **{_ms(ours.seconds)}**",
            f"Biharmonic: **{_ms(base.seconds)}**", status, {"face": face, "hole": hole})


def fill_prior(job, progress=gr.Progress()) -> tuple:
    """The faces GAN's prior for the last fill's hole -> (its fill, its time)."""
    if not isinstance(job, dict):
        return gr.skip(), gr.skip()
    try:
        pipe = _pipe()
        prepared = pipe.prepare(job["face"], job["hole"])
        result = pipe.prior(prepared, progress=lambda done, steps: progress((done, steps), desc="GAN prior: searching"))
    except NotTrainedError:
        return None, FACES_NEEDED
    except (ImageError, ValueError) as e:
        return None, _sentence(str(e))
    return result.image, f"GAN prior: **{_ms(result.seconds)}** ({STEPS} steps from {RESTARTS} starts)"


# ---- the API -------------------------------------------------------------------------------------------
def _upright_size(path) -> tuple[int, int]:
    """An image file's (width, height) once turned upright by its EXIF orientation, from the header
    (raises ImageError). PNG keeps its EXIF after the pixels (reading it decodes them): its raw size."""
    im = peek(path)
    turned = False
    if im.format != "PNG":
        try:
            turned = im.getexif().get(0x0112) in (5, 6, 7, 8)
        except Exception:  # noqa: BLE001 - a broken EXIF block: the decoder ignores it too
            pass
    return (im.height, im.width) if turned else im.size


def inpaint_api(image, mask, with_prior=False) -> tuple:
    """For API users: (image file, mask file of the same size: white or opaque = hole, with the prior)
    -> (ours, baseline, prior or None, status). A non-square image is centre-cropped to its largest
    square (the status says so); every known pixel keeps its value."""
    if image is None or mask is None:
        return None, None, None, warn("Send an image file and a mask file (white, or opaque, where to fill).")
    try:
        size, mask_size = _upright_size(image), _upright_size(mask)  # headers only: nothing decoded yet
        if size != mask_size:
            raise ValueError(f"the mask is {mask_size[0]}x{mask_size[1]} but the image is {size[0]}x{size[1]}: "
                             "send a mask of the image's size")
        pipe = _pipe()
        prepared = pipe.prepare(image, mask)
    except NotTrainedError:
        return None, None, None, warn(NOT_TRAINED.format(name=NAME))
    except (ImageError, ValueError) as e:
        return None, None, None, warn(_sentence(str(e)))
    ours, base, prior = pipe.fill(prepared), pipe.baseline(prepared), None
    times = [f"ours {_ms(ours.seconds)}", f"biharmonic {_ms(base.seconds)}"]
    if with_prior is True:
        try:
            prior = pipe.prior(prepared)
            times.append(f"GAN prior {_ms(prior.seconds)}")
        except NotTrainedError:
            times.append(FACES_NEEDED)
    note = f" · {prepared.note}" if prepared.note else ""
    return (ours.image, base.image, prior.image if prior else None,
            ok(f"{ours.image.width}x{ours.image.height}: {', '.join(times)}{note}"))


# ---- layout --------------------------------------------------------------------------------------
def _result(label: str, elem: str) -> tuple[gr.Image, gr.Markdown]:
    with gr.Column(min_width=160):
        image = gr.Image(label=label, type="pil", format="png", interactive=False, height=SHOW, elem_id=elem,
                         elem_classes=["lab-enlarge"])
        caption = gr.Markdown("", elem_id=f"{elem}-time")
    return image, caption


def build(demo: gr.Blocks, tab: gr.Tab | None = None) -> None:
    """The tab; its first face is drawn when `tab` is first selected (in the whole app), or at page
    load (this tab alone)."""
    if not shipped():
        notice("Inpainting", NOT_TRAINED.format(name=NAME))
    gr.Markdown(
        "## Inpainting: three ways to fill a hole in a face\n"
        "**Ours**: a small network (1 M parameters) trained to fill holes in faces: L1 on the hole and an "
        "SN-PatchGAN critic that judges every part of the completed face (Pathak et al. 2016, Yu et al. 2019). "
        "**GAN prior**: no inpainting training at all; the faces GAN's latent space is searched for the face whose "
        "known pixels match yours best, and its pixels fill the hole (Yeh et al. 2017). **Biharmonic**: classical "
        "smooth interpolation from the hole's edge. Every known pixel is kept exactly.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            seed = number(7, label="A face of the faces GAN: seed", precision=0, elem_id="inp-seed")
            upload = gr.File(label="Or upload a face photo (cut to its face square)", type="filepath",
                             file_types=["image", ".tif", ".tiff"], elem_id="inp-upload")
            with gr.Row():
                centre_btn = gr.Button("Centre square", elem_id="inp-centre")
                clear_btn = gr.Button("Clear mask", elem_id="inp-clear")
                fill_btn = gr.Button("Fill", variant="primary", elem_id="inp-fill")
            status = gr.Markdown(START, elem_id="inp-status")
            gr.Markdown("Paint with the brush (the eraser takes strokes away). **Centre square** makes the centre the "
                        "hole, shown in the brush's colour; strokes painted after it add to it; **Clear mask** "
                        "starts again.")
        with gr.Column(scale=3):
            canvas = paint_editor(label="Paint the hole", height=420, format="png", elem_id="inp-editor", buttons=[])
    with gr.Row(equal_height=False):
        masked, _ = _result("What the methods get (hole grey)", "inp-hole")
        ours, ours_time = _result("Ours (network)", "inp-ours")
        prior, prior_time = _result("Faces GAN prior (Yeh et al. 2017)", "inp-prior")
        base, base_time = _result("Biharmonic (classical)", "inp-base")
    face, preset, job = gr.State(None), gr.State(None), gr.State(None)  # face uint8 [S, S, 3]; holes bool [S, S]

    face_out = [canvas, face, preset, status, masked, ours, prior, base, ours_time, prior_time, base_time, job]
    fill_args = dict(fn=fill, inputs=[face, preset, canvas], outputs=[masked, ours, base, ours_time, base_time, status,
                                                                       job], api_name=False, **HEAVY)
    # The prior in an event of its own after the fast fills, so that theirs show first.
    prior_args = dict(fn=fill_prior, inputs=[job], outputs=[prior, prior_time], api_name=False, **HEAVY)

    seed.change(from_seed, [seed], face_out, api_name=False, **HEAVY)
    upload.change(from_upload, [upload], face_out, api_name=False, **HEAVY)
    fill_btn.click(**fill_args).then(**prior_args)
    centre_btn.click(centre, [face], [canvas, preset], api_name=False).then(**fill_args).then(**prior_args)
    clear_btn.click(clear_mask, [face], [canvas, preset, *face_out[4:]], api_name=False)

    # The latent walk's "send to inpainting" (when the app has that tab): its face comes here, and so does the page.
    sender, tabs = shared(demo, "latent_walk.send"), shared(demo, "tabs")
    if sender is not None and tabs is not None and shipped():
        button, walk_inputs = sender
        button.visible = True
        button.click(from_walk, walk_inputs, [*face_out, tabs], api_name=False, **HEAVY)

    # The API: one call (hidden components carry its arguments).
    api_image, api_mask = gr.File(visible=False), gr.File(visible=False)
    api_prior = gr.Checkbox(False, visible=False)
    api_out = [gr.Image(visible=False, type="pil", format="png") for _ in range(3)]
    api_image.change(inpaint_api, [api_image, api_mask, api_prior], [*api_out, gr.Markdown(visible=False)],
                     api_name="inpaint", **HEAVY)

    if shipped():
        def first(current, s):
            """The seed's face, unless a face is already there (e.g. sent from the latent walk)."""
            return _nothing(gr.skip()) if current is not None else from_seed(s)

        on_first_open(demo, tab, fn=first, inputs=[face, seed], outputs=face_out, api_name=False, **HEAVY)


if __name__ == "__main__":  # python -m demos.inpainting: this tab alone
    from .server import serve_tab

    serve_tab(build, "Inpainting")
