"""The text-score edit (issue 16, phase 3): captions built from CelebA attributes, CLIP's loss, a tiny
training run of the face-text task on a synthetic CelebA-style folder, the latent optimisation with
stand-in nets, and, with the shipped models, the tab's text-score mode (its functions, and /text_score
through gradio_client on the tab served alone)."""
from __future__ import annotations

import dataclasses
import hashlib
import math
import random

import numpy as np
import pytest
import torch

from core.checkpoint import is_checkpoint, load_checkpoint
from core.data import face_captions
from core.data.face_captions import caption, caption_bank, holds
from core.nets import AttributeNetConfig, DCGANGeneratorConfig, FaceTextNetConfig, build_net
from core.pipelines import text_score
from core.registry import DataSpec, get_spec
from core.train.config import config_for
from core.train.loop import train
from core.train.tasks.face_text import clip_loss, similarity_picture
from tests.apprunner import local_client, running_app
from tests.test_faces import _celeba

NAMES = ["Eyeglasses", "Male", "Smiling", "Wearing_Hat", "Young", "Blond_Hair", "No_Beard", "Mustache"]


def _row(**on) -> np.ndarray:
    return np.array([int(on.get(n, 0)) for n in NAMES], dtype=np.int8)


# ---- captions -------------------------------------------------------------------------------------

def test_the_pronoun_follows_male_and_every_caption_holds_for_its_face():
    woman, man = _row(Smiling=1, Young=1, No_Beard=1), _row(Male=1, Eyeglasses=1, No_Beard=0, Mustache=1)
    rng = random.Random(0)
    for row, pronoun, other in ((woman, "She ", "He "), (man, "He ", "She ")):
        made = [caption(row, NAMES, rng) for _ in range(200)]
        texts = [t for t, _ in made]
        assert any(t.startswith(pronoun) for t in texts) and not any(t.startswith(other) for t in texts)
        assert any(t.startswith("This person") or " person" in t for t in texts)  # sometimes no gender at all
        claims = torch.tensor(np.stack([c for _, c in made]))
        assert holds(claims, torch.tensor(row)[None]).all()  # no caption says anything false of its face
    texts = " ".join(t for t, _ in (caption(woman, NAMES, rng) for _ in range(200)))
    assert "woman" in texts and " man" not in texts and "beard" not in texts  # beards: men only


def test_captions_state_negatives_and_their_claims_say_so():
    face = _row(Smiling=0, Eyeglasses=0, Wearing_Hat=0, Young=1, No_Beard=1)
    rng = random.Random(1)
    made = [caption(face, NAMES, rng) for _ in range(300)]
    texts = " ".join(t for t, _ in made)
    assert "without glasses" in texts or "does not wear glasses" in texts
    assert "not smiling" in texts or "serious" in texts
    negative = [(t, c) for t, c in made if "without glasses" in t or "does not wear glasses" in t]
    assert negative and all(c[NAMES.index("Eyeglasses")] == -1 for _, c in negative)
    # A caption saying "without glasses" does not hold for a face with glasses.
    claims = torch.tensor(negative[0][1])[None]
    assert not holds(claims, torch.tensor(_row(Eyeglasses=1, Young=1, No_Beard=1))[None]).any()


def test_caption_banks_are_seeded_per_face():
    rows = [_row(Smiling=1, Male=1), _row(Eyeglasses=1, Young=1, No_Beard=1)]
    a = caption_bank(rows, ["1.jpg", "2.jpg"], NAMES, 5, seed=0)
    assert a[0] == caption_bank(rows, ["1.jpg", "2.jpg"], NAMES, 5, seed=0)[0]
    assert a[0] != caption_bank(rows, ["1.jpg", "2.jpg"], NAMES, 5, seed=1)[0]
    # A face's captions depend on its own name only, not on which other faces are in the bank.
    assert caption_bank(rows[1:], ["2.jpg"], NAMES, 5, seed=0)[0][0] == a[0][1]
    assert a[1].shape == (2, 5, len(NAMES))


