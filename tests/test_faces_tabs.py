"""The faces tabs' model switch (DCGAN | v2) and your photo (issue 17): the latent-walk and
vector-arithmetic tabs' functions on tiny nets (both models, so nothing here needs checkpoints/),
and the tabs' layout with one model shipped or two."""
from __future__ import annotations

import gradio as gr
import pytest
import torch
from PIL import Image

import core.registry
from core.checkpoint import save_checkpoint
from core.nets import AttributeNetConfig, DCGANGeneratorConfig, FaceEncoderConfig, LatentGaussianConfig, build_net
from core.pipelines import face_arithmetic, faces
from core.pipelines.face_arithmetic import PRESETS, AttributeClassifier
from demos import common
from demos import latent_walk as walk_tab
from demos import vector_arithmetic as va_tab
from tests.hostile_corpus import png_bomb
from tests.test_face_pipelines import NAMES, FeatureJudge

DCGAN_Z, V2_Z = 16, 8  # different lengths, as the shipped 100 and 128: a latent of one never fits the other
PRESET = next(iter(PRESETS))


@pytest.fixture(autouse=True)
def own_disk_cache(monkeypatch, tmp_path):
    """The stand-in classifier's rule lives in code: these tests label their pools into a fresh cache."""
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def two_models(monkeypatch, tmp_path):
    """Tiny checkpoints of both faces models and the classifier where the registry looks, and a
    classifier that tells v2's faces apart (tests.test_face_pipelines.FeatureJudge)."""
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "faces", {"G": build_net(DCGANGeneratorConfig(z_dim=DCGAN_Z, base_channels=8))},
                    meta={"image_size": 64})
    g2 = build_net(DCGANGeneratorConfig(z_dim=V2_Z, base_channels=8))
    save_checkpoint(tmp_path / "faces_v2", {"E": build_net(FaceEncoderConfig(base_channels=8, z_dim=V2_Z)), "G": g2,
                                            "P": build_net(LatentGaussianConfig(z_dim=V2_Z))}, meta={"image_size": 64})
    save_checkpoint(tmp_path / "face_attributes",
                    {"C": build_net(AttributeNetConfig(num_outputs=len(NAMES), base_channels=4))},
                    meta={"image_size": 64, "attributes": NAMES})
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path)
    monkeypatch.setattr(face_arithmetic, "POOL_SIZE", 600)
    # The tiny stand-ins' pools are too small for v2's strict exemplar rule: both use the DCGAN's here.
    monkeypatch.setitem(face_arithmetic.EXEMPLAR_RULES, "faces_v2", face_arithmetic.EXEMPLAR_RULES["faces"])
    judge = AttributeClassifier(FeatureJudge(g2.eval()), NAMES, torch.device("cpu"), {})
    monkeypatch.setattr(face_arithmetic, "load_classifier", lambda *a, **kw: judge)
    return tmp_path


@pytest.fixture
def face_png(two_models, tmp_path) -> str:
    """A face v2's generator made (a seed's, saved as PNG): nothing from a dataset."""
    pipe = faces.load("faces_v2")
    path = tmp_path / "face.png"
    pipe.images(pipe.z(5)[None], 64)[0].save(path)
    return str(path)


def _bad_files(folder) -> dict[str, str | None]:
    """Uploads that are no usable face photo: each must get a message, never an error."""
    folder.mkdir(exist_ok=True)
    files = {"text renamed .png": b"just some text, not an image\n" * 10, "0 bytes": b"", "PNG bomb 12000x12000":
             png_bomb(12000)}
    out = {}
    for name, data in files.items():
        out[name] = str(folder / f"{len(out)}.png")
        (folder / f"{len(out) - 1}.png").write_bytes(data)
    for name, side in (("1x1", 1), ("10x10, under the 16 px minimum", 10)):
        out[name] = str(folder / f"{side}.png")
        Image.new("RGB", (side, side), "white").save(out[name])
    return {**out, "no file": None, "a folder": str(folder)}


