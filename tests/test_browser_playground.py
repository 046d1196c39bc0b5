"""A person in Chromium on the GAN playground: choose WGAN-GP, press Play and watch the coverage
readout reach 8/8 modes on the ring (at steps 460-520, 35-45 s on an idle machine); switch to the
collapse preset and see it stay low; a second tab gets its own run, which ends when that tab closes.
The run is seeded: what it has learnt by a step does not depend on how busy the machine is, so the
test judges steps, and its wall-clock limits only catch a playground that stalls (the suite runs two
tests at once). Screenshots go to runs/screenshots/ (the WGAN-GP one also to
docs/img/gan_playground.png). Needs no trained model."""
from __future__ import annotations

import re
import shutil
import time

import pytest

from tests.apprunner import ROOT
from tests.test_browser import ARGS, CHROMIUM, SHOTS, Path

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
              pytest.mark.browser, pytest.mark.slow]  # markers: pytest.ini
COVER_BY_STEP = 750  # WGAN-GP on the ring, seed 0, in the app (its VAE beside it): 8/8 seen first at steps 462-512 (the
# readout samples the steps at tick ends, and coverage can dip to 7 and back); tests/test_playground.py: 750
COVER_WITHIN_S = 180  # a stall, not a speed goal: the speed is bench/gan_playground.py's
COLLAPSE_WATCH_S = 180  # at most; the watch ends at COLLAPSE_UNTIL_STEP
COLLAPSE_FROM_STEP = 500  # the non-saturating preset on the ring, seed 0, covers 2 modes from here on
COLLAPSE_UNTIL_STEP = 650  # the readout shows it here; that it stays collapsed: tests/test_playground.py, the bench
COLLAPSE_MAX_MODES = 3  # (bench/gan_playground.py; tests/test_playground.py)
SHOT_AFTER_STEPS = 60  # the screenshot: a frame at 8/8 this many steps after the first (within 60 s, else the last)
DOC_SHOT = ROOT / "docs" / "img" / "gan_playground.png"
READOUT = re.compile(r"GAN: (\d+)/(\d+) modes covered.*?step ([\d,]+)")


def _readout(page) -> tuple[int, int, int] | None:
    """(modes covered, modes, step) from the readout, or None before the first frame of a run."""
    m = READOUT.search(page.locator("#pg-coverage").inner_text())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3).replace(",", ""))) if m else None


def _choose(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").first.click()
    page.get_by_role("option", name=option, exact=True).click()


def _status(page) -> str:
    return page.locator("#pg-status").inner_text()


def _wait_status(page, text: str, timeout: float = 30) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in (s := _status(page)):
            return s
        time.sleep(0.3)
    raise AssertionError(f"the status never said {text!r}; last: {_status(page)!r}")


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url)
    page.get_by_role("tab", name="GAN playground").click()
    page.locator("#pg-play").wait_for(state="visible", timeout=60_000)
    return page


def _live(page) -> int:
    """Runs live on the server, as the status says after Pause, Play."""
    page.locator("#pg-pause").click()
    _wait_status(page, "Paused")
    page.locator("#pg-play").click()
    m = re.search(r"(\d+) of \d+ playground runs live", _wait_status(page, "playground runs live"))
    return int(m.group(1))


def test_wgan_gp_covers_the_ring_the_collapse_preset_does_not_and_runs_end_with_their_tab(shared_app):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    url = shared_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = _open(browser, url)
        assert "Press" in page.locator("#pg-coverage").inner_text()  # the picture before anything runs

        # WGAN-GP: a new run with its settings in the controls; Play; all 8 modes within a minute.
        _choose(page, "pg-loss", "WGAN-GP (gradient penalty)")
        _wait_status(page, "WGAN-GP")
        assert page.locator("#pg-d-steps input[type=number]").input_value() == "3"
        page.locator("#pg-play").click()
        _wait_status(page, "Playing")
        t0, seen = time.time(), []
        while time.time() - t0 < COVER_WITHIN_S:
            seen.append(_readout(page))
            if seen[-1] and seen[-1][0] == 8:
                break
            time.sleep(0.5)
        took = time.time() - t0
        last = seen[-1]
        assert last and last[:2] == (8, 8), f"WGAN-GP did not cover 8/8 modes in {COVER_WITHIN_S} s: {last}"
        assert last[2] <= COVER_BY_STEP, f"WGAN-GP covered 8/8 modes only at step {last[2]}"
        print(f"WGAN-GP: 8/8 modes after {took:.0f} s, step {last[2]}")
        # The shot: a frame that shows all 8 too, some steps on (coverage may dip to 7 meanwhile).
        deadline = time.time() + 60
        while time.time() < deadline and not ((r := _readout(page)) and r[0] == 8 and r[2] >= last[2] + SHOT_AFTER_STEPS):
            time.sleep(0.2)
        page.locator("#pg-views").screenshot(path=str(SHOTS / "gan_playground_views.png"))
        page.screenshot(path=str(SHOTS / "gan_playground_wgan_gp.png"), full_page=True)
        DOC_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / "gan_playground_wgan_gp.png", DOC_SHOT)

        # The collapse preset, still playing: a new run that settles on a few modes.
        _choose(page, "pg-loss", "Non-saturating")
        _wait_status(page, "Non-saturating")
        t0, counts = time.time(), []
        while time.time() - t0 < COLLAPSE_WATCH_S:
            r = _readout(page)
            if r and r[2] >= COLLAPSE_FROM_STEP:
                counts.append(r[0])
            if r and r[2] >= COLLAPSE_UNTIL_STEP and len(counts) >= 5:
                break
            time.sleep(0.5)
        assert len(counts) >= 5, f"the collapse preset did not pass step {COLLAPSE_FROM_STEP} in time: {_readout(page)}"
        assert max(counts) <= COLLAPSE_MAX_MODES, f"modes covered from step {COLLAPSE_FROM_STEP} on: {counts}"
        print(f"Non-saturating: modes covered from step {COLLAPSE_FROM_STEP} to {_readout(page)[2]}: "
              f"{min(counts)}-{max(counts)}")
        page.screenshot(path=str(SHOTS / "gan_playground_collapse.png"), full_page=True)

        # A second tab gets a run of its own; closing it ends that run (Gradio's unload event).
        assert _live(page) == 1
        other = _open(browser, url)
        other.locator("#pg-play").click()
        _wait_status(other, "Playing")
        assert _live(page) == 2
        other.close()
        deadline = time.time() + 60
        while _live(page) != 1:
            assert time.time() < deadline, "the closed tab's run is still live after 60 s"
            time.sleep(2)
        assert not page.locator(".toast-body.error").count()
        browser.close()
