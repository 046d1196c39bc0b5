"""The inpainting tab (demos/inpainting.py): its functions on the shipped model or, until it ships, an
untrained net of the registry's shape; the paint editor's input hardening (demos/inputs.PaintEditor);
the /inpaint API through gradio_client on a launched app. The fills' quality is the eval's business
(tests/test_inpainting.py tests the pipeline itself)."""
from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from gradio.data_classes import DataWithFiles, FileData
from gradio.components.image_editor import EditorData
from PIL import Image

import core.registry
from core.checkpoint import is_checkpoint, save_checkpoint
from core.data.faces import FaceDataset
from core.data.masks import center_mask
from core.nets import build_net
from core.pipelines import faces as faces_pipeline
from core.registry import get_spec
from demos import inpainting as tab
from demos import inputs
from demos.common import OK_MARK, WARN_MARK
from tests.apprunner import ROOT, local_client, running_app
from tests.hostile_corpus import png_bomb

FACES = pytest.mark.skipif(not faces_pipeline.has_checkpoint(), reason="needs the shipped faces GAN")


def stand_in_inpainting(folder: Path) -> Path:
    """folder/inpainting: left alone if it holds a checkpoint (e.g. the shipped one, copied), else an
    untrained net of the registry's shape, so that the tab (shown only when its model is there) and its
    endpoints are in the app. Returns folder."""
    target = folder / "inpainting"
    if not is_checkpoint(target):
        spec = get_spec("inpainting")
        save_checkpoint(target, {"G": build_net(spec.nets["G"]).eval()},
                        {"model": "inpainting", "image_size": spec.train_defaults["image_size"]},
                        card="untrained stand-in\n")
    return folder


