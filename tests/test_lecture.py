"""Lecture mode's table (demos/lecture.py): every working tab has notes; the LaTeX is well formed
and uses only commands KaTeX knows; the numbers in the formulas are the ones the code trains with;
the pre-computed examples exist, open and stay small; the mode adds no server event. Fast: no model
runs, no app is launched (tests/test_browser_lecture.py renders it all in Chromium)."""
from __future__ import annotations

import json
import re

import gradio as gr
import pytest
from PIL import Image

import app
from demos import lecture

KEYS_WITHOUT_NOTES = {"admin", "timelapse"}  # views over the other models
MAX_ASSETS_BYTES = 1_500_000
# Every command the formulas may use: all of them KaTeX functions (https://katex.org/docs/supported).
# A command outside this list is a typo or one KaTeX may not render: add it here only after checking.
KATEX_COMMANDS = {
    "arg", "begin", "big", "Big", "bar", "cdot", "cos", "end", "epsilon", "exp", "frac", "hat", "hline",
    "in", "lambda", "left", "log", "lVert", "rVert", "mathbb", "mathcal", "mathrm", "max", "mid",
    "min", "nabla", "Omega", "propto", "qquad", "quad", "right", "sigma", "sin", "sqrt", "sum", "text", "textstyle",
    "tfrac", "tilde", "times", "to", "approx", "Vert", "ge", "alpha", "sim", "odot", "perp", "Delta", "mu", "phi",
}
BRACES = re.compile(r"\\[{}]")


