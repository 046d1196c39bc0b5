"""What every tab shares: the heavy-event concurrency limit and the notice/status styles."""
from __future__ import annotations

import gradio as gr

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