def test_embeddings_are_cached_by_text_and_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    calls = []

    def fake(texts):
        calls.append(list(texts))
        return torch.nn.functional.normalize(torch.randn(len(texts), 8), dim=1)

    first = face_captions.embed_texts(["b", "a", "b"], encode_fn=fake)
    again = face_captions.embed_texts(["b", "a", "b"], encode_fn=fake)
    assert calls == [["b", "a"]]  # each distinct text once, and the second call reads the cache
    assert torch.equal(first, again) and torch.equal(first[0], first[2]) and first.dtype == torch.float16


# ---- the loss ------------------------------------------------------------------------------------

def test_aligned_pairs_give_a_lower_clip_loss_than_shuffled_ones():
    gen = torch.Generator().manual_seed(0)
    text = torch.nn.functional.normalize(torch.randn(16, 32, generator=gen), dim=1)
    image = torch.nn.functional.normalize(text + 0.3 * torch.randn(16, 32, generator=gen), dim=1)
    scale = torch.tensor(1 / 0.07)
    aligned = clip_loss(image, text, scale)
    shuffled = clip_loss(image[torch.randperm(16, generator=gen)], text, scale)
    assert aligned < shuffled - 1.0
    # With only the pairs as positives, the multi-positive form is plain CLIP.
    assert torch.isclose(clip_loss(image, text, scale, torch.eye(16, dtype=torch.bool)), aligned)
    # A second true positive per row raises the loss of a model that ranks only the pair first.
    both = torch.eye(16, dtype=torch.bool) | torch.eye(16, dtype=torch.bool).roll(1, 0)
    assert clip_loss(image, text, scale, both) > aligned


def test_the_similarity_picture_draws_no_face():
    picture = similarity_picture(torch.rand(4, 4), torch.eye(4, dtype=torch.bool).T, cell=6)
    assert picture.shape == (3, 24, 24) and 0 <= picture.min() and picture.max() <= 1


# ---- a tiny training run --------------------------------------------------------------------------

def _hash_encoder(texts):
    """A stand-in for MiniLM: the same text, the same unit vector (of the encoder's 384 values)."""
    rows = [torch.randn(384, generator=torch.Generator().manual_seed(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)))
            for t in texts]
    return torch.nn.functional.normalize(torch.stack(rows), dim=1)


def test_a_tiny_training_run_on_a_celeba_style_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    real = face_captions.embed_texts
    monkeypatch.setattr(face_captions, "embed_texts", lambda texts: real(texts, encode_fn=_hash_encoder))
    img, attrs = _celeba(tmp_path, n=12, labelled=12)
    spec = dataclasses.replace(
        get_spec("face_text"), nets={"E": FaceTextNetConfig(base_channels=4, num_stages=2, hidden=16)},
        data=DataSpec(train=img, options={"attributes": attrs, "holdout": 0.25}))
    config = config_for(spec, steps=3, batch_size=4, image_size=64, log_every=1, sample_every=3, checkpoint_every=3,
                        num_workers=0, eval_every=3, eval_images=3, precision="fp32", captions_per_face=2)
    run = train(spec, config, run_dir=tmp_path / "run")
    events = [line for line in (run / "events.jsonl").read_text().splitlines()]
    evals = [e for e in events if '"event": "eval"' in e]
    assert evals and "zero_shot_balanced_accuracy" in evals[-1] and "retrieval_at_1" in evals[-1]
    assert '"event": "end"' in events[-1]
    nets, meta = load_checkpoint(run / "checkpoint")
    assert set(nets) == {"E"} and meta["attributes"] == ["Smiling", "Male", "Eyeglasses"]
    out = nets["E"].eval()(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 384) and torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-3)
    assert (run / "samples" / "step_0000003.png").exists()  # the similarity picture


# ---- the latent optimisation, with stand-in nets ---------------------------------------------------

@pytest.fixture(scope="module")
def stand_ins():
    """A tiny generator, classifier and face-text net (random weights, eval mode), as the pipelines hold them."""
    from core.pipelines.face_attributes import AttributeClassifier
    from core.pipelines.faces import FacesPipeline

    torch.manual_seed(0)
    faces = FacesPipeline(build_net(DCGANGeneratorConfig(z_dim=8, base_channels=8)), torch.device("cpu"),
                          torch.float32, {})
    clf = AttributeClassifier(build_net(AttributeNetConfig(num_outputs=3, base_channels=4, num_stages=2)),
                              ["Smiling", "Male", "Eyeglasses"], torch.device("cpu"), {})
    enc = text_score.FaceTextModel(build_net(FaceTextNetConfig(base_channels=4, num_stages=2, hidden=16)),
                                   torch.device("cpu"), {})
    return faces, clf, enc


