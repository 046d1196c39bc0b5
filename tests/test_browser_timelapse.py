"""A person in Chromium on the "How it learned" tab: it opens on the last frame of a time-lapse (a fake
one, made by the project's own writer in the test's checkpoint folder), and moving the slider with the
mouse shows another frame, its step and the charts' marker at that step."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.apprunner import running_app
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path
from tests.test_browser_faces import _src, _wait_change, _wait_text
from tests.test_timelapse import fake_timelapse

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
              pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("timelapse_browser")
    fake_timelapse(tmp / "checkpoints")  # 12 frames, steps 100..1200, each frame its own colour
    with running_app({"LAB_CHECKPOINTS": str(tmp / "checkpoints")}, log=tmp / "app.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        page.get_by_role("tab", name="How it learned", exact=True).click()
        yield page
        browser.close()


def _picture(page, sel: str) -> np.ndarray:
    src = page.locator(f"{sel} img").first.get_attribute("src")
    return np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")).astype(int)


def test_moving_the_slider_shows_another_frame_and_step(page):
    status = _wait_text(page, "#tl-status", "Step 1,200", 30)  # the last frame, in the page as built
    assert "frame 12 of 12" in status and "fd_eff" in status
    frame, losses = _src(page, "#tl-frame"), _src(page, "#tl-losses")
    last = _picture(page, "#tl-frame")
    slider = page.locator("#tl-slider input[type=range]").first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # the left end: the first frame
    _wait_change(page, "#tl-frame", frame)
    status = _wait_text(page, "#tl-status", "Step 100 ", 30)
    assert "frame 1 of 12" in status
    first = _picture(page, "#tl-frame")
    assert first.shape == last.shape and np.abs(first - last).max() > 100  # another frame: another colour
    _wait_change(page, "#tl-losses", losses)  # the marker moved to the new step
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "timelapse_tab.png"), full_page=True)
