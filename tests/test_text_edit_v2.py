"""Text-guided edit of uploaded photos through the faces v2 encoder (issue 16 phase 2): a photo is
inverted (encoder + short latent optimisation) and edited by both modes, and the real-photo eval
(`python -m core.eval text_edit --data DIR`) runs end to end. Tiny random nets stand in for the shipped
ones (their verdicts mean nothing; the geometry and the plumbing are what is checked); the sentence
encoder is the real one (the tests skip without it)."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image, ImageDraw

from core.eval import text_edit as ev
from core.nets import AttributeNetConfig, FaceTextNetConfig, build_net
from core.pipelines import text_edit, text_score
from core.pipelines.attribute_directions import Boundaries
from core.pipelines.face_arithmetic import FaceArithmetic
from core.pipelines.face_attributes import REPORTED_ATTRIBUTES, AttributeClassifier
from core.pipelines.faces import photo_face
from tests.test_faces_v2 import _tiny_pipe

Z = 16
NAMES = list(REPORTED_ATTRIBUTES)
CPU = torch.device("cpu")


def _photo(size=(178, 218), seed=0) -> Image.Image:
    """A face-like drawing (not a dataset image): skin oval, hair, eyes and mouth on a background."""
    g = torch.Generator().manual_seed(seed)
    tone = [int(v) for v in torch.randint(90, 230, (3,), generator=g)]
    im = Image.new("RGB", size, tuple(int(v) for v in torch.randint(0, 255, (3,), generator=g)))
    d = ImageDraw.Draw(im)
    w, h = size
    d.ellipse((w * 0.2, h * 0.05, w * 0.8, h * 0.55), fill=(60, 40, 20))  # hair
    d.ellipse((w * 0.25, h * 0.2, w * 0.75, h * 0.8), fill=tuple(tone))  # face
    for x in (0.38, 0.62):
        d.ellipse((w * x - 6, h * 0.42 - 4, w * x + 6, h * 0.42 + 4), fill=(30, 30, 30))
    d.arc((w * 0.38, h * 0.55, w * 0.62, h * 0.68), 20, 160, fill=(150, 40, 40), width=3)
    return im


@pytest.fixture(scope="module")
def nets():
    """A tiny faces v2 pipeline (encoder, generator, code Gaussian), classifier and face-text net."""
    pipe = _tiny_pipe(Z)
    torch.manual_seed(1)
    clf = AttributeClassifier(build_net(AttributeNetConfig(num_outputs=len(NAMES), base_channels=4, num_stages=2)),
                              NAMES, CPU, {})
    enc = text_score.FaceTextModel(build_net(FaceTextNetConfig(base_channels=4, num_stages=2, hidden=16)), CPU, {})
    return pipe, clf, enc


@pytest.fixture(scope="module")
def parser():
    try:
        return text_edit.load_parser(NAMES)  # loads the sentence encoder once (~6 s)
    except text_edit.EncoderMissing as e:
        pytest.skip(f"the sentence encoder is not installed: {e}")


def _editor(nets, parser, z_for_offsets: torch.Tensor | None = None) -> text_edit.TextEditor:
    """A TextEditor on the tiny nets with random unit boundaries (every attribute 'supported'); when
    z_for_offsets [D] is given, that latent lies 1 unit on the 'without' side of every boundary."""
    pipe, clf, _ = nets
    normals = torch.nn.functional.normalize(torch.randn(len(NAMES), Z, generator=torch.Generator().manual_seed(3)),
                                            dim=1)
    offsets = torch.zeros(len(NAMES)) if z_for_offsets is None else -(normals @ z_for_offsets) - 1.0
    bounds = Boundaries(tuple(NAMES), normals, offsets, torch.full((len(NAMES),), 300), 600)
    return text_edit.TextEditor(FaceArithmetic(pipe, clf, pool_size=600), parser, bounds)


def _invert(pipe, photo: Image.Image, steps: int, on_step=None) -> torch.Tensor:
    """An upload's way into the latent space, as the tabs take it: its face square, then the inversion."""
    face, _, note = photo_face(photo)
    assert face.shape == (1, 3, 64, 64) and (note == "" or "face square" in note)
    u, figures = pipe.invert(face, steps=steps, on_step=on_step)
    assert figures["psnr_encoder"] > 0 and figures["psnr_refined"] > 0
    return u