def test_the_optimisation_raises_the_text_score_and_keeps_the_radius(stand_ins):
    faces, clf, enc = stand_ins
    z0 = faces.zs([1, 2, 3])
    text = torch.nn.functional.normalize(torch.randn(384, generator=torch.Generator().manual_seed(5)), dim=0)
    before = enc.scores(faces.decode(z0), text)
    z1 = text_score.optimise(faces, enc, clf, text, z0, strength=3.0,
                             settings=text_score.ScoreSettings(steps=25, lr=0.1, identity=0.1, latent=0.1))
    after = enc.scores(faces.decode(z1), text)
    assert (after > before).all(), (before, after)
    assert torch.allclose(z1.norm(dim=1), z0.norm(dim=1), atol=1e-4)  # on the start's shell
    assert torch.equal(text_score.optimise(faces, enc, clf, text, z0, strength=0.0), z0)  # strength 0: no move
    # The shared nets get no gradients (other tabs use them at the same time).
    assert all(p.grad is None for net in (faces.G, clf.net, enc.net) for p in net.parameters())


def test_the_contrast_objective_raises_the_prompt_above_the_other_captions(stand_ins):
    faces, clf, enc = stand_ins
    gen = torch.Generator().manual_seed(9)
    text = torch.nn.functional.normalize(torch.randn(384, generator=gen), dim=0)
    others = torch.nn.functional.normalize(torch.randn(6, 384, generator=gen), dim=1)
    z0 = faces.zs([4, 5])
    settings = text_score.ScoreSettings(steps=25, lr=0.1, identity=0.0, latent=0.0, objective="contrast")
    with pytest.raises(ValueError, match="caption phrases"):
        text_score.optimise(faces, enc, clf, text, z0, 1.0, settings)

    def margin(z):  # the prompt's cosine minus the best other caption's
        with torch.inference_mode():
            e = enc.net(faces.decode(z))
            return e @ text - (e @ others.T).max(1).values

    z1 = text_score.optimise(faces, enc, clf, text, z0, 3.0, settings, others=others)
    assert (margin(z1) > margin(z0)).all()


def test_more_identity_weight_keeps_the_face_closer(stand_ins):
    faces, clf, enc = stand_ins
    z0 = faces.zs([7, 8])
    text = torch.nn.functional.normalize(torch.randn(384, generator=torch.Generator().manual_seed(6)), dim=0)
    moves = []
    for latent in (0.0, 20.0):
        z1 = text_score.optimise(faces, enc, clf, text, z0, 2.0,
                                 text_score.ScoreSettings(steps=15, lr=0.1, identity=0.0, latent=latent))
        moves.append(float((z1 - z0).norm(dim=1).mean()))
    assert moves[1] < moves[0], moves


