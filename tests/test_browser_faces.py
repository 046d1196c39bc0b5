"""A person in Chromium on the faces tabs: pick faces, slide along the walk, export a GIF, click the
2D map, draw arithmetic exemplars, push attribute sliders, type nonsense. Needs the shipped models."""
from __future__ import annotations

import time

import pytest

from core.pipelines import face_arithmetic
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not face_arithmetic.has_checkpoints(),
                                reason="needs /usr/bin/chromium and the shipped faces + face_attributes models")
pytestmark = [pytestmark, pytest.mark.browser, pytest.mark.shipped]  # markers: pytest.ini


@pytest.fixture(scope="module")
def page(labelled_pool, shared_app):
    from playwright.sync_api import sync_playwright

    url = shared_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(url)
        page.get_by_role("tab", name="Latent walk").click()
        _wait_text(page, "#walk-status", "slerp", 120)
        yield page
        browser.close()


def _text(page, sel: str) -> str:
    loc = page.locator(sel)
    return loc.inner_text() if loc.count() else ""


def _wait_text(page, sel: str, text: str, timeout: float = 60) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = _text(page, sel)
        if text in s:
            return s
        time.sleep(0.3)
    raise AssertionError(f"{sel} never contained {text!r}; last: {_text(page, sel)!r}")


def _src(page, sel: str) -> str | None:
    img = page.locator(f"{sel} img")
    return img.first.get_attribute("src") if img.count() else None


def _wait_change(page, sel: str, before: str | None, timeout: float = 30, read=None) -> str:
    """Wait until read(page, sel) (default: the first picture's URL) is set and differs from before."""
    read = read or _src
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = read(page, sel)
        if now and now != before:
            return now
        time.sleep(0.3)
    raise AssertionError(f"{sel} did not change")


def _type(page, sel: str, value: str) -> None:
    box = page.locator(f"{sel} input").first
    box.fill(value)
    box.press("Enter")