def _working_tabs() -> list[str]:
    return [key for label, key, _ in app.TABS if key not in KEYS_WITHOUT_NOTES and not label.endswith("(coming)")]


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in BRACES.sub("", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _inline_maths(text: str) -> list[str]:
    """The $...$ pieces of a Markdown line (the line must have an even number of $)."""
    assert text.count("$") % 2 == 0, f"unpaired $ in {text!r}"
    return text.split("$")[1::2]


def _all_tex(lec: lecture.Lecture) -> list[str]:
    return [*lec.objective, *_inline_maths(lec.notes), *(m for line in lec.look for m in _inline_maths(line))]


def test_every_working_tab_has_notes():
    missing = [key for key in _working_tabs() if key not in lecture.LECTURES]
    assert not missing, f"add lecture notes for {missing} to demos/lecture.LECTURES"
    assert not KEYS_WITHOUT_NOTES & set(lecture.LECTURES)
    known = {key for _, key, _ in app.TABS} | {"colorization"}  # colorization may be "coming" in a checkout
    assert set(lecture.LECTURES) <= known, "notes for a tab app.TABS does not have"


@pytest.mark.parametrize("key", sorted(lecture.LECTURES))
def test_the_notes_have_their_parts(key):
    lec = lecture.LECTURES[key]
    assert lec.title and lec.objective and lec.notes
    assert len(lec.look) == 3 and all(20 <= len(line) <= 220 for line in lec.look), "three short lines"
    assert lec.papers
    for p in lec.papers:
        assert re.fullmatch(r"\d{4}\.\d{4,5}", p.arxiv), p
        assert p.year - (2000 + int(p.arxiv[:2])) in (0, 1), f"{p}: published in the arXiv year or the next"
        assert p.authors and p.title and p.venue
        assert f"https://arxiv.org/abs/{p.arxiv}" in p.markdown()


@pytest.mark.parametrize("key", sorted(lecture.LECTURES))
def test_the_latex_is_well_formed(key):
    for tex in _all_tex(lecture.LECTURES[key]):
        assert tex.strip(), "empty formula"
        assert "$" not in tex, f"a $ inside a formula: {tex!r}"
        assert _balanced(tex), f"unbalanced braces in {tex!r}"
        assert tex.count(r"\left") == tex.count(r"\right"), tex
        assert re.findall(r"\\begin\{(\w+)\}", tex) == re.findall(r"\\end\{(\w+)\}", tex), tex
        unknown = set(re.findall(r"\\([A-Za-z]+)", tex)) - KATEX_COMMANDS
        assert not unknown, f"commands not on the KaTeX list: {sorted(unknown)} in {tex!r}"
        assert "\n" not in tex, "a display formula must be one line (Markdown ends it at a blank line)"


def test_the_formulas_use_the_numbers_the_code_trains_with():
    """The constants written in the formulas are the registry's / the tasks' / the checkpoints'."""
    from core.pipelines import colorization as colour_pipeline
    from core.playground.nets import VAEConfig
    from core.playground.settings import PRESETS
    from core.registry import get_spec
    from core.train.tasks.colorization import ColorizationParams
    from core.train.tasks.cyclegan import CycleGANParams
    from core.train.tasks.pix2pix import Pix2PixParams

    def tex(key: str) -> str:
        lec = lecture.LECTURES[key]
        return " ".join([*lec.objective, lec.notes])

    def param(params_cls, spec_name: str, field: str):
        return get_spec(spec_name).task_params.get(field, getattr(params_cls(), field))

    assert rf"\lambda_{{L1}}={param(Pix2PixParams, 'sketch2photo', 'lambda_L1'):g}" in tex("sketch2photo")
    assert rf"\lambda={param(CycleGANParams, 'horse2zebra', 'lambda_cycle'):g}" in tex("horse2zebra")
    assert rf"+{param(CycleGANParams, 'horse2zebra', 'lambda_identity'):g}\,\lambda\," in tex("horse2zebra")
    assert rf"z\in\mathbb{{R}}^{{{get_spec('faces').nets['G'].z_dim}}}" in tex("latent_walk")
    assert rf"\sqrt{{{get_spec('faces').nets['G'].z_dim}}}" in tex("vector_arithmetic")
    assert get_spec("faces").task_params.get("gan_loss", "hinge") == "hinge" and "hinge" in tex("latent_walk")
    col = tex("colorization")
    assert rf"Q={get_spec('colorization').nets['G'].num_bins}" in col
    assert param(ColorizationParams, "colorization", "rebalance") == 0.5 and r"\lambda=\tfrac12" in col
    assert rf"T={colour_pipeline.DEFAULT_TEMPERATURE:g}" in col
    assert rf"\sigma={param(ColorizationParams, 'colorization', 'prior_sigma'):g}" in col
    play = tex("gan_playground")
    assert rf"c={PRESETS['wgan'][0].clip:g}" in play and rf"\lambda={PRESETS['wgan_gp'][0].gp:g}" in play
    assert rf"\sigma={VAEConfig().decoder_sigma:g}" in play
    from core.pipelines import gan_prior, text_edit
    from core.train.tasks.inpainting import InpaintingParams

    inp, z_dim = tex("inpainting"), get_spec("faces").nets["G"].z_dim
    weights = [param(InpaintingParams, "inpainting", f) for f in ("lambda_hole", "lambda_valid", "lambda_gan")]
    assert rf"\mathcal{{L}}_G={weights[0]:g}\,\lVert M" in inp
    assert rf"+{weights[1]:g}\,\lVert (1-M)" in inp and rf"-{weights[2]:g}\cdot\mathbb{{E}}" in inp
    assert f"{gan_prior.STEPS} steps" in inp and f"from {gan_prior.RESTARTS} starts" in inp
    assert rf"\sqrt{{{z_dim}}}" in inp
    edit = tex("text_edit")
    assert rf"{text_edit.MARGIN:g}\,s" in edit and rf"z\in\mathbb{{R}}^{{{z_dim}}}" in edit
    assert all(rf"\mathrm{{{name}}}" in edit for name in text_edit.IDENTITY)
    from core.pipelines import faces, text_score
    from core.train.tasks.vaegan import VAEGANParams

    assert rf"+{text_score.IDENTITY:g}\,\big(1-\cos" in edit and rf"+{text_score.LATENT:g}\,\tfrac" in edit
    assert f"{text_score.STEPS} Adam steps" in edit
    walk, v2 = tex("latent_walk"), get_spec("faces_v2")
    w = [param(VAEGANParams, "faces_v2", f) for f in ("lambda_L1", "lambda_feat", "beta_kl")]
    assert rf"={w[0]:g}\,\lVert x-G" in walk and rf"+{w[1]:g}\,\lVert D_l" in walk and rf"+{w[2]:g}\,\mathrm{{KL}}" in walk
    assert rf"z\in\mathbb{{R}}^{{{v2.nets['G'].z_dim}}}" in walk and rf"{{{v2.nets['G'].z_dim}}},\qquad" in walk
    assert rf"+{faces.INVERT_PRIOR:g}\,\tfrac{{\lVert u" in walk and f"{faces.INVERT_STEPS} Adam steps" in walk


def test_the_examples_exist_open_and_stay_small():
    manifest = json.loads(lecture.MANIFEST.read_text())
    shown = lecture.examples()
    for key in lecture.LECTURES:
        assert manifest.get(key), f"no pre-computed examples for {key}: python -m demos.assets.lecture.make"
        assert len(shown[key]) == len(manifest[key]), f"a file of {key}'s examples is missing"
    for key, items in shown.items():
        for path, caption in items:
            assert path.parent == lecture.ASSETS and len(caption) > 20
            with Image.open(path) as im:
                assert im.format == "WEBP" and min(im.size) >= 96
    total = sum(p.stat().st_size for p in lecture.ASSETS.iterdir() if p.is_file())
    assert total < MAX_ASSETS_BYTES, f"{total:,} bytes in {lecture.ASSETS}"
    listed = {item["file"] for items in manifest.values() for item in items}
    assert listed == {p.name for p in lecture.ASSETS.glob("*.webp")}, "files not in examples.json (or the reverse)"


def test_the_examples_script_reads_no_dataset():
    text = (lecture.ASSETS / "make.py").read_text()
    assert "SHARED_DATA" not in text and "shared" not in text.lower() and "celeba" not in text.lower()


def test_lecture_mode_adds_no_server_event():
    with gr.Blocks() as demo:
        lecture.switch(demo)
        panels = [lecture.panel(key) for key in lecture.LECTURES]
    assert all(panels) and lecture.panel("admin") is None
    config = demo.get_config_file()
    deps = config["dependencies"]
    assert len(deps) == 2 and all(not d.get("backend_fn") and d.get("js") for d in deps)
    classes = [c["props"].get("elem_classes") or [] for c in config["components"]]
    assert sum("lab-lecture-panel" in c for c in classes) == len(lecture.LECTURES)
    assert "html:not(.lab-lecture) .lab-lecture-panel" in lecture.CSS


def test_the_app_has_the_switch_and_one_panel_per_working_tab():
    config = app.build_app().get_config_file()
    ids = {c["props"].get("elem_id") for c in config["components"]}
    assert "lecture-switch" in ids
    assert {f"lecture-{key}" for key in _working_tabs()} <= ids
    assert not any(str(i).startswith("lecture-") and i[len("lecture-"):] in KEYS_WITHOUT_NOTES for i in ids)
