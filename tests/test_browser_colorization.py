"""A person in Chromium on the colorization tab: pick an example, click the photo to place a colour
hint, pick blue for it (the spot turns blue), then remove it again. Runs on the shipped models when
they exist, else on a tiny net trained in the fixture to follow hints (a few seconds)."""
from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from core.pipelines import colorization
from core.registry import get_spec
from tests.apprunner import running_app
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path
from tests.test_browser_faces import _wait_change, _wait_text
from tests.test_colorization import train_hint_follower

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
              pytest.mark.browser, pytest.mark.slow]
SHIPPED = colorization.has_checkpoint("colorization")
BLUE = "#0030ff"


def _checkpoints(folder: Path) -> Path:
    """colorization + colorization_l2 in `folder`: copies of the shipped ones, or the hint follower."""
    follower = None if SHIPPED else train_hint_follower(folder)  # a tiny net that follows hints
    for name in ("colorization", "colorization_l2"):
        source = get_spec(name).checkpoint_dir if SHIPPED and colorization.has_checkpoint(name) else follower
        shutil.copytree(source or train_hint_follower(folder / "follower"), folder / "checkpoints" / name)
    return folder / "checkpoints"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    folder = _checkpoints(tmp_path_factory.mktemp("colorization"))
    with running_app({"LAB_CHECKPOINTS": str(folder)}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(url)
        page.get_by_role("tab", name="Colorization", exact=True).click()
        page.wait_for_selector("#col-examples .thumbnail-item", timeout=60_000)
        yield page
        browser.close()


def _fetch(page, src: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")).astype(int)


def _chroma(im: np.ndarray) -> float:
    return float((im.max(2) - im.min(2)).mean())


def _picture(page) -> np.ndarray:
    """The slider's colorized side as int [H, W, 3]; its other side must be the grey lightness."""
    a, b = (_fetch(page, img.get_attribute("src")) for img in page.locator("#col-slider img").all()[:2])
    colour, grey = (a, b) if _chroma(a) >= _chroma(b) else (b, a)
    assert np.abs(grey - grey[..., :1]).max() <= 1, "one side of the slider should be grey"
    return colour


def _click_picture(page, fx: float, fy: float) -> None:
    """Click the hint picture at (fx, fy) of its width and height, where Gradio shows it (at most its
    own size, centred in the box)."""
    img = page.locator("#col-hints-image img")
    page.wait_for_function("() => document.querySelector('#col-hints-image img')?.naturalWidth > 0", timeout=30_000)
    img.scroll_into_view_if_needed()  # a mouse click lands only inside the viewport
    box = img.bounding_box()
    nw, nh = img.evaluate("e => [e.naturalWidth, e.naturalHeight]")
    s = min(box["width"] / nw, box["height"] / nh, 1)
    page.mouse.click(box["x"] + (box["width"] - nw * s) / 2 + fx * nw * s,
                     box["y"] + (box["height"] - nh * s) / 2 + fy * nh * s)


def _pick_colour(page, hex_colour: str) -> None:
    page.locator("#col-picker button.dialog-button").click()
    field = page.locator("#col-picker input[type=text]")
    field.fill(hex_colour)
    field.press("Enter")
    page.locator("#col-status").click()  # close the dialog


def test_example_hint_recolour_remove(page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#col-examples .thumbnail-item").nth(0).click()  # a face from our GAN, in colour
    status = _wait_text(page, "#col-status", " ms", 60)
    assert status.startswith("OK") and "colour photo" in status
    assert page.locator("#col-original img").count() and page.locator("#col-l2 img").count()
    plain = _picture(page)
    assert _chroma(plain) > 1, "the colorized side has no colour"
    h, w, _ = plain.shape
    hints_src = page.locator("#col-hints-image img").get_attribute("src")

    # A click places hint 1 where the person clicked, in the model's own colour there.
    _click_picture(page, 0.5, 0.6)
    _wait_text(page, "#col-status", "1 hint", 30)
    listed = page.locator("#col-hint-list input").input_value()
    x, y = (int(v) for v in listed.split("(")[1].split(")")[0].split(","))
    assert abs(x - 0.5 * w) <= 2 and abs(y - 0.6 * h) <= 2, listed
    guess = listed.rsplit(" ", 1)[1]
    # The offer is the model's colour over a hint patch at its own size (3 px at 128 px: ~4.5 px of
    # this 192 px photo; a wider window would mix in the shading around a highlight).
    here = plain[max(y - 3, 0):y + 4, max(x - 3, 0):x + 4].reshape(-1, 3).mean(0)
    offered = np.array([int(guess[i:i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(offered - here).max() <= 45, f"picker offers {guess}, the photo shows {here.round()} there"
    hints_src = _wait_change(page, "#col-hints-image", hints_src)

    # Blue for that hint: the photo changes, and (shipped model) turns bluer around the hint.
    _pick_colour(page, BLUE)
    page.wait_for_function("b => document.querySelector('#col-hint-list input').value.endsWith(b)", arg=BLUE,
                           timeout=30_000)
    _wait_change(page, "#col-hints-image", hints_src)
    blue = _picture(page)
    assert np.abs(blue - plain).mean() > 0.5, "the hint changed nothing"
    def blueness(im):
        patch = im[max(y - 6, 0):y + 7, max(x - 6, 0):x + 7].reshape(-1, 3).astype(float)
        return float((patch[:, 2] - patch[:, :2].mean(1)).mean())
    assert blueness(blue) > blueness(plain) + 10, "the hinted spot did not turn blue"
    page.screenshot(path=str(SHOTS / "colorization.png"), full_page=True)

    # Removing the only hint gives the plain colorization back.
    page.locator("#col-remove").click()
    _wait_text(page, "#col-status", " ms", 30)
    page.wait_for_function("() => !document.querySelector('#col-status').innerText.includes('hint')", timeout=30_000)
    assert np.abs(_picture(page) - plain).max() <= 2
