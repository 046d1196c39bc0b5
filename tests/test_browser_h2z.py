"""A person in Chromium on the horse ↔ zebra tab: click an example, flip the direction, upload a
huge photo and a broken file. Needs the shipped horse2zebra model."""
from __future__ import annotations

import pytest
from PIL import Image

from core.pipelines import horse2zebra
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path
from tests.test_browser_faces import _text, _wait_change, _wait_text

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not horse2zebra.has_checkpoint(),
                                reason="needs /usr/bin/chromium and the shipped horse2zebra model")
pytestmark = [pytestmark, pytest.mark.browser, pytest.mark.shipped]  # markers: pytest.ini


@pytest.fixture(scope="module")
def page(shared_app):
    from playwright.sync_api import sync_playwright

    url = shared_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(url)
        page.get_by_role("tab", name="Horse ↔ zebra").click()
        page.wait_for_selector("#h2z-examples", timeout=60_000)
        yield page
        browser.close()


def _srcs(page, sel: str) -> str:
    """Every picture in `sel` (the slider holds input and output): their URLs, joined."""
    imgs = page.locator(f"{sel} img")
    return "|".join(imgs.nth(i).get_attribute("src") or "" for i in range(imgs.count()))


def _upload(page, path) -> None:
    """As a person would: clear the picture shown in the upload box (an example or the last
    upload), then choose a file."""
    box = page.locator("#h2z-upload")
    if not box.locator("input[type=file]").count():
        box.get_by_role("button", name="Clear").click()
    box.locator("input[type=file]").set_input_files(str(path))


def test_example_then_direction_then_uploads(page, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Every example shows, caption whole (a fixed gallery height once hid the zebra and the names).
    box = page.locator("#h2z-examples").bounding_box()
    items = page.locator("#h2z-examples .thumbnail-item")
    assert items.count() == 4
    for i in range(4):
        item = items.nth(i).bounding_box()
        assert item["y"] + item["height"] <= box["y"] + box["height"] + 1, f"example {i} is cut off"
    cut = page.evaluate("""() => [...document.querySelectorAll('#h2z-examples .caption-label')]
                           .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)""")
    assert not cut, f"cut-off captions: {cut}"
    page.locator("#h2z-examples .thumbnail-item").nth(0).click()
    status = _wait_text(page, "#h2z-status", "horse → zebra:", 60)
    assert "cycle back" in status and "dB" in status
    before = _srcs(page, "#h2z-slider")
    page.get_by_label("zebra → horse").check()
    status = _wait_text(page, "#h2z-status", "zebra → horse:", 60)
    assert "dB" in status
    before = _wait_change(page, "#h2z-slider", before, 60, read=_srcs)
    page.screenshot(path=str(SHOTS / "horse2zebra.png"), full_page=True)
    # A huge photo is downscaled with a note.
    big = tmp_path / "big.jpg"
    Image.new("RGB", (3000, 2000), (120, 90, 60)).save(big, quality=60)
    _upload(page, big)
    _wait_text(page, "#h2z-status", "downscaled from 3000x2000", 60)
    assert _wait_change(page, "#h2z-slider", before, 60, read=_srcs)
    # A broken file gets a clear message, not an error toast.
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    _upload(page, bad)
    status = _wait_text(page, "#h2z-status", "Note", 60)
    assert status.startswith("Note")  # a mark in words (an emoji showed as an empty box on some Linux browsers)
    assert "/tmp" not in status and not page.locator(".toast-body.error").count()
    assert _text(page, "#h2z-status")


def test_the_discriminators_judge_the_input_and_the_translation(page):
    """Tick the box: the input under its own domain's critic, the translation under the target
    domain's, and a note with the shares of patches called real; untick: gone."""
    if not horse2zebra.has_critics():
        pytest.skip("the shipped checkpoint kept no discriminators")
    page.locator("#h2z-direction").get_by_label("horse → zebra").check()
    page.locator("#h2z-examples .thumbnail-item").nth(1).click()
    _wait_text(page, "#h2z-status", "horse → zebra:", 60)
    page.locator("#h2z-critic-toggle input").check()
    note = _wait_text(page, "#h2z-critic-status", "patches real", 60)
    assert note.startswith("OK") and "zebra critic" in note and "horse critic" in note, note
    for sel in ("#h2z-critic-input img", "#h2z-critic-output img"):
        page.locator(sel).wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "h2z_critics.png"), full_page=True)
    page.locator("#h2z-critic-toggle input").uncheck()
    page.locator("#h2z-critic-output").wait_for(state="hidden", timeout=30_000)