def test_the_switch_puts_v2_first_and_cleans_what_a_client_sends(two_models):
    assert common.shipped_faces() == ["faces_v2", "faces"] == common.shipped_faces(with_classifier=True)
    assert common.faces_model(None) == common.faces_model("../../etc/passwd") == "faces_v2"
    assert common.faces_model("faces") == "faces"
    z = torch.randn(V2_Z)
    kept = common.kept_latent(z, "faces_v2", "your photo")
    assert torch.equal(common.latent_of(kept, "faces_v2", V2_Z), z)
    assert common.latent_of(kept, "faces", V2_Z) is None  # another model's latent is never used, whatever its length
    assert common.latent_of({"model": "faces_v2", "z": [float("nan")] * V2_Z}, "faces_v2", V2_Z) is None
    assert common.latent_of(z.tolist(), "faces_v2", V2_Z) is None  # a bare latent: whose face it is, is unknown
    assert common.latent_of("abc", "faces_v2", V2_Z) is None


def test_texts_follow_the_model(two_models):
    assert "128 random numbers" in walk_tab.header("faces_v2") and "your photo" in walk_tab.header("faces_v2")
    assert "100 random numbers" in walk_tab.header("faces") and "photo" not in walk_tab.header("faces")
    assert "≈ 11" in walk_tab.reach_label("faces_v2") and "≈ 10" in walk_tab.reach_label("faces")
    assert "(about 11)" in va_tab.header("faces_v2") and "(about 10)" in va_tab.header("faces")


def test_a_photo_becomes_face_a_or_b_and_the_switch_moves_to_v2(two_models, face_png):
    seen = []
    out = walk_tab.from_photo(face_png, "B", "faces", None, None,
                              progress=lambda fraction, desc=None: seen.append(fraction))
    model, pick_a, pick_b, crop, recon, status, moved = out
    assert model == "faces_v2" and moved is True and pick_a is None and pick_b["model"] == "faces_v2"
    assert len(pick_b["z"]) == V2_Z and pick_b["what"] == "your photo"
    assert crop.size == recon.size == (walk_tab.BIG, walk_tab.BIG)
    assert status.startswith(common.OK_MARK) and "Face B is your photo" in status and "dB" in status
    assert "switch moved" in status
    assert seen and seen[-1] == 1.0  # the progress bar reached its end
    img_a, img_b, *rest = walk_tab.photo_shown(moved, 11, 42, pick_a, pick_b, 100, model)
    assert img_b.tobytes() == recon.tobytes() and isinstance(img_a, Image.Image)  # A: seed 11's face, now v2's
    assert len(rest) == walk_tab.N_MODEL_OUT and "128" in rest[0] and len(rest[1]) == walk_tab.GALLERY_SIZE
    # Already on v2: the rest of the tab stays as it is.
    again = walk_tab.from_photo(face_png, "A", "faces_v2", None, pick_b)
    assert again[1]["model"] == "faces_v2" and again[2] == pick_b and "switch moved" not in again[5]
    assert again[6] is False and all(x == gr.skip() for x in walk_tab.photo_shown(False, 11, 42, *again[1:3], 100,
                                                                                  "faces_v2")[2:])
    # Walking from it, and a map around it.
    status = walk_tab.walk(11, 42, "slerp", 6, 0.5, again[1], pick_b, "faces_v2")[2]
    assert status.startswith(common.OK_MARK) and "A: your photo" in status and "B: your photo" in status
    _, zs, status = walk_tab.latent_map(11, walk_tab.RANDOM, walk_tab.RANDOM, 3, 2, 0, again[1], "faces_v2")
    assert len(zs) == 9 and len(zs[0]) == V2_Z and torch.allclose(torch.tensor(zs[4]), torch.tensor(again[1]["z"]))
    path, _, status = walk_tab.make_gif(11, 42, "slerp", 1, again[1], pick_b, "faces_v2")
    assert path.endswith(".gif") and "GIF" in status


