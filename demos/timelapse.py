"""How it learned (issue 18, part 4): for each shipped model that has one, a slider over the frames
its training saved (the model's own outputs on fixed inputs made in code), with its loss curves and
live metric beside them, marked at the frame's step. Everything is read from
checkpoints/<model>/timelapse/ (core/pipelines/timelapse.py): no model runs here, so the events are
light and have their own small queue group."""
from __future__ import annotations

import gradio as gr

from core.pipelines import timelapse as pipeline

from .common import notice, ok
from .inputs import refused, slider

# Light events (one checked PNG read and two charts drawn with Pillow: 5-10 ms): their own group, so a
# slider drag never waits behind a model in the shared "model" slots.
LIGHT = dict(concurrency_id="timelapse", concurrency_limit=4)
MAKE_ONE = ("Promoting a run made with this version of the code ships its time-lapse (`python -m core.train NAME "
            "--promote`, or the admin tab); for a finished run: `python -m core.train.timelapse runs/RUN "
            "--out checkpoints/NAME/timelapse`.")


def _load(name):
    """The checked time-lapse of `name`, or a gr.Error saying why there is none."""
    if not isinstance(name, str) or not name:
        raise refused("Pick a model: no model has a time-lapse yet. " + MAKE_ONE)
    try:
        return pipeline.load(name)
    except KeyError:
        raise refused(f"Unknown model {name[:60]!r}.") from None
    except FileNotFoundError:
        raise refused(f"{name} has no time-lapse. " + MAKE_ONE) from None
    except pipeline.TimelapseError as e:
        raise refused(f"{name}'s time-lapse cannot be shown: {e}") from None


def _index(lapse, value) -> int:
    """The slider's value as a frame index of `lapse`; a value outside it is refused with the range."""
    i = round(float(value if value is not None else len(lapse) - 1))
    if not 0 <= i < len(lapse):
        raise refused(f"Frame {i} does not exist: {lapse.title} has {len(lapse)} frames (0 to {len(lapse) - 1}).")
    return i


def _status(lapse, v) -> str:
    figures = [f"{k} {c.at(v.step):.3g}" for k, c in lapse.metrics.items() if c.at(v.step) is not None]
    k = lapse.stage_of(v.step)
    stage = f" · stage {k + 1} of {len(lapse.stages)} (`{lapse.stages[k][0]}`)" if lapse.stages else ""
    return ok(f"**Step {v.step:,}** of {lapse.last_step:,} (frame {v.index + 1} of {v.total})" + stage
              + (f" · {', '.join(figures)}" if figures else ""))


def _frame(name, value) -> tuple[str, pipeline.View, str]:
    """(model, slider value) -> (the frame's label, its view, the status line)."""
    lapse = _load(name)
    try:
        v = pipeline.view(name, _index(lapse, value))
    except pipeline.TimelapseError as e:
        raise refused(f"{name}'s time-lapse cannot be shown: {e}") from None
    return f"{lapse.title}, step {v.step:,}", v, _status(lapse, v)


def show(name, value):
    """(model, frame index) -> (frame, loss chart, metric chart, status)."""
    label, v, status = _frame(name, value)
    return gr.update(value=v.frame, label=label), v.losses, v.metrics, status


def _model(name) -> dict:
    """Everything the tab shows for a newly picked model, at its last frame."""
    lapse = _load(name)
    label, v, status = _frame(name, len(lapse) - 1)
    try:
        inputs = lapse.inputs_image()
    except pipeline.TimelapseError as e:
        raise refused(f"{name}'s time-lapse cannot be shown: {e}") from None
    caption = (f"**What the frames show:** {lapse.caption or 'the model outputs'}. Run `{lapse.run}`, "
               f"{len(lapse)} frames from step {lapse.steps[0]:,} to {lapse.steps[-1]:,}."
               + (f"\n\n{lapse.note}" if lapse.note else ""))
    return dict(last=len(lapse) - 1, label=label, view=v, status=status, inputs=inputs, caption=caption)


def choose(name):
    """A model picked -> its last frame: (slider, frame, losses, metrics, status, inputs, caption)."""
    m = _model(name)
    v = m["view"]
    return (gr.update(maximum=m["last"], value=m["last"]), gr.update(value=v.frame, label=m["label"]), v.losses,
            v.metrics, m["status"], gr.update(value=m["inputs"], visible=m["inputs"] is not None), m["caption"])


def build(demo: gr.Blocks | None = None) -> None:
    names = pipeline.available()
    gr.Markdown("## How it learned\nSlide through training: what each shipped model made from the same fixed "
                "inputs at a few dozen steps of its run (its own outputs only; the inputs are made by this "
                "project's code), with the losses and the live metric at that step.")
    first, start = (names[0] if names else None), None
    if first is not None:  # the first model's last frame in the page as built: no request at page load
        try:
            start = _model(first)
        except gr.Error as e:
            notice("Time-lapse unreadable", str(e))
    if not names:
        notice("No time-lapse yet", "No shipped model has a training time-lapse yet. " + MAKE_ONE
               + " The list of models is read when the app starts.")
    view = start["view"] if start else None
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            model = gr.Dropdown([(pipeline.get_spec(n).title, n) for n in names], value=first, label="Model",
                                elem_id="tl-model")
            caption = gr.Markdown(start["caption"] if start else "", elem_id="tl-caption")
            frame = gr.Image(view.frame if view else None, label=start["label"] if start else "The model's outputs",
                             type="pil", format="png", interactive=False, elem_id="tl-frame")
            # The checked value passes through unclamped (text and NaN are refused there), so that show()
            # refuses a frame outside the chosen model's with its range; the page's bounds follow the model.
            index = slider(-10**9, 10**9, value=start["last"] if start else 0, step=1,
                           label="Frame (slide through training)", elem_id="tl-slider")
            index.minimum, index.maximum = 0, start["last"] if start else 0
            status = gr.Markdown(start["status"] if start else "No time-lapse to show.", elem_id="tl-status")
            inputs = gr.Image(start["inputs"] if start else None, label="The fixed inputs (made in code)", type="pil",
                              format="png", interactive=False, visible=bool(start and start["inputs"] is not None),
                              elem_id="tl-inputs")
        with gr.Column(scale=2):
            # The charts carry their own titles: no label badge over them.
            losses = gr.Image(view.losses if view else None, label="Losses", show_label=False, type="pil",
                              format="png", interactive=False, elem_id="tl-losses")
            metrics = gr.Image(view.metrics if view else None, label="Live metrics", show_label=False, type="pil",
                               format="png", interactive=False, elem_id="tl-metrics")
    model.change(choose, [model], [index, frame, losses, metrics, status, inputs, caption],
                 api_name="timelapse_model", **LIGHT)
    # .input: only a person's (or a script's) move; choose() sets the slider itself and draws that frame.
    index.input(show, [model, index], [frame, losses, metrics, status], api_name="timelapse_frame",
                trigger_mode="always_last", **LIGHT)


if __name__ == "__main__":  # python -m demos.timelapse: this tab alone
    from .server import serve_tab

    serve_tab(build, "How it learned")
