"""A person in Chromium on the inpainting tab: paint a stroke over the face with the mouse, press Fill and
get our fill (changed inside the hole, every other pixel kept) with its time, then the GAN prior's; press
Centre square; send a face from the latent walk. Runs on the shipped model when there is one, else on an
untrained net of its shape (the test checks the pixel bookkeeping, not the fill's quality)."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from core.data.masks import center_mask
from core.pipelines import faces as faces_pipeline
from tests.apprunner import running_app
from tests.test_browser import ARGS, CHROMIUM, Path
from tests.test_browser_faces import _text, _wait_text
from tests.test_inpainting_tab import checkpoints_with_inpainting

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists() or not faces_pipeline.has_checkpoint(),
                                 reason="needs /usr/bin/chromium and the shipped faces GAN"),
              pytest.mark.browser, pytest.mark.slow, pytest.mark.shipped]
SEED = 7  # the tab's first face


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("inpainting_browser")
    env = {"LAB_CHECKPOINTS": str(checkpoints_with_inpainting(tmp))}
    with running_app(env, log=tmp / "app.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(url)
        uploads = []  # the editor uploads the face it is given: strokes painted before that are lost
        page.on("requestfinished", lambda r: uploads.append(r) if "/gradio_api/upload" in r.url else None)
        page.get_by_role("tab", name="Inpainting", exact=True).click()
        _wait_text(page, "#inp-status", f"seed {SEED}", 60)  # drawn when the tab opens
        deadline = time.time() + 60
        while not uploads and time.time() < deadline:
            page.wait_for_timeout(100)
        assert uploads, "the editor never took the face in"
        page.wait_for_timeout(500)
        yield page
        browser.close()


def _picture(page, elem: str) -> np.ndarray:
    """The picture shown in #elem as uint8 [H, W, 3] (the file itself, not its enlarged display)."""
    src = page.locator(f"#{elem} img").first.get_attribute("src")
    return np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB"))


def _wait_picture(page, elem: str, before: str | None = None, timeout: float = 60) -> np.ndarray:
    deadline = time.time() + timeout
    while time.time() < deadline:
        img = page.locator(f"#{elem} img")
        if img.count() and img.first.get_attribute("src") not in (None, before):
            return _picture(page, elem)
        time.sleep(0.3)
    raise AssertionError(f"#{elem} never showed a picture")


def _stroke(page, dx: float, dy: float, length: float) -> None:
    """A horizontal stroke with the mouse, from (dx, dy) px off the editor's centre (the face's centre)."""
    canvas = page.locator("#inp-editor canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + length * i / 20, y)
    page.mouse.up()
    time.sleep(1.0)  # the editor sends its layer to the server after each stroke


def test_paint_with_the_mouse_then_fill(page):
    face = np.asarray(faces_pipeline.load().images(faces_pipeline.load().z(SEED), 64)[0])
    _stroke(page, -80, 0, 160)  # across the middle of the face
    page.locator("#inp-fill").click()
    try:
        status = _wait_text(page, "#inp-ours-time", "ms", 60)
    except AssertionError as e:
        raise AssertionError(f"{e}; the tab's status: {_text(page, '#inp-status')!r}") from None
    hole_view, ours, base = (_picture(page, e) for e in ("inp-hole", "inp-ours", "inp-base"))
    hole = (hole_view == 128).all(axis=2)
    rows, cols = np.nonzero(hole)
    assert 0.02 < hole.mean() < 0.4, f"the stroke made a hole of {hole.mean():.0%} of the face"
    assert abs(rows.mean() - 32) < 6 and cols.min() < 24 and cols.max() > 40, "the hole is not where the stroke was"
    for out in (ours, base):
        assert out.shape == (64, 64, 3) and np.array_equal(out[~hole], hole_view[~hole])  # kept exactly
        assert np.abs(out[~hole].astype(int) - face[~hole]).max() <= 1  # ... and they are the face's
        assert not (out[hole] == 128).all() and np.abs(out[hole].astype(int) - face[hole]).max() > 2  # filled
    assert "ms" in _text(page, "#inp-base-time") and "OK" in _text(page, "#inp-status"), status
    _wait_text(page, "#inp-prior-time", "ms", 60)  # the GAN prior, in its own event after these
    prior = _picture(page, "inp-prior")
    assert np.array_equal(prior[~hole], hole_view[~hole]) and not np.array_equal(prior[hole], face[hole])


def test_centre_square_and_a_face_from_the_latent_walk(page):
    before = page.locator("#inp-hole img").first.get_attribute("src") if page.locator("#inp-hole img").count() else None
    page.locator("#inp-centre").click()
    _wait_text(page, "#inp-status", "25 %", 60)
    hole = (_wait_picture(page, "inp-hole", before) == 128).all(axis=2)
    assert np.array_equal(hole, center_mask(64))
    page.get_by_role("tab", name="Latent walk", exact=True).click()
    page.wait_for_selector("#walk-face img", timeout=60_000)
    page.locator("#walk-send").click()
    _wait_text(page, "#inp-status", "latent walk", 60)
    page.wait_for_selector("#inp-editor", state="visible", timeout=60_000)  # the page is back on the inpainting tab
    assert page.locator("#inp-hole img").count() == 0  # the old results went with the old face
