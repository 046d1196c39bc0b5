"""Lecture mode in Chromium: `/?lecture=1` shows the sketch tab's notes with the formulas rendered by
KaTeX (no error, no raw TeX), the pre-computed examples and large fonts; the switch turns it all off
and on again without a single request to the server's queue; two other tabs have their panels; no
request leaves the machine; a page opened without the parameter shows no panel and loads none of the
examples. The screenshot goes to runs/screenshots/ and docs/img/lecture_mode.png."""
from __future__ import annotations

import json
import shutil
import time
from urllib.parse import urlparse

import pytest

from demos import lecture
from tests.apprunner import ROOT
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path, app_url, browser  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
              pytest.mark.browser, pytest.mark.slow]  # markers: pytest.ini
DOC_SHOT = ROOT / "docs" / "img" / "lecture_mode.png"
VIEWPORT = {"width": 1400, "height": 1100}
LARGE_PX = 18  # body text in lecture mode at least (Gradio's default: 14 px)


def _root_has_class(page) -> bool:
    return page.evaluate(f"document.documentElement.classList.contains('{lecture.ROOT_CLASS}')")


def _body_px(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.documentElement)"
                               ".getPropertyValue('--body-text-size'))"))


def _wait(predicate, timeout: float = 10, what: str = "") -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _cut_tabs(page) -> list[str]:
    """Labels of visible tab buttons whose text does not fit (the tab bar measures its buttons at one
    font size and shows them at another)."""
    return page.evaluate("""() => [...document.querySelectorAll('button[role="tab"]')]
        .filter(b => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1).map(b => b.innerText)""")


def _check_panel(page, key: str) -> None:
    """The tab's panel is shown, its formulas are KaTeX maths with no error and no raw TeX left, and
    its examples are loaded pictures."""
    panel = page.locator(f"#lecture-{key}")
    panel.wait_for(state="visible", timeout=30_000)
    _wait(lambda: panel.locator(".katex-display").count() >= len(lecture.LECTURES[key].objective), 15,
          f"{key}'s formulas to render")
    assert panel.locator(".katex-error").count() == 0
    text = panel.locator(".lab-lecture-notes").first.inner_text()
    assert "\\mathbb" not in text and "$$" not in text, "raw TeX on the page"
    wanted = len(json.loads(lecture.MANIFEST.read_text())[key])
    images = panel.locator(".lab-lecture-examples img")
    _wait(lambda: images.count() == wanted and all(
        images.nth(i).evaluate("im => im.complete && im.naturalWidth > 0") for i in range(wanted)), 30,
        f"{key}'s {wanted} examples to load")


def test_lecture_mode_from_the_address_then_the_switch(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    queued, external = [], []
    host = urlparse(app_url).hostname

    def seen(request):
        if "/queue/join" in request.url:
            queued.append(request.url)
        if urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:"):
            external.append(request.url)

    page.on("request", seen)
    page.goto(app_url + "?lecture=1")
    switch = page.locator("#lecture-switch input")
    switch.wait_for(timeout=90_000)
    _wait(lambda: switch.is_checked(), 30, "the switch to follow ?lecture=1")
    assert _root_has_class(page)
    _check_panel(page, "sketch2photo")
    assert _body_px(page) >= LARGE_PX
    page.wait_for_timeout(500)  # fonts and pictures settled
    assert not _cut_tabs(page), f"tab labels cut off: {_cut_tabs(page)}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lecture_mode.png"))
    DOC_SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHOTS / "lecture_mode.png", DOC_SHOT)

    # Off: panel gone, fonts back, the address forgets the mode; no request to the queue.
    before = len(queued)
    switch.click()
    _wait(lambda: not _root_has_class(page), 5, "lecture mode to turn off")
    assert not page.locator("#lecture-sketch2photo").is_visible()
    assert _body_px(page) < LARGE_PX
    assert "lecture=" not in page.url
    page.wait_for_timeout(300)
    assert not _cut_tabs(page), f"tab labels cut off: {_cut_tabs(page)}"
    # On again, then two other tabs.
    switch.click()
    _wait(lambda: _root_has_class(page), 5, "lecture mode to turn on")
    assert "lecture=1" in page.url
    assert page.locator("#lecture-sketch2photo").is_visible()
    assert len(queued) == before, f"the switch queued work: {queued[before:]}"
    page.wait_for_timeout(300)
    assert not _cut_tabs(page), f"tab labels cut off: {_cut_tabs(page)}"
    for label, key in (("Horse ↔ zebra", "horse2zebra"), ("GAN playground", "gan_playground")):
        page.get_by_role("tab", name=label).click()
        _check_panel(page, key)
    assert not external, f"requests left the machine: {external[:5]}"
    page.close()


def test_without_the_parameter_nothing_shows_or_loads(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    examples = []
    page.on("request", lambda r: examples.append(r.url) if ".webp" in r.url else None)
    page.goto(app_url)
    page.locator("#lecture-switch input").wait_for(timeout=90_000)
    page.locator("#sketch-canvas canvas.sk-paper").wait_for(timeout=90_000)
    page.wait_for_timeout(1500)
    assert not page.locator("#lecture-switch input").is_checked()
    assert not _root_has_class(page) and _body_px(page) < LARGE_PX
    assert page.locator("#lecture-sketch2photo").count() == 1  # in the page, hidden
    assert not page.locator("#lecture-sketch2photo").is_visible()
    assert not examples, f"hidden examples were loaded: {examples}"
    page.goto(app_url + "?lecture=nonsense")  # anything but 1/true/yes/on leaves it off
    page.locator("#lecture-switch input").wait_for(timeout=90_000)
    page.wait_for_timeout(1000)
    assert not page.locator("#lecture-switch input").is_checked() and not _root_has_class(page)
    page.close()
