"""Horse <-> zebra tab: the translation, the translation back (cycle) and what changed."""
from __future__ import annotations

import time

import gradio as gr

from core.pipelines import NotTrainedError
from core.pipelines import horse2zebra as pipeline
from core.pipelines.horse2zebra import DIRECTIONS, ImageError

from .common import HEAVY, NOT_TRAINED, notice, ok, scratch_dir, warn
from .inputs import picked

NAME = "horse2zebra"


def translate(image, direction: str):
    """image: a file path or PIL image. Returns (slider pair, output, reconstruction, difference,
    identity, status)."""
    if image is None:
        return None, None, None, None, None, "Upload a photo of a horse (or a zebra), or pick an example."
    if direction not in DIRECTIONS:
        return None, None, None, None, None, warn("Pick a direction.")
    try:
        pipe = pipeline.load(NAME)
    except NotTrainedError:
        return None, None, None, None, None, warn(NOT_TRAINED.format(name=NAME))
    try:
        t0 = time.perf_counter()
        t = pipe(image, direction)
        ms = (time.perf_counter() - t0) * 1000
    except (ImageError, ValueError) as e:
        return None, None, None, None, None, warn(str(e))
    note = f" · {t.note}" if t.note else ""
    return ((t.input, t.output), t.output, t.reconstruction, t.difference, t.identity,
            ok(f"{direction}: {t.output.width}x{t.output.height} in {ms:.0f} ms{note} · cycle back: {t.cycle_psnr:.1f} dB · "
               f"identity: {t.identity_psnr:.1f} dB (PSNR against the input; higher = closer) · changed: "
               f"{100 * t.changed_share:.0f} % of the pixels by more than {100 * pipeline.CHANGED:.0f} % "
               f"(mean change {100 * t.mean_change:.0f} %)"))


def judge(image, direction: str, show: bool):
    """The discriminators' per-patch verdicts on the input and on its translation (when `show`):
    -> (input judged, output judged, note). The translation is made again from the uploaded file
    (the picture on screen is not taken back from the client: that would let anyone post any image
    for Gradio to decode)."""
    if not show:
        return gr.update(visible=False, value=None), gr.update(visible=False, value=None), gr.update(visible=False)
    hidden = gr.update(visible=True, value=None)
    if image is None:
        return hidden, hidden, gr.update(visible=True, value="Upload a photo or pick an example first.")
    if direction not in DIRECTIONS:
        return hidden, hidden, gr.update(visible=True, value=warn("Pick a direction."))
    try:
        v_in, v_out = pipeline.load(NAME).verdicts(image, direction)
    except NotTrainedError:
        return hidden, hidden, gr.update(visible=True, value=warn("This checkpoint kept no discriminators."))
    except (ImageError, ValueError) as e:
        return hidden, hidden, gr.update(visible=True, value=warn(str(e)))
    source, target = direction.split(" → ")
    note = (f"The {target} critic calls {100 * v_out.real_share:.0f} % of the translation's patches real "
            f"(mean {v_out.mean:.2f}); the {source} critic calls {100 * v_in.real_share:.0f} % of the input's "
            f"patches real (mean {v_in.mean:.2f}). Each cell is one 70 px patch; "
            "green: judged real, purple: judged fake.")
    return (gr.update(visible=True, value=v_in.overlay), gr.update(visible=True, value=v_out.overlay),
            gr.update(visible=True, value=ok(note)))


def build(demo: gr.Blocks) -> None:
    if not pipeline.has_checkpoint(NAME):
        notice("Horse ↔ zebra (CycleGAN)", NOT_TRAINED.format(name=NAME))
    examples = pipeline.examples()
    gr.Markdown("## Horse ↔ zebra (CycleGAN)\nTwo generators learn A→B and B→A from unpaired photos. The cycle "
                "loss asks B→A to undo A→B, which is why the horse keeps its pose and the picture its layout. It "
                "does not keep every pixel: this small model, trained on a 2-core CPU, also repaints the "
                "background a little (a browner meadow, grain in the sky), so *What changed* is lit over the whole "
                "picture, not only on the animal; the status line says how much changed.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            upload = gr.File(label="Upload a photo", type="filepath", file_types=["image", ".tif", ".tiff"],
                             elem_id="h2z-upload")
            direction = gr.Radio(list(DIRECTIONS), value="horse → zebra", label="Direction", elem_id="h2z-direction")
            gallery = gr.Gallery(value=[(im, name) for name, im in examples.items()], label="Examples (click)",
                                 columns=4, allow_preview=False, elem_id="h2z-examples",
                                 elem_classes=["lab-fit", "lab-captions"])  # CSS: all shown, captions whole
            status = gr.Markdown("Upload a photo of a horse (or a zebra), or pick an example.", elem_id="h2z-status")
        with gr.Column(scale=3):
            slider = gr.ImageSlider(label="Input ↔ output (drag)", type="pil", elem_id="h2z-slider")
    with gr.Row():
        output = gr.Image(label="Translation", type="pil", interactive=False)
        rec = gr.Image(label="Back again (cycle reconstruction)", type="pil", interactive=False)
        diff = gr.Image(label="What changed (|output − input| ×4)", type="pil", interactive=False)
        same = gr.Image(label="Identity (other generator on the input)", type="pil",
                        interactive=False)
    gr.Markdown("*Translation* uses one generator; *back again* feeds the result to the other one (the cycle "
                "loss trains this to return the input); *what changed* is the difference between translation and "
                "input, four times brighter (white: a quarter of the pixel range or more), wherever it is; "
                "*identity* shows the other generator on the input "
                "itself: a horse is already a horse for zebra → horse, and the identity loss trains it to keep "
                "colours and composition when there is nothing to translate.")
    show = gr.Checkbox(False, label="What the discriminators think (PatchGAN verdicts, patch by patch)",
                       visible=pipeline.has_critics(NAME), elem_id="h2z-critic-toggle")
    with gr.Row():
        critic_in = gr.Image(label="The input, judged by its own domain's critic", type="pil", interactive=False,
                             visible=False, elem_id="h2z-critic-input")
        critic_out = gr.Image(label="The translation, judged by the target domain's critic", type="pil",
                              interactive=False, visible=False, elem_id="h2z-critic-output")
    critic_note = gr.Markdown(visible=False, elem_id="h2z-critic-status")
    outs = [slider, output, rec, diff, same, status]
    critic_args = dict(fn=judge, inputs=[upload, direction, show], outputs=[critic_in, critic_out, critic_note],
                       api_name=False, **HEAVY)
    upload.change(translate, inputs=[upload, direction], outputs=outs, api_name="horse2zebra", **HEAVY).then(**critic_args)
    direction.change(translate, inputs=[upload, direction], outputs=outs, api_name=False, **HEAVY).then(**critic_args)
    show.change(**critic_args)
    names = list(examples)

    # The upload box holds files, so the examples are written once as PNGs into a temp folder.
    folder = scratch_dir() / "h2z_examples"  # kept for the process's life (not pruned)
    folder.mkdir(exist_ok=True)
    files = []
    for i, name in enumerate(names):
        files.append(str(folder / f"{i}_{name.replace(' ', '_')}.png"))
        examples[name].save(files[-1])

    def pick(evt: gr.SelectData):
        # The example goes into the upload box, whose change event translates it: switching the
        # direction afterwards then works on the example too.
        i = picked(evt, len(files))
        return gr.skip() if i is None else files[i]

    gallery.select(pick, outputs=[upload], api_name=False)


if __name__ == "__main__":  # python -m demos.horse2zebra: this tab alone
    from .server import serve_tab

    serve_tab(build, "Horse ↔ zebra")