def test_the_progress_callback_counts_to_the_last_step(stand_ins):
    faces, clf, enc = stand_ins
    seen = []
    text_score.optimise(faces, enc, clf, torch.nn.functional.normalize(torch.ones(384), dim=0), faces.zs([0]), 1.0,
                        text_score.ScoreSettings(steps=12, views=2),  # augmented views: the same loop
                        progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (12, 12) and all(t == 12 for _, t in seen)


@pytest.fixture(scope="module")
def scorer(stand_ins):
    """A TextScorer on the stand-in nets with the real sentence encoder (loads MiniLM, ~6 s)."""
    faces, clf, enc = stand_ins
    return text_score.TextScorer(faces, clf, enc, ["Smiling", "Male", "Eyeglasses"],
                                 text_score.ScoreSettings(steps=2))


@pytest.mark.parametrize("prompt", ["banana", "the weather is nice", "asdf qwerty", "hello", "a house on a hill"])
def test_prompts_about_no_face_are_refused(scorer, prompt):
    with pytest.raises(ValueError, match="far from everything"):
        scorer.embed_prompt(prompt)


@pytest.mark.parametrize("prompt", ["make her smile", "a woman with bangs and wavy hair", "older", "a beard",
                                    "not smiling", "put on a hat", "more masculine", "get rid of the specs",
                                    "red hair"])
def test_prompts_about_faces_are_taken(scorer, prompt):
    text, emb = scorer.embed_prompt(prompt)
    assert text and emb.shape == (384,)


@pytest.mark.parametrize("value, says", [(None, "must be text"), (42, "must be text"), ("", "type what to change"),
                                         ("x" * 10_000, "at most"), ("😀👍🏽", "type what to change"),
                                         ("12345 !!!", "no English words")])
def test_hostile_prompts_get_a_clear_message(scorer, value, says):
    with pytest.raises(ValueError, match=says):
        scorer.edit(scorer.faces.z(0), value)


def test_an_edit_reports_scores_and_verdicts_and_survives_a_nan_strength(scorer):
    result = scorer.edit(scorer.faces.z(3), "make her smile", float("nan"), size=64)
    assert result.after.size == (64, 64) and result.steps == 2
    assert math.isfinite(result.score_before) and math.isfinite(result.score_after)
    assert str(result.parsed) == "+Smiling 1.0" and result.verdicts()[0][0] == "Smiling"
    still = scorer.edit(scorer.faces.z(3), "make her smile", 0.0, size=64)
    assert torch.equal(still.z_after, still.z_before) and any("nothing moved" in n for n in still.notes)


# ---- the tab, with the shipped models --------------------------------------------------------------

SHIPPED = all(is_checkpoint(get_spec(n).checkpoint_dir) for n in ("faces", "face_attributes", "face_text"))
needs_models = pytest.mark.skipif(not SHIPPED, reason="needs the shipped faces, face_attributes and face_text models")


@needs_models
@pytest.mark.shipped
def test_the_tab_function_answers_every_input_with_a_face_or_a_message(labelled_pool):
    from demos import text_edit as tab

    pair, parsed, status, table = tab.score(11, "make her smile", 1.0)
    assert parsed == "+Smiling 1.0" and pair[0].size == pair[1].size and "smiling" in table
    assert "text score" in status
    for seed, prompt, strength in [(11, "banana", 1.0), (float("nan"), "x" * 10_000, float("inf")),
                                   (-5, "\x00", None), (2**40, 12, "abc"), (None, None, None)]:
        pair, parsed, status, table = tab.score(seed, prompt, strength)
        assert pair is not None and parsed == "" and status, (seed, prompt, strength)
    # The switch: the direction mode's event changes nothing in text-score mode, and the other way round.
    import gradio as gr

    assert tab.edit_in(1, "make her smile", 1.0, tab.SCORE) == (gr.skip(),) * 4
    assert tab.score_in(1, "make her smile", 1.0, tab.DIRECTIONS) == (gr.skip(),) * 4
    assert tab.edit_in(1, "make her smile", 1.0, tab.DIRECTIONS)[1] == "+Smiling 1.0"


@pytest.fixture(scope="module")
def tab_alone(labelled_pool):
    """The text-edit tab served alone (python -m demos.text_edit), as a Space would: its URL."""
    with running_app(command=("-m", "demos.text_edit")) as url:
        yield url


@needs_models
@pytest.mark.shipped
@pytest.mark.slow
def test_the_text_score_endpoint_through_gradio_client(tab_alone):

    client = local_client(tab_alone)
    ids = {c["props"].get("elem_id"): c for c in client.config["components"]}
    choices = [c[1] for c in ids["te-mode"]["props"]["choices"]]
    assert choices == ["directions", "score"] and "unavailable" not in str(ids["te-mode"]["props"]["choices"])
    pair, parsed, status, table = client.predict(5, "a smiling woman", 1.0, api_name="/text_score")
    assert pair and "text score" in status and "smiling" in table
    pair, parsed, status, table = client.predict(5, "the weather is nice", 99.0, api_name="/text_score")
    assert parsed == "" and "far from everything" in status
    # The direction mode's endpoint is unchanged.
    pair, parsed, status, table = client.predict(5, "make her smile", 1.0, api_name="/text_edit")
    assert parsed == "+Smiling 1.0"