def test_walk_slider_seeds_gallery_and_gif(page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    face = _src(page, "#walk-face")
    assert face
    # Slide along the path: the face on the path follows.
    slider = page.locator("#walk-t input[type=range]").first
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
    face = _wait_change(page, "#walk-face", face)
    # A nonsense seed is cleaned, not an error.
    _type(page, "#walk-seed-a", "-12345678901234")
    box_a = page.locator("#walk-seed-a input").first

    def cleaned() -> bool:  # a valid seed is shown (not the typed text, nor an empty box mid-update)
        v = box_a.input_value()
        return v.isdigit() and int(v) < 2**31

    deadline = time.time() + 30  # as a person would, wait for the box to show the cleaned seed
    while not cleaned() and time.time() < deadline:
        time.sleep(0.3)
    assert cleaned(), box_a.input_value()
    _wait_text(page, "#walk-status", "slerp")
    assert not page.locator(".toast-body.error").count()
    # Clicking a sample sets face A's seed.
    for _ in range(3):  # a click on a gallery that is re-rendering can be lost: a person clicks again
        page.locator("#walk-gallery .thumbnail-item").nth(3).click()
        deadline = time.time() + 10
        while box_a.input_value() != "103" and time.time() < deadline:
            time.sleep(0.3)
        if box_a.input_value() == "103":
            break
    assert box_a.input_value() == "103"
    # Export the walk as a GIF.
    page.locator("#walk-gif-btn").click()
    # The GIF has its own status line (a walk still queued from the seed change once overwrote a shared one).
    _wait_text(page, "#walk-gif-status", "GIF", 60)
    link = page.locator("#walk-gif-file a").first
    deadline = time.time() + 60
    while time.time() < deadline and not (link.count() and (link.get_attribute("href") or "").endswith(".gif")):
        time.sleep(0.3)
    assert link.count() and link.get_attribute("href").endswith(".gif"), _text(page, "#walk-gif-status")
    assert not page.locator(".toast-body.error").count()
    page.screenshot(path=str(SHOTS / "latent_walk.png"), full_page=True)


def test_map_click_jumps_to_a_face(page):
    page.get_by_text("2D map").first.click()
    page.locator("#map-btn").click()
    deadline = time.time() + 60
    items = page.locator("#map-gallery .thumbnail-item")
    while items.count() < 25 and time.time() < deadline:
        time.sleep(0.3)
    assert items.count() >= 25
    before = _src(page, "#walk-face")
    items.nth(0).click()  # the top-left face becomes face A, the walk redraws from it
    _wait_change(page, "#walk-face", before)


def test_vector_arithmetic_presets_and_sliders(page):
    page.get_by_role("tab", name="Vector arithmetic").click()
    status = _wait_text(page, "#va-status", "Classifier on the result", 120)
    assert "smiling man" in status
    result = _src(page, "#va-result")
    _type(page, "#va-seed", "3")
    result = _wait_change(page, "#va-result", result)
    # The glasses preset.
    page.locator("#va-preset input").first.click()
    page.get_by_role("option", name="man with glasses", exact=False).first.click()
    _wait_text(page, "#va-status", "woman with glasses", 60)
    # An attribute slider moves the face; an absurd typed amount is clamped, not an error.
    edited = _src(page, "#va-edited")
    num = page.locator("#va-dir-Smiling input[type=number]").first
    num.fill("999")
    num.press("Enter")
    _wait_change(page, "#va-edited", edited)
    _wait_text(page, "#va-edit-status", "Smiling")
    assert not page.locator(".toast-body.error").count()
    page.screenshot(path=str(SHOTS / "vector_arithmetic.png"), full_page=True)


# ---- faces v2: the model switch and your photo (issue 17) ---------------------------------------------
V2 = pytest.mark.skipif(not face_arithmetic.has_checkpoints("faces_v2"), reason="needs the shipped faces_v2 model")


@pytest.fixture(scope="module")
def face_png(tmp_path_factory) -> str:
    """A face photo made by faces v2's own generator (a seed's face at 256 px): no dataset image."""
    from core.pipelines import faces

    pipe = faces.load("faces_v2")
    path = tmp_path_factory.mktemp("photo") / "my_face.png"
    pipe.images(pipe.z(2024)[None], 256)[0].save(path)
    return str(path)


def _switch(page, prefix: str, label: str) -> None:
    page.locator(f"#{prefix}-model label", has_text=label).first.click()


def _upload(page, box: str, path: str) -> None:
    """Put a file into an upload box (clearing the one it shows first, as a person would)."""
    clear = page.locator(f"{box} button[aria-label=Clear]")
    if clear.count():
        clear.first.click()
    page.locator(f"{box} input[type=file]").set_input_files(path)


@V2
def test_walk_from_your_photo(page, face_png):
    """On the DCGAN, an upload moves the switch to v2, shows the photo's face square beside v2's
    reconstruction with its PSNR, makes it face A and walks from it; the DCGAN's texts and faces
    follow the switch."""
    page.get_by_role("tab", name="Latent walk").click()
    _switch(page, "walk", "DCGAN")
    _wait_text(page, "#walk-header", "100 random numbers", 30)
    _wait_text(page, "#walk-status", "samples: ≈10.0", 60)  # the DCGAN's walk (v2's samples: ≈11.3)
    strip = _src(page, "#walk-strip")
    _upload(page, "#walk-photo", face_png)
    status = _wait_text(page, "#walk-photo-status", "dB", 90)
    assert "Face A is your photo" in status and "switch moved" in status
    assert _src(page, "#walk-photo-crop") and _src(page, "#walk-photo-recon")
    _wait_text(page, "#walk-header", "128 random numbers", 30)
    assert page.locator("#walk-model label", has_text="v2").locator("input").is_checked()
    _wait_text(page, "#walk-status", "A: your photo", 60)
    strip = _wait_change(page, "#walk-strip", strip, 30)
    # Walking on from it: a new face B, the strip changes again.
    _type(page, "#walk-seed-b", "77")
    _wait_change(page, "#walk-strip", strip, 60)
    _wait_text(page, "#walk-status", "A: your photo", 30)
    # A text file named .png: a message, no error.
    bad = Path(face_png).with_name("not_a_face.png")
    bad.write_text("just some text\n")
    _upload(page, "#walk-photo", str(bad))
    _wait_text(page, "#walk-photo-status", "refused", 60)
    assert not page.locator(".toast-body.error").count()
    _upload(page, "#walk-photo", face_png)  # the screenshot shows the photo
    _wait_text(page, "#walk-photo-status", "dB", 90)
    _wait_text(page, "#walk-status", "A: your photo", 60)
    time.sleep(1)
    page.screenshot(path=str(SHOTS / "latent_walk_photo.png"), full_page=True)


@V2
def test_arithmetic_on_your_photo(page, face_png):
    """The upload becomes C in the preset (your face + A − B) and the face the sliders move."""
    page.get_by_role("tab", name="Vector arithmetic").click()
    _upload(page, "#va-photo", face_png)
    status = _wait_text(page, "#va-photo-status", "dB", 120)
    assert _src(page, "#va-photo-crop") and _src(page, "#va-photo-recon")
    status = _wait_text(page, "#va-status", "+ your photo", 120)
    assert "Classifier on the result" in status
    assert "your photo" in page.locator("#va-c").inner_text()
    edited = _wait_change(page, "#va-edited", None)
    _wait_text(page, "#va-edit-status", "your photo", 60)
    num = page.locator("#va-dir-Smiling input[type=number]").first
    num.fill("-1.5")
    num.press("Enter")
    _wait_change(page, "#va-edited", edited, 60)
    _wait_text(page, "#va-edit-status", "your photo, -1.5 Smiling", 60)
    assert not page.locator(".toast-body.error").count()
    time.sleep(1)
    page.screenshot(path=str(SHOTS / "vector_arithmetic_photo.png"), full_page=True)
    # The switch to the DCGAN: its preset, its texts; your photo (v2's latent) is let go, with a word.
    result = _src(page, "#va-result")
    _switch(page, "va", "DCGAN")
    _wait_text(page, "#va-header", "DCGAN faces", 30)
    _wait_text(page, "#va-photo-status", "upload it again", 30)
    _wait_change(page, "#va-result", result, 60)
    _wait_text(page, "#va-status", "Classifier on the result", 60)
    _wait_text(page, "#va-edit-status", "seed 7", 60)
    assert not page.locator(".toast-body.error").count()
