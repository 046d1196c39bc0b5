"""Per-frame time of the sketch-to-photo tab on this machine (not a test: figures go to docs).

    python bench/sketch2photo_latency.py [--repeats 50] [--checkpoint DIR] [--precisions fp32] [--json FILE]

Reports the model alone (bf16 weights + channels_last, and fp32) at the model's 128px, the
input normalisation (binarise, fit, stroke width) for a 512px canvas drawing, and the whole call.
For a hinted model also one canvas request as the tab serves it (`tab_request_*`): the sneaker drawn
at 512 px and sent at 256 px as the page does, the tab's starting swatch washed over it, the model
with those hints (demos.sketch2photo.translate_drawing end to end, and its steps alone).
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import torch  # noqa: E402

from bench.common import DTYPES, emit, machine, timed  # noqa: E402
from core.checkpoint import load_checkpoint  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.pipelines.sketch2photo import Sketch2PhotoPipeline, examples  # noqa: E402
from core.registry import get_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--checkpoint", type=Path, default=get_spec("sketch2photo").checkpoint_dir)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--precisions", nargs="+", choices=list(DTYPES), default=["bf16", "fp32"],
                    help="fp32 alone on a CPU without native bf16, where bf16 is emulated and slow")
    args = ap.parse_args()
    setup_threads()
    drawing = examples(512)["handbag"]
    report = machine()
    report["checkpoint"] = str(args.checkpoint)
    for precision in args.precisions:
        nets, meta = load_checkpoint(args.checkpoint)  # afresh: the pipeline casts the net in place
        # The dtype is forced, so that a CPU without native bf16 shows why it is served fp32.
        pipe = Sketch2PhotoPipeline(nets["G"], int(meta.get("image_size", 128)), torch.device("cpu"), DTYPES[precision],
                                    meta)
        x = pipe.prepare(drawing)
        report[f"model_{precision}"] = timed(lambda: pipe.run(x), args.repeats)
        if precision == args.precisions[0]:
            report["prepare_512px_drawing"] = timed(lambda: pipe.prepare(drawing), args.repeats)
            report[f"whole_call_{precision}"] = timed(lambda: pipe(drawing), args.repeats)
            if pipe.hinted and args.checkpoint == get_spec("sketch2photo").checkpoint_dir:
                report.update(tab_request(pipe, args.repeats))
    emit(report, args.json)


def tab_request(pipe: Sketch2PhotoPipeline, repeats: int) -> dict:
    """One canvas request's steps, timed alone and end to end (the shipped model, as the tab loads it)."""
    import base64
    import io

    from PIL import Image

    from core.pipelines.sketch2photo import colour_hints
    from demos import sketch2photo as tab

    buf = io.BytesIO()
    examples(tab.CANVAS)["sneaker"].resize((tab.SEND, tab.SEND), Image.LANCZOS).save(buf, "PNG")
    colour = dict(tab.SWATCHES)[tab.DEFAULT_SWATCH]
    rgb = tab.parse_colour(colour)
    x = pipe.prepare(buf.getvalue())
    hints = colour_hints(x, rgb)
    payload = {"image": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), "colour": colour}
    assert tab.translate_drawing(payload)["ok"]
    return {"tab_request_prepare_256px": timed(lambda: pipe.prepare(buf.getvalue()), repeats),
            "tab_request_colour_wash": timed(lambda: colour_hints(x, rgb), repeats),
            "tab_request_model_with_hints": timed(lambda: pipe.run(x, hints), repeats),
            "tab_request_end_to_end": timed(lambda: tab.translate_drawing(payload), repeats)}


if __name__ == "__main__":
    main()
