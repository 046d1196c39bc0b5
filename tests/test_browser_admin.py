"""The admin tab in a real browser: sign in, start a short run, watch it finish, promote."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from core.pipelines import sketch2photo
from core.registry import CHECKPOINTS
from tests.apprunner import running_app
from tests.test_browser import ARGS, CHROMIUM, SHOTS

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not sketch2photo.has_checkpoint(),
                                reason="needs /usr/bin/chromium and the shipped sketch2photo model")
pytestmark = [pytestmark, pytest.mark.browser, pytest.mark.shipped]  # markers: pytest.ini


def _wait_text(page, selector, text, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in page.locator(selector).inner_text():
            return
        time.sleep(0.5)
    raise AssertionError(f"{selector} never showed {text!r}: {page.locator(selector).inner_text()!r}")


def test_admin_flow_in_the_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    from core.data.synthetic import make_paired_folder

    data = make_paired_folder(tmp_path / "data" / "pairs", n=8, size=64, photo_left=True)
    shutil.copytree(CHECKPOINTS / "sketch2photo", tmp_path / "checkpoints" / "sketch2photo")
    env = {"LAB_ADMIN_PASSWORD": "pw", "LAB_RUNS_DIR": str(tmp_path / "runs"), "LAB_DATA_ROOTS": str(tmp_path / "data"),
           "LAB_CHECKPOINTS": str(tmp_path / "checkpoints")}
    with running_app(env=env) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(url)
        page.get_by_role("tab", name="Admin").click()
        page.locator("#admin-password input").fill("wrong")
        page.locator("#admin-sign-in").click()
        _wait_text(page, "#admin-message", "Wrong password")
        assert not page.locator("#admin-panel").is_visible()
        page.locator("#admin-password input").fill("pw")
        page.locator("#admin-sign-in").click()
        page.wait_for_selector("#admin-panel", state="visible", timeout=30_000)
        # The form shows the chosen model's own knobs (from its task's Params), and only those.
        assert page.get_by_label("lambda_L1", exact=True).is_visible()
        page.get_by_label("Model", exact=True).click()
        page.get_by_role("option", name="horse2zebra", exact=True).click()
        page.get_by_label("lambda_cycle", exact=True).wait_for(state="visible", timeout=10_000)
        assert not page.get_by_label("lambda_L1", exact=True).is_visible()
        page.get_by_label("Model", exact=True).click()
        page.get_by_role("option", name="sketch2photo", exact=True).click()
        page.get_by_label("lambda_L1", exact=True).wait_for(state="visible", timeout=10_000)
        page.get_by_label("Dataset folder (under the allowed roots)").click()
        page.get_by_role("option", name=str(data)).click()
        for label, value in [("steps", "4"), ("batch_size", "2")]:
            page.get_by_label(label, exact=True).fill(value)
        page.locator("#admin-start").click()
        _wait_text(page, "#admin-message", "Started")
        _wait_text(page, "#admin-status", "finished")  # the timer refreshes the live view
        assert page.locator("#admin-sample img").count() == 1
        page.locator("#admin-promote").click()
        _wait_text(page, "#admin-message", "Promoted")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "admin.png"), full_page=True)
        # A reload keeps the browser signed in and the live view comes back from the run's files.
        page.reload()
        page.get_by_role("tab", name="Admin").click()
        page.wait_for_selector("#admin-panel", state="visible", timeout=60_000)
        _wait_text(page, "#admin-status", "finished")
        page.locator("#admin-sign-out").click()
        page.wait_for_selector("#admin-panel", state="hidden", timeout=30_000)
        page.reload()  # signed out stays signed out
        page.get_by_role("tab", name="Admin").click()
        time.sleep(3)
        assert not page.locator("#admin-panel").is_visible()
        browser.close()
    assert "promoted from run" in (tmp_path / "checkpoints" / "sketch2photo" / "MODEL_CARD.md").read_text()
