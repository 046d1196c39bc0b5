"""Text-guided edit (issue 16): prompt parsing with the MiniLM sentence encoder (negations, intensity,
paraphrases, nonsense and hostile input), the boundaries and the conditional step on synthetic latents,
and, with the shipped models, edits that move the classifier the asked way, the tab's functions and
the eval."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.pipelines import prompt_edits, text_edit
from core.pipelines.attribute_directions import conditional_step, fit_boundaries
from core.pipelines.face_attributes import REPORTED_ATTRIBUTES
from core.pipelines.prompt_edits import MAX_CHARS, clauses, read_clause

SHIPPED = text_edit.has_checkpoints()
needs_models = pytest.mark.skipif(not SHIPPED, reason="needs the shipped faces + face_attributes models")


@pytest.fixture(scope="module")
def parser():
    return prompt_edits.parser(REPORTED_ATTRIBUTES)  # loads the encoder once (~6 s)


# ---- clauses and cue words: no model ------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("older, without the moustache", ["older", "without the moustache"]),
    ("she is smiling and wears glasses", ["she is smiling", "wears glasses"]),
    ("a man with glasses but no hat", ["a man", "with glasses", "no hat"]),
    ("smile; glasses. hat", ["smile", "glasses", "hat"]),
])
def test_prompts_are_cut_into_clauses(text, expected):
    assert clauses(text) == expected


@pytest.mark.parametrize("clause, sign, strength, words", [
    ("not smiling", -1, 1.0, ["smiling"]),
    ("without the moustache", -1, 1.0, ["moustache"]),
    ("a bit more smile", 1, 0.5, ["smile"]),
    ("slightly older", 1, 0.5, ["older"]),
    ("much more smile", 1, 1.5, ["smile"]),
    ("very happy", 1, 1.5, ["happy"]),
    ("extremely old", 1, 2.0, ["old"]),
    ("take the hat off", -1, 1.0, ["hat"]),
    ("doesn't wear glasses", -1, 1.0, ["glasses"]),
    ("not without glasses", 1, 1.0, ["glasses"]),  # two negations cancel
    ("make her smile", 1, 1.0, ["smile"]),
])
def test_negation_and_intensity_are_read_off_the_clause(clause, sign, strength, words):
    assert read_clause(clause) == (sign, strength, words)


# ---- parsing with the sentence encoder ----------------------------------------------------------

@pytest.mark.parametrize("prompt, expected", [
    ("make her smile", "+Smiling 1.0"),
    ("not smiling", "-Smiling 1.0"),
    ("less serious", "+Smiling 1.0"),  # removing the opposite adds
    ("a bit more smile", "+Smiling 0.5"),
    ("very happy", "+Smiling 1.5"),
    ("add glasses", "+Eyeglasses 1.0"),
    ("without glasses", "-Eyeglasses 1.0"),
    ("older", "-Young 1.0"),
    ("not old", "+Young 1.0"),
    ("slightly older", "-Young 0.5"),
    ("remove the moustache", "-Mustache 1.0"),
    ("take the hat off", "-Wearing_Hat 1.0"),
    ("older, without the moustache", "-Young 1.0, -Mustache 1.0"),
    ("she is smiling and wears glasses", "+Smiling 1.0, +Eyeglasses 1.0"),
    ("a smiling man", "+Smiling 1.0, +Male 1.0"),
    ("remove the glasses and the hat", "-Eyeglasses 1.0, -Wearing_Hat 1.0"),
    ("Make Her SMILE!!!", "+Smiling 1.0"),
    ("ｓｍｉｌｅ", "+Smiling 1.0"),  # full-width letters (NFKC)
])
def test_prompts_parse_to_signed_attribute_edits(parser, prompt, expected):
    assert str(parser.parse(prompt)) == expected


@pytest.mark.parametrize("group", [
    ["make her smile", "smiling", "grinning", "a big grin", "put a smile on her face", "make him laugh"],
    ["not smiling", "a serious face", "stop smiling", "remove the smile", "frowning"],
    ["add glasses", "wearing spectacles", "give her specs", "with glasses"],
    ["without glasses", "take off the glasses", "no glasses", "remove the glasses"],
    ["older", "make him look old", "elderly", "aged"],
    ["a woman", "make it look female", "more feminine", "turn him into a woman"],
])
def test_paraphrases_give_the_same_parsed_edit(parser, group):
    parses = {prompt: str(parser.parse(prompt)) for prompt in group}
    assert len(set(parses.values())) == 1, parses


def test_the_parse_of_the_eval_prompts_is_as_written():
    from core.eval.text_edit import PROMPTS

    p = prompt_edits.parser(REPORTED_ATTRIBUTES)
    wrong = [(q, str(p.parse(q)), want) for q, want in PROMPTS if str(p.parse(q)) != want]
    assert not wrong


@pytest.mark.parametrize("prompt", ["the weather is nice", "banana", "asdf qwerty", "make it blue", "hello",
                                    "日本語の文章", "ügly"])
def test_a_prompt_that_names_nothing_editable_lists_what_can_be(parser, prompt):
    with pytest.raises(ValueError) as e:
        parser.parse(prompt)
    message = str(e.value)
    assert "can change" in message and "smiling" in message and "glasses" in message


@pytest.mark.parametrize("prompt, named", [("red hair", "red hair"), ("a beard", "beard"),
                                           ("make the background darker", "background")])
def test_things_these_models_cannot_edit_are_named_not_mistaken(parser, prompt, named):
    with pytest.raises(ValueError, match=named):
        parser.parse(prompt)


def test_a_clause_that_is_not_understood_is_reported_beside_the_edit(parser):
    parsed = parser.parse("lipstick and a smile")
    assert str(parsed) == "+Smiling 1.0" and "lipstick" in parsed.not_editable


def test_a_contradiction_is_refused(parser):
    with pytest.raises(ValueError, match="both ways"):
        parser.parse("smile and don't smile")


@pytest.mark.parametrize("value, says", [
    (None, "must be text"), (42, "must be text"), (b"smile", "must be text"), (["smile"], "must be text"),
    ({"a": 1}, "must be text"), (float("nan"), "must be text"),
    ("", "type what to change"), ("   \n\t", "type what to change"), ("\x00\x01\u202e\u200b", "type what to change"),
    ("x" * 10_000, f"at most {MAX_CHARS}"), ("😀👍🏽🏳️‍🌈", "type what to change"),
    ("12345 !!!", "no English words"),
])
def test_hostile_prompts_get_a_clear_message(parser, value, says):
    with pytest.raises(ValueError, match=says):
        parser.parse(value)


def test_only_the_given_attributes_are_editable():
    only_smile = prompt_edits.PromptParser(["Smiling"])
    assert str(only_smile.parse("make her smile")) == "+Smiling 1.0"
    with pytest.raises(ValueError, match="can change: smiling"):
        only_smile.parse("add glasses")


# ---- boundaries and the conditional step: synthetic latents --------------------------------------

def test_boundaries_recover_a_linear_rule_and_the_conditional_step_keeps_the_others():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(4000, 8, generator=gen)
    a, b = torch.zeros(8), torch.zeros(8)
    a[0], b[:2] = 1.0, torch.tensor([0.6, 0.8])  # two correlated rules (cos 0.6)
    probs = torch.sigmoid(torch.stack([(z @ a - 0.3) * 8, (z @ b + 0.2) * 8], 1))
    bounds = fit_boundaries(z, probs, ["A", "B"])
    assert float(bounds.normals[0] @ a) > 0.99 and float(bounds.normals[1] @ b) > 0.99
    # Offsets: the distance to the boundary is zero where the rule flips.
    assert abs(float(bounds.distance((0.3 * a)[None])[0, 0])) < 0.05
    z0 = torch.randn(5, 8, generator=gen)
    change = torch.full((5, 1), 2.0)
    plain = conditional_step(bounds, change, ["A"], [])
    kept = conditional_step(bounds, change, ["A"], ["B"])
    d_plain = bounds.distance(z0 + plain) - bounds.distance(z0)
    d_kept = bounds.distance(z0 + kept) - bounds.distance(z0)
    assert torch.allclose(d_plain[:, 0], torch.full((5,), 2.0), atol=1e-2)
    assert d_plain[:, 1].abs().min() > 1.0  # the plain step drags B along ...
    assert torch.allclose(d_kept[:, 0], torch.full((5,), 2.0), atol=1e-2)
    assert d_kept[:, 1].abs().max() < 1e-2  # ... the conditional one does not
    # One kept attribute: InterFaceGAN's projection n1 - (n1 . n2) n2, up to length.
    n1, n2 = bounds.normals
    projected = n1 - (n1 @ n2) * n2
    assert torch.nn.functional.cosine_similarity(kept[0], projected, dim=0) > 0.999


def test_rare_attributes_are_fitted_on_the_extremes():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(2000, 6, generator=gen)
    logit = z[:, 2] * 3 - 12  # almost nobody has it (p > 0.5 for ~0 faces)
    bounds = fit_boundaries(z, torch.sigmoid(logit)[:, None], ["Rare"])
    assert not bounds.supported("Rare")
    assert float(bounds.normals[0, 2]) > 0.95  # still the direction in which the score rises


def test_an_attribute_every_face_has_gives_no_direction_and_no_step():
    z = torch.randn(300, 6, generator=torch.Generator().manual_seed(2))
    bounds = fit_boundaries(z, torch.full((300, 1), 0.9), ["Everyone"])
    assert not bounds.supported("Everyone") and float(bounds.normals.abs().sum()) == 0
    assert float(conditional_step(bounds, torch.full((3, 1), 1.0), ["Everyone"], []).abs().max()) == 0


# ---- with the shipped models -------------------------------------------------------------------

@pytest.fixture(scope="module")
def editor(labelled_pool):
    if not SHIPPED:
        pytest.skip("needs the shipped faces + face_attributes models")
    return text_edit.load()


@needs_models
@pytest.mark.shipped
@pytest.mark.parametrize("prompt, name, up", [("make her smile", "Smiling", True), ("not smiling", "Smiling", False),
                                              ("turn into a woman", "Male", False),
                                              ("add glasses", "Eyeglasses", True)])
def test_the_edit_moves_the_asked_attribute_the_asked_way(editor, prompt, name, up):
    seeds = range(200, 206)
    results = [editor.edit(editor.faces.z(s), prompt) for s in seeds]
    before = np.array([r.probs_before[name] for r in results])
    after = np.array([r.probs_after[name] for r in results])
    moved = after - before
    assert (moved >= -1e-4).all() if up else (moved <= 1e-4).all(), (before, after)
    met = [r.verdicts()[0][3] for r in results]
    assert sum(met) >= 4, (prompt, before, after)


@needs_models
@pytest.mark.shipped
def test_strength_scales_the_move_and_zero_changes_nothing(editor):
    z = editor.faces.z(3)
    parsed = editor.parse("make her smile")
    zero, one, two = (editor.apply(z, parsed, s) for s in (0.0, 1.0, 2.0))
    assert torch.equal(zero, z)
    assert math.isclose(float((two - z).norm()), 2 * float((one - z).norm()), rel_tol=1e-4) or \
        float((two - z).norm()) == pytest.approx(text_edit.MAX_STEP)
    result = editor.edit(z, "make her smile", float("nan"))  # hostile strength: the default
    assert result.after.size == result.before.size


@needs_models
@pytest.mark.shipped
def test_a_face_already_past_the_boundary_does_not_move_and_says_so(editor):
    result = editor.edit(editor.faces.z(5), "remove the moustache")  # no generated face has one
    assert torch.equal(result.z_after, result.z_before)
    assert any("nothing moved" in n for n in result.notes)
    assert any("none to remove" in n for n in result.notes), result.notes


@needs_models
@pytest.mark.shipped
def test_the_tab_functions_answer_every_input_with_a_face_or_a_message(editor):
    from demos import text_edit as tab

    pair, parsed, status, table = tab.edit(11, "make her smile", 1.0)
    assert parsed == "+Smiling 1.0" and pair[0].size == pair[1].size and "smiling" in table
    assert "the classifier" in status
    for seed, prompt, strength in [(11, "banana", 1.0), (float("nan"), "x" * 10_000, float("inf")),
                                   (-5, "\x00", None), (2**40, 12, "abc"), (None, None, None)]:
        pair, parsed, status, table = tab.edit(seed, prompt, strength)
        assert pair is not None and parsed == "" and status, (seed, prompt, strength)


def test_a_prompt_the_editors_refuse_is_refused_before_either_loads(monkeypatch):
    """A too-long or unreadable prompt costs no model load (the scorer's first load is ~300 MB: an
    anonymous visitor's 10,000 characters must not cause it); the message is the parser's own."""
    from demos import text_edit as tab

    def no_load(**_):
        raise AssertionError("an editor was loaded for a prompt it would refuse")

    monkeypatch.setattr(text_edit, "load", no_load)
    monkeypatch.setattr(text_edit, "load_scorer", no_load)
    for run in (tab.edit, lambda *a: tab._run(*a, None, text_edit.load_scorer, tab.score_verdict)):
        for prompt, says in (("x" * (MAX_CHARS + 1), f"at most {MAX_CHARS}"), ("\x00 ###", "type what to change"),
                             (12, "must be text")):
            pair, parsed, status, table = run(11, prompt, 1.0)
            assert parsed == "" and says in status.lower(), (prompt, status)


@needs_models
@pytest.mark.shipped
def test_the_eval_reports_its_keys_and_writes_a_grid(editor, tmp_path):
    from core.eval import text_edit as ev

    metrics = ev.evaluate(faces=2, editor=editor)
    for key in ("target_success", "others_kept", "identity_cosine", "parse_accuracy", "heldout_parse_accuracy",
                "without_projection", "per_prompt"):
        assert key in metrics
    assert metrics["parse_accuracy"] == 1.0 and len(metrics["per_prompt"]) == len(ev.PROMPTS) >= 24
    out = ev.grid(editor, tmp_path / "grid.png", prompts=("make her smile", "add glasses"), seeds=(0, 1))
    from PIL import Image

    assert Image.open(out).size[1] > 2 * 128


def test_the_eval_command_takes_text_edit(capsys):
    """`python -m core.eval text_edit` (the README's command) reaches the text-edit eval's own options."""
    from core.eval.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["text_edit", "--help"])
    assert e.value.code == 0 and "--faces" in capsys.readouterr().out
