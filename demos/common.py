"""What every tab shares: the heavy-event concurrency limit and the notice/status styles."""
from __future__ import annotations

import gradio as gr

from core.pipelines import face_arithmetic as face_arithmetic_pipeline

# Every event that runs a model shares this one queue slot group: on a 2-core CPU more than
# two models at once only makes every user wait longer.
HEAVY = dict(concurrency_id="model", concurrency_limit=2)


def notice(title: str, body: str) -> gr.Markdown:
    """A friendly box for a tab whose model is not trained or shipped yet."""
    return gr.Markdown(f"### {title}\n\n{body}", elem_classes=["lab-notice"])


def ok(msg: str) -> str:
    return f"✅ {msg}"


def warn(msg: str) -> str:
    return f"⚠️ {msg}"


NOT_TRAINED = ("This model has not been trained yet, so there is nothing to run here. "
               "Train it with `python -m core.train {name} --promote` (or from the admin tab), "
               "and this tab picks the new weights up without a restart.")


def slider(minimum: float, maximum: float, **kwargs) -> gr.Slider:
    """A gr.Slider whose typed-in values are clamped into [minimum, maximum] instead of refused:
    Gradio's own check answers a typed 999 with a bare "Error" in the outputs."""
    s = gr.Slider(minimum, maximum, **kwargs)

    def preprocess(payload):
        try:
            x = float(payload)
        except (TypeError, ValueError):
            return s.value if isinstance(s.value, (int, float)) else minimum
        if x != x:  # NaN
            return minimum
        return min(max(x, minimum), maximum)

    s.preprocess = preprocess  # per instance: the component (and its front end) stay a Slider
    return s


# Shown when a click needs the arithmetic pool before it exists (a new machine's first minutes).
POOL_WAIT = ("Preparing the 12,000 classifier-labelled faces behind the presets and attribute directions: "
             "the first time on a machine this takes 1-2 min on a CPU, later it is read from disk at once.")


def face_arithmetic():
    """The shared FaceArithmetic (raises NotTrainedError); says why this click waits when its
    labelled pool is not built yet."""
    arith = face_arithmetic_pipeline.load()
    if not arith.pool_ready:
        gr.Info(POOL_WAIT, duration=15)
    return arith
