"""A person in Chromium on the horse ↔ zebra tab: click an example, flip the direction, upload a
huge photo and a broken file. Needs the shipped horse2zebra model."""
from __future__ import annotations

import pytest
from PIL import Image

from core.pipelines import horse2zebra
from tests.apprunner import running_app
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path
from tests.test_browser_faces import _src, _text, _wait_change, _wait_text

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not horse2zebra.has_checkpoint(),
                                reason="needs /usr/bin/chromium and the shipped horse2zebra model")


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(url)
        page.get_by_role("tab", name="Horse ↔ zebra").click()
        page.wait_for_selector("#h2z-examples", timeout=60_000)
        yield page
        browser.close()


def test_example_then_direction_then_uploads(page, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#h2z-examples button, #h2z-examples .thumbnail-item").nth(0).click()
    status = _wait_text(page, "#h2z-status", "dB", 60)
    assert "cycle back" in status
    before = _src(page, "#h2z-slider")
    page.get_by_label("zebra → horse").check()
    _wait_text(page, "#h2z-status", "ms")
    page.screenshot(path=str(SHOTS / "horse2zebra.png"), full_page=True)
    # A huge photo is downscaled with a note.
    big = tmp_path / "big.jpg"
    Image.new("RGB", (3000, 2000), (120, 90, 60)).save(big, quality=60)
    page.locator("#h2z-upload input[type=file]").set_input_files(str(big))
    _wait_text(page, "#h2z-status", "downscaled from 3000x2000", 60)
    assert _wait_change(page, "#h2z-slider", before)
    # A broken file gets a clear message, not an error toast.
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    page.locator("#h2z-upload input[type=file]").set_input_files(str(bad))
    status = _wait_text(page, "#h2z-status", "⚠️", 60)
    assert "/tmp" not in status and not page.locator(".toast-body.error").count()
    assert _text(page, "#h2z-status")