def test_the_other_models_picks_are_dropped_or_ignored(two_models, face_png):
    pick = walk_tab.from_photo(face_png, "A", "faces_v2", None, None)[1]
    # Ignored: on the DCGAN the walk is the seeds' (the photo's latent means nothing there).
    _, strip_dcgan, status = walk_tab.walk(11, 42, "slerp", 4, 0.5, pick, None, "faces")
    assert "your photo" not in status and status.startswith(common.OK_MARK)
    assert walk_tab.walk(11, 42, "slerp", 4, 0.5, None, None, "faces")[1].tobytes() == strip_dcgan.tobytes()
    assert walk_tab.path_z(11, 42, "slerp", 0.5, pick).shape == (DCGAN_Z,)  # the DCGAN's (ignores a v2 pick)
    # The inpainting tab's "send" gets the face the walk shows, decoded by the walk's model.
    sent = walk_tab.path_face(11, 42, "slerp", 0.0, pick, None, "faces_v2", size=64)
    shown = walk_tab.pipeline.load("faces_v2").images(torch.tensor(pick["z"])[None], 64)[0]
    assert sent.size == (64, 64) and sent.tobytes() == shown.tobytes()
    # Dropped: the switch lets them go, says so, and the map (the other model's latents) is cleared.
    out = walk_tab.switched("faces", 11, 42, pick, None, 100)
    pick_a, pick_b, _, _, crop, recon, status, title, samples, grid, map_z, map_status, span = out
    assert grid == gr.update(value=[]) and map_status == "" and "≈ 10" in span["label"]
    assert pick_a is None and pick_b is None and crop is None and recon is None and "Upload it again" in status
    assert "100 random numbers" in title and len(samples) == walk_tab.GALLERY_SIZE and map_z is None
    # A map of the other model cannot become face A.
    zs = walk_tab.latent_map(11, walk_tab.RANDOM, walk_tab.RANDOM, 3, 2, 0, None, "faces")[1]
    assert walk_tab.face(11, {"model": "faces", "z": zs[0]}, "faces_v2").size == (walk_tab.BIG, walk_tab.BIG)


def test_bad_uploads_get_a_message_in_both_tabs(two_models, tmp_path):
    for name, path in _bad_files(tmp_path / "bad").items():
        out = walk_tab.from_photo(path, "A", "faces", None, None)
        assert out[5].startswith(common.WARN_MARK) and out[6] is False, (name, out[5])
        assert all(x == gr.skip() for x in out[:5]), name  # nothing else moves, the switch included
        out = va_tab.from_photo(path, "faces")
        assert out[5].startswith(common.WARN_MARK) and out[6] is False, (name, out[5])
        assert "refused" in out[5] or "Upload a face photo" in out[5], (name, out[5])
    assert "too small" in va_tab.from_photo(_bad_files(tmp_path / "b2")["10x10, under the 16 px minimum"], None)[5]


