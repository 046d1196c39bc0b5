"""A person in Chromium on the text-guided edit tab: type "make her smile", see the parsed edit, a
changed after-image and the classifier's verdict; click an example prompt; type nonsense and get the
list of what can be edited. Needs the shipped faces GAN and attribute classifier."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.pipelines import text_edit
from tests.apprunner import running_app
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path
from tests.test_browser_faces import _wait_text

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists() or not text_edit.has_checkpoints(),
                                 reason="needs /usr/bin/chromium and the shipped faces + face_attributes models"),
              pytest.mark.browser, pytest.mark.shipped]


@pytest.fixture(scope="module")
def page(labelled_pool):
    from playwright.sync_api import sync_playwright

    with running_app() as url, sync_playwright() as p:
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