def checkpoints_with_inpainting(tmp: Path) -> Path:
    """A copy of checkpoints/ with an inpainting model in it (stand_in_inpainting)."""
    shutil.copytree(ROOT / "checkpoints", tmp / "checkpoints")
    return stand_in_inpainting(tmp / "checkpoints")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A checkpoints folder with the inpainting model (stand_in_inpainting) and, when shipped, the faces GAN."""
    tmp = tmp_path_factory.mktemp("inpainting_tab") / "checkpoints"
    tmp.mkdir()
    if faces_pipeline.has_checkpoint():
        shutil.copytree(get_spec("faces").checkpoint_dir, tmp / "faces")
    return stand_in_inpainting(tmp)


@pytest.fixture(autouse=True)
def served(folder, monkeypatch):
    """The tab's pipeline reads this module's checkpoints; each test gets a fresh layer store."""
    monkeypatch.setattr(core.registry, "CHECKPOINTS", folder)
    monkeypatch.setattr(inputs.PaintEditor, "store", inputs.LayerStore())


def face(side: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)


def layer(side: int, box, alpha: int = 153) -> Image.Image:
    """A painted layer as the editor sends it: transparent, the box painted magenta at `alpha`."""
    a = np.zeros((side, side, 4), np.uint8)
    x0, y0, x1, y1 = box
    a[y0:y1, x0:x1] = (255, 0, 255, alpha)
    return Image.fromarray(a, "RGBA")


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


# ---- masks and fills -------------------------------------------------------------------------------
def test_painted_layers_make_the_hole_at_the_face_size():
    hole = tab.painted([layer(256, (64, 64, 128, 192)), layer(256, (0, 0, 0, 0))], 64)
    expected = np.zeros((64, 64), bool)
    expected[16:48, 16:32] = True
    assert np.array_equal(hole, expected)
    assert not tab.painted([], 64).any() and not tab.painted([layer(64, (0, 0, 64, 64), alpha=40)], 64).any()


def test_fill_keeps_every_known_pixel_and_shows_the_times():
    f = face()
    preset = center_mask(64)
    masked, ours, base, ours_time, base_time, status, job = tab.fill(f, preset, [layer(64, (0, 0, 10, 10))])
    hole = preset.copy()
    hole[:10, :10] = True
    assert status.startswith(OK_MARK) and "ms" in status and "ms" in ours_time and "ms" in base_time
    assert np.array_equal(job["hole"], hole) and np.array_equal(job["face"], f)
    for im in (masked, ours, base):
        out = np.asarray(im)
        assert out.shape == (64, 64, 3) and np.array_equal(out[~hole], f[~hole])
    assert (np.asarray(masked)[hole] == 128).all()
    assert not np.array_equal(np.asarray(ours)[hole], f[hole])


@pytest.mark.parametrize("case, words", [("no face", "Pick a face"), ("empty", "mask is empty"),
                                         ("full", "whole picture")])
def test_bad_masks_get_a_message_not_an_error(case, words):
    f = None if case == "no face" else face()
    layers = [layer(64, (0, 0, 64, 64) if case == "full" else (0, 0, 0, 0))]
    masked, ours, base, _, _, status, job = tab.fill(f, None, layers)
    assert status.startswith(WARN_MARK) and words in status
    assert masked is ours is base is job is None
    assert tab.fill_prior(job) == (gr.skip(), gr.skip())  # the chained prior does nothing


@FACES
def test_the_prior_fills_the_last_hole_with_progress():
    f, hole = face(), center_mask(64)
    steps = []
    image, caption = tab.fill_prior({"face": f, "hole": hole}, progress=lambda value, desc="": steps.append(value))
    out = np.asarray(image)
    assert np.array_equal(out[~hole], f[~hole]) and "ms" in caption
    assert steps and steps[-1][0] == steps[-1][1]  # (done, all): the bar reached its end


@FACES
def test_faces_come_from_seeds_at_the_nets_size():
    editor, f, preset, status, *results = tab.from_seed(7)
    assert f.shape == (64, 64, 3) and preset is None and status.startswith(OK_MARK) and "seed 7" in status
    assert results == list(tab.cleared())
    assert editor.value["background"] is not None and editor.brush.default_size == 4


# ---- uploads -------------------------------------------------------------------------------------
def test_uploads_are_cut_to_the_face_square(tmp_path):
    cases = {"portrait.png": ((178, 218), 128, "face square"), "wide.jpg": ((400, 200), 200, "centre-cropped"),
             "big.png": ((900, 900), tab.FACE_MAX, "shrunk"), "square.png": ((96, 96), 96, None)}
    for name, (size, side, note) in cases.items():
        path = tmp_path / name
        Image.fromarray(face(max(size))[:size[1], :size[0]]).save(path)
        editor, f, _, status, *_ = tab.from_upload(str(path))
        assert f.shape == (side, side, 3) and status.startswith(OK_MARK), (name, status)
        assert (note in status) if note else "Note" not in status, (name, status)


def test_bad_uploads_get_a_message(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "bomb.png").write_bytes(png_bomb(12000))
    Image.new("RGB", (10, 12)).save(tmp_path / "tiny.png")
    for name, words in (("text.png", "Could not read"), ("bomb.png", "too large"), ("tiny.png", "too small")):
        *_, status = tab.from_upload(str(tmp_path / name))[:4]
        assert status.startswith(WARN_MARK) and words in status, (name, status)


def test_the_face_square_is_the_faces_gans(tmp_path):
    """An 89 x 109 photo (the shared CelebA's size) is cut exactly as FaceDataset cuts it for the GAN."""
    Image.fromarray(face(109)[:, :89]).save(tmp_path / "000001.png")
    square, note = tab.pipeline.face_crop(Image.open(tmp_path / "000001.png").convert("RGB"))
    options = get_spec("faces").data.options
    item = FaceDataset(tmp_path, image_size=64, augment=False, crop_fraction=options["crop_fraction"],
                       center_y=options["center_y"])[0]["image"]
    assert square.size == (64, 64) and "face square" in note
    assert np.array_equal(np.asarray(square), ((item + 1) * 127.5).round().byte().permute(1, 2, 0).numpy())


# ---- the paint editor ------------------------------------------------------------------------------
def _editor_data(tmp_path, layers: dict[str, bytes]) -> EditorData:
    files = []
    for name, data in layers.items():
        (tmp_path / name).write_bytes(data)
        files.append(FileData(path=str(tmp_path / name)))
    return EditorData(background=None, layers=files, composite=None)


def test_the_editor_reads_layers_only_after_checking_them(tmp_path):
    editor = inputs.paint_editor()
    good = editor.preprocess(_editor_data(tmp_path, {"a.png": png(layer(64, (0, 0, 8, 8)))}))
    assert len(good) == 1 and good[0].size == (64, 64)
    assert editor.preprocess(None) == [] and editor.preprocess(EditorData()) == []
    bad = {"bomb": {"b.png": png_bomb(12000)}, "text": {"t.png": b"hello"},
           "wide": {"w.png": png(Image.new("RGBA", (inputs.PaintEditor.MAX_SIDE + 1, 4)))},
           "many": {f"{i}.png": png(layer(8, (0, 0, 1, 1))) for i in range(inputs.MAX_LAYERS + 1)}}
    for case, files in bad.items():
        with pytest.raises(gr.Error):
            editor.preprocess(_editor_data(tmp_path, files))


def test_pictures_sent_ahead_are_checked_and_bounded(monkeypatch):
    editor, store = inputs.paint_editor(), inputs.PaintEditor.store
    page = SimpleNamespace(session_hash="page1")

    def send(kind="layer", set_id="abc", index="0", data=None, request=page):
        fields = {"type": kind, "id": set_id, "index": index}
        picture = data or png(layer(8, (0, 0, 2, 2)))
        return editor.accept_blobs(DataWithFiles(data=fields, files=[("layer.png", picture)]), request)

    assert send() == {"ok": True} and len(store) == 1
    assert send(kind="background", set_id="bg") == {"ok": True} and len(store) == 1  # the tab's own picture: not kept
    for bad in (dict(kind="script"), dict(set_id="../x"), dict(index="9"), dict(data=png_bomb(12000)),
                dict(data=b"text")):
        answer = send(**bad)
        assert answer["ok"] is False and answer["error"].startswith("Refused"), bad
    assert editor.accept_blobs({"not": "a form"}, page)["ok"] is False
    for n in range(5):  # one page keeps its newest two sets
        send(set_id=f"s{n}")
    assert len(store) == inputs.SETS_PER_SESSION and len(store.pop("s4")) == 1 and store.pop("s0") == []
    monkeypatch.setattr(inputs, "MAX_SETS", 3)  # and all pages together at most MAX_SETS
    for n in range(6):
        send(set_id=f"p{n}", request=SimpleNamespace(session_hash=f"page{n}"))
    assert len(store) == 3
    layers = editor.preprocess(EditorData(id="p5"))  # an event reads its set once
    assert len(layers) == 1 and editor.preprocess(EditorData(id="p5")) == []


# ---- the API ---------------------------------------------------------------------------------------
def _files(tmp_path, image_size=(80, 96), mask_size=None, box=(20, 30, 50, 60)):
    """(image, mask) files in a folder of their own: the mask white in `box`, of the image's size or `mask_size`."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    im, m = folder / "image.png", folder / "mask.png"
    Image.fromarray(face(max(image_size))[:image_size[1], :image_size[0]]).save(im)
    a = np.zeros((mask_size or image_size)[::-1], np.uint8)
    x0, y0, x1, y1 = box
    a[y0:y1, x0:x1] = 255
    Image.fromarray(a).save(m)
    return str(im), str(m)


def test_the_api_fills_and_refuses_clearly(tmp_path):
    ours, base, prior, status = tab.inpaint_api(*_files(tmp_path))
    assert status.startswith(OK_MARK) and "centre-cropped from 80x96" in status and prior is None
    assert ours.size == base.size == (80, 80)
    cases = {"mask size": (_files(tmp_path, mask_size=(80, 90)), "send a mask of the image's size"),
             "empty mask": (_files(tmp_path, box=(0, 0, 0, 0)), "mask is empty"),
             "full mask": (_files(tmp_path, box=(0, 0, 80, 96)), "whole picture"),
             "no mask": ((_files(tmp_path)[0], None), "Send an image file and a mask"),
             "text": ((__file__, __file__), "Could not read")}
    for case, (args, words) in cases.items():
        *images, status = tab.inpaint_api(*args)
        assert images == [None, None, None] and status.startswith(WARN_MARK) and words in status, (case, status)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb(12000))
    assert "too large" in tab.inpaint_api(str(bomb), str(bomb))[-1]


@pytest.mark.slow
@pytest.mark.shipped
def test_the_app_serves_the_tab_and_the_endpoint(tmp_path):
    from gradio_client import handle_file

    folder = checkpoints_with_inpainting(tmp_path)
    with running_app({"LAB_CHECKPOINTS": str(folder)}, log=tmp_path / "app.log") as url:
        client = local_client(url)
        config = client.config
        ids = {c["props"].get("elem_id"): c for c in config["components"]}
        assert ids["inp-editor"]["type"] == "imageeditor" and ids["walk-send"]["props"]["visible"] is True
        image, mask = _files(tmp_path, image_size=(64, 64), box=(16, 16, 48, 48))
        ours, base, prior, status = client.predict(handle_file(image), handle_file(mask), True, api_name="/inpaint")
        assert status.startswith(OK_MARK) and "GAN prior" in status
        hole = center_mask(64)
        for path in (ours, base, prior):
            out = np.asarray(Image.open(path).convert("RGB"))
            assert np.array_equal(out[~hole], np.asarray(Image.open(image))[~hole])
        bad = _files(tmp_path, mask_size=(32, 32))
        *images, status = client.predict(handle_file(bad[0]), handle_file(bad[1]), False, api_name="/inpaint")
        assert images == [None, None, None] and "send a mask of the image's size" in status
        # The editor's pictures sent ahead, as its page sends them (a form through /component_server).
        for data, ok in ((png(layer(64, (0, 0, 9, 9))), True), (png_bomb(12000), False), (b"text", False)):
            answer = _send_ahead(url, ids["inp-editor"]["id"], data)
            assert answer["ok"] is ok and (ok or answer["error"].startswith("Refused")), answer


def _send_ahead(url: str, component_id: int, data: bytes) -> dict:
    """One picture of an edit through the editor's accept_blobs, in the form its page uses."""
    import httpx

    fields = {"component_id": str(component_id), "fn_name": "accept_blobs", "session_hash": "tabtest",
              "id": "set1", "type": "layer", "index": "0"}
    r = httpx.post(url + "gradio_api/component_server/", data=fields, files={"file": ("layer.png", data)}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()