def test_an_uploaded_photo_is_inverted_and_its_latent_edits_across_the_asked_boundary_only(nets, parser):
    pipe, _, _ = nets
    seen = []
    u = _invert(pipe, _photo(), 4, on_step=lambda i, n: seen.append((i, n)))
    assert u.shape == (Z,) and torch.isfinite(u).all() and seen[-1] == (4, 4)
    editor = _editor(nets, parser, u)
    result = editor.edit(u, "make her smile", size=96)
    b = editor.boundaries
    before, after = b.distance(u[None])[0], b.distance(result.z_after[None])[0]
    smiling, kept = b.index("Smiling"), [b.index(n) for n in text_edit.IDENTITY]
    assert float(before[smiling]) == pytest.approx(-1.0, abs=1e-4)
    assert float(after[smiling]) == pytest.approx(text_edit.MARGIN, abs=1e-2)  # "reach": MARGIN past it
    assert torch.allclose(after[kept], before[kept], atol=1e-2)  # gender and age kept (conditional step)
    assert result.after.size == (96, 96) and set(result.probs_after) == set(NAMES)
    assert torch.equal(editor.apply(u, editor.parse("make her smile"), 0.0), u)  # strength 0: no move
    with pytest.raises(ValueError, match="can change"):  # a prompt about nothing editable: a message
        editor.edit(u, "banana")


def test_the_text_score_mode_edits_an_inverted_photo_through_the_code_gaussian(nets, parser):
    pipe, clf, enc = nets
    u = _invert(pipe, _photo(seed=1), 2)
    scorer = text_score.TextScorer(pipe, clf, enc, NAMES, text_score.ScoreSettings(steps=3, lr=0.1))
    result = scorer.edit(u, "make her smile", size=64)
    assert not torch.equal(result.z_after, u)
    assert float(result.z_after.norm()) == pytest.approx(float(u.norm()), rel=1e-4)  # the start's shell
    assert result.after.size == (64, 64) and str(result.parsed) == "+Smiling 1.0"
    assert all(p.grad is None for net in (pipe.G, pipe.E, pipe.P, clf.net, enc.net) for p in net.parameters())


