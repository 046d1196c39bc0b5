"""The hardened inputs (demos/inputs.py): what any client may send becomes a value or a clear
refusal, never a crash inside Gradio."""
from __future__ import annotations

import math

import gradio as gr
import pytest

from demos.inputs import number, picked, slider


def test_numbers_clamp_refuse_junk_and_default_on_empty():
    with gr.Blocks():
        epoch = number(0, minimum=0, precision=0, label="epoch")
        seed = number(11, precision=0, label="Face A: seed")
    assert epoch.preprocess(-5) == 0  # a negative epoch is the first one, not "silently nothing"
    assert epoch.preprocess(None) == 0 and seed.preprocess("") == 11
    assert seed.preprocess(2.6) == 3 and seed.preprocess("12") == 12 and isinstance(seed.preprocess(1e300), int)
    for junk in (math.nan, math.inf, -math.inf, "abc", [1], {"a": 1}, True):
        with pytest.raises(gr.Error, match="Face A: seed: expected a number"):
            seed.preprocess(junk)


def test_sliders_clamp_and_refuse_nan_instead_of_moving_to_an_end():
    with gr.Blocks():
        smile = slider(-3, 3, value=0, step=0.1, label="Smiling")
    assert smile.preprocess(999) == 3 and smile.preprocess(-999) == -3 and smile.preprocess(None) == 0
    with pytest.raises(gr.Error, match="Smiling"):
        smile.preprocess(math.nan)  # was -3 (the minimum): a big edit nobody asked for


def test_a_forged_or_stale_index_picks_nothing():
    class Event:
        def __init__(self, index):
            self.index = index

    assert picked(Event(2), 4) == 2
    for index in (4, -1, 10**30, "1", None, 1.0, True, [1]):
        assert picked(Event(index), 4) is None
