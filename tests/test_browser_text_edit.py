"""A person in Chromium on the text-guided edit tab: type "make her smile", see the parsed edit, a
changed after-image and the classifier's verdict; click an example prompt; type nonsense and get the
list of what can be edited. Needs the shipped faces GAN and attribute classifier."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.pipelines import text_edit
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path
from tests.test_browser_faces import _wait_text

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists() or not text_edit.has_checkpoints(),
                                 reason="needs /usr/bin/chromium and the shipped faces + face_attributes models"),
              pytest.mark.browser, pytest.mark.shipped]


@pytest.fixture(scope="module")
def page(labelled_pool, shared_app):
    from playwright.sync_api import sync_playwright

    url = shared_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(url)
        page.get_by_role("tab", name="Text-guided edit", exact=True).click()
        page.wait_for_selector("#te-gallery .thumbnail-item", timeout=60_000)  # drawn when the tab opens
        yield page
        browser.close()


def _pictures(page) -> tuple[np.ndarray, np.ndarray]:
    """The slider's two pictures (before, after) as int arrays."""
    imgs = page.locator("#te-slider img").all()[:2]
    assert len(imgs) == 2, "the before/after slider shows no pictures"
    return tuple(np.asarray(Image.open(io.BytesIO(page.request.get(i.get_attribute("src")).body())).convert("RGB"))
                 .astype(int) for i in imgs)


def _prompt(page, text: str) -> None:
    box = page.locator("#te-prompt textarea, #te-prompt input").first
    box.fill(text)
    box.press("Enter")


def _parsed(page) -> str:
    return page.locator("#te-parsed textarea, #te-parsed input").first.input_value()


def _wait_parsed(page, text: str, timeout: float = 90) -> None:
    page.wait_for_function(
        "t => [...document.querySelectorAll('#te-parsed textarea, #te-parsed input')].some(e => e.value === t)",
        arg=text, timeout=timeout * 1000)


def test_typing_a_prompt_shows_the_parse_and_changes_the_face(page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    _prompt(page, "make her smile")
    _wait_parsed(page, "+Smiling 1.0")  # the first edit loads the encoder and the boundaries
    status = _wait_text(page, "#te-status", "the classifier", 30)
    assert "smiling p" in status
    before, after = _pictures(page)
    assert before.shape == after.shape and np.abs(before - after).mean() > 2, "the after-image did not change"
    assert "smiling" in page.locator("#te-readout").inner_text()
    page.screenshot(path=str(SHOTS / "text_edit_smile.png"), full_page=True)


def test_an_example_prompt_runs_and_nonsense_gets_the_list(page):
    page.locator("#te-examples label", has_text="add glasses").first.click()
    _wait_parsed(page, "+Eyeglasses 1.0", 60)
    _prompt(page, "the weather is nice")
    status = _wait_text(page, "#te-status", "can change", 30)
    assert "glasses" in status and _parsed(page) == ""
    # A 10,000-character paste is cut by the box (the server refuses longer ones too).
    _prompt(page, "smile " * 2000)
    _wait_parsed(page, "+Smiling 1.0", 60)
    assert len(page.locator("#te-prompt textarea, #te-prompt input").first.input_value()) <= 300


# ---- your photo, inverted into faces v2 (issue 16 phase 2) -------------------------------------------
V2 = pytest.mark.skipif(not text_edit.has_checkpoints("faces_v2"), reason="needs the shipped faces_v2 model")


@pytest.fixture(scope="module")
def v2_face(tmp_path_factory) -> str:
    """A face photo made by faces v2's own generator (a seed's face at 256 px: no dataset image), with
    v2's labelled pool put in the tests' disk cache first (the app reads it from there: minutes the
    first time on a machine, milliseconds after)."""
    from core.pipelines import face_arithmetic, faces

    face_arithmetic.load("faces_v2").pool  # noqa: B018
    pipe = faces.load("faces_v2")
    path = tmp_path_factory.mktemp("photo") / "my_face.png"
    pipe.images(pipe.z(2024)[None], 256)[0].save(path)
    return str(path)


def _upload(page, path: str) -> None:
    """Put a file into the photo box (clearing the one it shows first, as a person would)."""
    clear = page.locator("#te-photo button[aria-label=Clear]")
    if clear.count():
        clear.first.click()
    page.locator("#te-photo input[type=file]").set_input_files(path)


@V2
def test_an_uploaded_photo_is_shown_as_v2_draws_it_and_edited_there(page, v2_face):
    _upload(page, v2_face)
    status = _wait_text(page, "#te-photo-status", "dB", 120)
    assert "faces v2" in status
    for box in ("#te-photo-crop", "#te-photo-recon"):
        assert page.locator(f"{box} img").count(), f"{box} shows no picture"
    _prompt(page, "not smiling")
    _wait_parsed(page, "-Smiling 1.0", 120)  # the first v2 edit loads its boundaries
    _wait_text(page, "#te-status", "the classifier", 30)
    before, after = _pictures(page)
    assert np.abs(before - after).mean() > 2, "the photo's after-image did not change"
    # A text file named .png: a message beside the upload, no error, the photo still held.
    bad = Path(v2_face).with_name("not_a_face.png")
    bad.write_text("just some text\n")
    _upload(page, str(bad))
    _wait_text(page, "#te-photo-status", "refused", 60)
    assert not page.locator(".toast-body.error").count()
    page.screenshot(path=str(SHOTS / "text_edit_photo.png"), full_page=True)
    # A seed typed: back to the DCGAN's faces, the photo let go.
    seed = page.locator("#te-seed input").first
    seed.fill("7")
    seed.press("Enter")
    page.wait_for_function("() => !document.querySelector('#te-photo-status').innerText.includes('refused')",
                           timeout=30_000)