def _folder(tmp_path):
    """Face photos made here (two CelebA-shaped, one square) and two files that are not usable photos."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a_broken.png").write_text("not a picture")
    Image.new("RGB", (8, 8)).save(folder / "b_tiny.png")
    _photo(seed=2).save(folder / "c.jpg")
    _photo((90, 90), seed=3).save(folder / "d.png")
    _photo(seed=4).save(folder / "e.png")
    return folder


def test_the_photo_eval_inverts_edits_and_reports_every_key(nets, parser, tmp_path):
    photos, names, skipped = ev.read_photos(ev.photo_files(_folder(tmp_path)), limit=2)
    assert photos.shape == (2, 3, 64, 64) and names == ["c.jpg", "d.png"]
    assert [s["file"] for s in skipped] == ["a_broken.png", "b_tiny.png"] and all(s["why"] for s in skipped)
    pipe, clf, enc = nets
    scorer = text_score.TextScorer(pipe, clf, enc, NAMES, text_score.ScoreSettings(steps=2))
    metrics, u = ev.evaluate_photos(_editor(nets, parser), photos, steps=[0, 3], scorer=scorer,
                                    prompts=ev.PROMPTS[:2])
    assert u.shape == (2, Z) and set(metrics["by_invert_steps"]) == {"0", "3"}
    zero = metrics["by_invert_steps"]["0"]
    assert zero["rec_psnr_encoder"] == zero["rec_psnr_refined"]  # no optimisation: the encoder's guess
    assert metrics["invert"]["steps"] == 3 and metrics["rec_psnr_refined"] > 0  # the last entry (INVERT_STEPS absent)
    assert 0 <= metrics["rec_attribute_agreement"] <= 1 and set(metrics["rec_agreement"]) == set(NAMES)
    for mode in ("direction", "score"):
        m = metrics[mode]
        assert 0 <= m["target_success"] <= 1 and 0 <= m["others_kept"] <= 1, mode
        assert all(-1 <= m[k] <= 1 + 1e-5 for k in ("identity_cosine", "identity_to_photo")), mode
        assert len(m["per_prompt"]) == 2
    assert "text_score_after" in metrics["score"]
    json.dumps(metrics)  # the report is plain JSON


def test_the_photo_eval_command_writes_its_report_and_grid(nets, parser, tmp_path, monkeypatch, capsys):
    """`python -m core.eval text_edit --data DIR` end to end, on the tiny nets (load is swapped for them)."""
    editor = _editor(nets, parser)
    monkeypatch.setattr(ev, "load", lambda settings, faces: editor.with_settings(**settings.__dict__))
    monkeypatch.setattr(ev, "PROMPTS", ev.PROMPTS[:2])
    monkeypatch.setattr(ev, "GRID_PROMPTS", ("make her smile",))
    out = tmp_path / "out.json"
    assert ev.main(["--data", str(_folder(tmp_path)), "--limit", "2", "--invert-steps", "0,2", "--json", str(out),
                    "--grid", str(tmp_path / "grid.png")]) == 0
    report = json.loads(out.read_text())
    assert report["faces_model"] == "faces_v2" and report["photos"] == 2 and len(report["skipped"]) == 2
    assert report["direction"]["settings"]["mode"] == "reach" and "score" not in report
    assert Image.open(tmp_path / "grid.png").height > 64


@pytest.mark.parametrize("argv, says", [
    (["--faces", "faces", "--holdout"], "has none"),
    (["--data", "/no/such/folder"], "not a folder"),
    (["--limit", "3"], "for real photos"),
    (["--holdout", "--compare"], "for seeded faces"),
    (["--holdout", "--limit", "0"], "at least 1"),
    (["--faces", "banana"], "faces model"),
    (["--holdout", "--invert-steps", "ten"], "whole numbers"),
    (["--holdout", "--invert-steps", "5000"], "whole numbers"),
])
def test_the_eval_refuses_what_it_cannot_do_before_loading_anything(argv, says, capsys):
    with pytest.raises(SystemExit) as e:
        ev.main(argv)
    assert e.value.code == 2 and says in capsys.readouterr().err


def test_faces_takes_a_model_and_a_number_is_still_the_count(monkeypatch):
    calls = []
    monkeypatch.setattr(ev, "load", lambda settings, faces: calls.append(("load", faces)) or "editor")
    monkeypatch.setattr(ev, "evaluate", lambda count, compare, editor: calls.append(("evaluate", count)) or {})
    monkeypatch.setattr(ev, "report", lambda metrics, path: None)
    ev.main(["--faces", "7"])
    ev.main(["--faces", "faces_v2", "--count", "3"])
    assert calls == [("load", "faces"), ("evaluate", 7), ("load", "faces_v2"), ("evaluate", 3)]


@pytest.mark.shipped
@pytest.mark.skipif(not (text_edit.has_checkpoints() and text_edit.has_checkpoints("faces_v2")),
                    reason="needs the shipped faces, faces_v2 and face_attributes models")
def test_the_tab_holds_a_photo_with_its_model_and_a_forged_one_falls_back_to_the_seed(labelled_pool, tmp_path):
    """demos/text_edit.py's functions (no browser; v2's own pool is not needed for these)."""
    from demos import text_edit as tab

    path = tmp_path / "me.png"
    _photo(seed=5).save(path)
    state, crop, recon, status = tab.from_photo(str(path), progress=lambda *a, **k: None)
    assert state["model"] == "faces_v2" and len(state["z"]) == 128 and "dB" in status
    assert crop.size == recon.size == (tab.BIG, tab.BIG)
    assert tab.held(state)[0] == "faces_v2" and tab.face_pair(1, state)[0].size == (tab.BIG, tab.BIG)
    # Another model's latent, a wrong length, junk: not a photo of v2's; the seed's face in the DCGAN is edited.
    for forged in ({"model": "faces", "z": state["z"]}, {"model": "faces_v2", "z": [1.0] * 5},
                   {"model": "faces_v2", "z": "x"}, {"model": "faces_v2", "z": [float("nan")] * 128}, 42, "x"):
        assert tab.held(forged) is None
        pair, parsed, _, _ = tab.edit(1, "make her smile", 1.0, forged)
        assert parsed == "+Smiling 1.0" and pair[0].size == (tab.BIG, tab.BIG)
    (tmp_path / "bad.png").write_text("not a picture")
    for bad in (None, str(tmp_path / "bad.png"), "/etc/passwd"):
        kept, _, _, message = tab.from_photo(bad, progress=lambda *a, **k: None)
        assert kept == {"__type__": "update"} and "Note" in message  # gr.skip(): the held face stays; a message