def test_the_arithmetic_takes_your_photo_as_c_and_as_the_sliders_face(two_models, face_png):
    picks = va_tab.draw(PRESET, 1, 0.25, "faces_v2")[0]
    assert picks["model"] == "faces_v2" and all(len(picks[k][0]) == V2_Z for k in "ABC")
    switch, title, photo, crop, recon, status, fresh = va_tab.from_photo(face_png, "faces")
    assert crop.size == recon.size == (va_tab.BIG, va_tab.BIG)
    assert switch == "faces_v2" and photo["model"] == "faces_v2" and fresh is True and "faces v2" in title
    assert status.startswith(common.OK_MARK) and "dB" in status and "switch moved" in status
    out = va_tab.photo_in_preset(fresh, picks, photo, PRESET, 1, 0.25, "faces_v2")
    with_photo, gal_c, status = out[0], out[3], out[-1]
    assert with_photo["C"] == [photo["z"]] and with_photo["A"] == picks["A"] and with_photo["photo_c"]
    assert gal_c[0][1].startswith("your photo · ")
    assert "smiling woman − neutral woman + your photo" in status and "Smiling" in status
    assert "Male" not in status.split("Classifier on the result:")[1].split(".")[0]  # only what A − B adds is judged
    # The noise slider redraws the same sum.
    assert va_tab.show(with_photo, 0.5, 1, PRESET, "faces_v2")[-1] == status
    # No photo (a refused upload) changes nothing.
    assert va_tab.photo_in_preset(False, picks, photo, PRESET, 1, 0.25, "faces_v2") == (gr.skip(),) * 8
    assert va_tab.photo_as_c(picks, None, PRESET, 1, 0.25, "faces_v2")[-1].startswith(common.WARN_MARK)
    # The sliders move your photo; a typed seed takes over (and lets the photo go).
    amounts = [0.0] * len(face_arithmetic.DIRECTION_ATTRIBUTES)
    amounts[face_arithmetic.DIRECTION_ATTRIBUTES.index("Smiling")] = 1.5
    img, status = va_tab.edit_current(7, photo, *amounts, "faces_v2")
    assert isinstance(img, Image.Image) and "your photo, +1.5 Smiling" in status
    img, status, kept = va_tab.edit_seed(7, *amounts, "faces_v2")
    assert "seed 7, +1.5 Smiling" in status and kept is None
    assert "seed 7" in va_tab.edit_current(7, photo, *amounts, "faces")[1]  # v2's photo is no DCGAN face


def test_the_arithmetic_switch_lets_the_other_models_faces_go(two_models, face_png):
    picks = va_tab.draw(PRESET, 1, 0.25, "faces_v2")[0]
    photo = va_tab.from_photo(face_png, "faces_v2")[2]
    assert va_tab.show(picks, 0.25, 1, PRESET, "faces")[-1].startswith(common.WARN_MARK)  # never decoded as DCGAN's
    out = va_tab.switched("faces", picks, photo)
    assert "DCGAN" in out[0]
    assert out[1] == {} and out[2:5] == ([], [], []) and out[9] is None and "upload it again" in out[-1]
    kept = va_tab.switched("faces_v2", picks, photo)
    assert all(x == gr.skip() for x in kept[1:])  # the same model: nothing to let go
    # A pool click with the other model's picks starts afresh.
    from types import SimpleNamespace

    out = va_tab.add_pick(SimpleNamespace(index=0), picks, "A", 0, 0.25, 1, "faces")
    assert out[0]["model"] == "faces" and len(out[0]["A"]) == 1 and not out[0].get("B")
    assert len(out[0]["A"][0]) == DCGAN_Z


def _components(build) -> list:
    with gr.Blocks() as demo:
        build(demo)
    return list(demo.blocks.values())


@pytest.mark.parametrize("tab", [walk_tab, va_tab])
def test_the_switch_and_the_upload_show_only_with_both_models(two_models, tab):
    radios = [c for c in _components(tab.build) if isinstance(c, gr.Radio) and str(c.elem_id).endswith("model")]
    assert len(radios) == 1 and radios[0].visible and radios[0].value == "faces_v2"
    assert [v for _, v in radios[0].choices] == ["faces_v2", "faces"]
    assert any(isinstance(c, gr.File) and c.label == "Your face photo" for c in _components(tab.build))
    # Only the DCGAN shipped: no switch to see, no upload, as before v2.
    import shutil

    shutil.rmtree(two_models / "faces_v2")
    comps = _components(tab.build)
    radios = [c for c in comps if isinstance(c, gr.Radio) and str(c.elem_id).endswith("model")]
    assert len(radios) == 1 and not radios[0].visible and radios[0].value == "faces"
    assert not any(isinstance(c, gr.File) and c.label == "Your face photo" for c in comps)
