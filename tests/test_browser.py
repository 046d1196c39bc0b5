"""A person in a real browser (Debian's Chromium driven by Playwright) on the sketch tab's own canvas
(demos/assets/sketch_canvas.js): every stroke, from the first one drawn the moment the canvas
appears, changes the model's input and shows a photo; Clear stays clear even when an answer arrives
after it; an example draws itself into the canvas; eraser and undo change the input; a finger works;
a broken upload gets a clear message. Skips where Chromium or the shipped model is missing.

The page records what it did in `window.__sketch` (requests, answers, the model-input hash of every
photo shown); the photo <img> carries `data-input-hash` and `data-version` (the drawing's version
the photo is of), so a test waits for the photo of the drawing as it is now, not any photo."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from core.pipelines import sketch2photo
from tests.apprunner import CHROMIUM, COUNT_FRAMES, ROOT
from tests.apprunner import CHROMIUM_ARGS as ARGS

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not sketch2photo.has_checkpoint(),
                                reason="needs /usr/bin/chromium and the shipped sketch2photo model")
pytestmark = [pytestmark, pytest.mark.browser, pytest.mark.shipped]  # markers: pytest.ini
SHOTS = ROOT / "runs" / "screenshots"
CANVAS = "#sketch-canvas canvas.sk-paper"  # the paper (the colour layer is a canvas over it)
PHOTO = "#sketch-photo"
COMPONENT_SERVER = re.compile(r".*/component_server/?$")
VIEWPORT = {"width": 1400, "height": 1100}


@pytest.fixture(scope="module")
def app_url(shared_app):
    return shared_app


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_tab(browser, url: str, **context):
    """A fresh page on the app, returned as soon as the canvas is in it (no settling time)."""
    page = browser.new_context(viewport=VIEWPORT, **context).new_page()
    page.goto(url)
    page.wait_for_selector(CANVAS, timeout=90_000)
    return page


@pytest.fixture(scope="module")
def page(browser, app_url):
    page = open_tab(browser, app_url)
    yield page
    page.context.close()


# ---- drawing and reading the page -------------------------------------------------------------------

def _paper(page):
    """The canvas's on-screen box: (left, top, side)."""
    box = page.locator(CANVAS).bounding_box()
    return box["x"], box["y"], box["width"]


def stroke(page, points, steps: int = 4) -> None:
    """Press, move through `points` (fractions of the paper's side), release."""
    x0, y0, side = _paper(page)
    xy = [(x0 + x * side, y0 + y * side) for x, y in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for p in xy[1:]:
        page.mouse.move(*p, steps=steps)
    page.mouse.up()


def stats(page) -> dict:
    return page.evaluate("() => ({...window.__sketch, latencies: window.__sketch.latencies.slice()})")


def photo_state(page) -> dict:
    return page.evaluate("""() => { const img = document.querySelector('#sketch-photo');
        return {hidden: img.hidden, src: img.getAttribute('src'), hash: img.dataset.inputHash || null,
                version: Number(img.dataset.version || -1), width: img.naturalWidth}; }""")


def wait_photo_of_now(page, timeout: float = 30) -> dict:
    """The photo of the drawing as it is now (its version at least the drawing's version), on screen."""
    version = page.evaluate("window.__sketch.version")
    page.wait_for_function(
        """v => { const img = document.querySelector('#sketch-photo');
                  return !img.hidden && img.naturalWidth > 0 && Number(img.dataset.version) >= v; }""",
        arg=version, timeout=timeout * 1000)
    return photo_state(page)


def status(page) -> str:
    return page.locator("#sketch-status").inner_text()


def dark_pixels(page) -> int:
    """Canvas pixels darker than mid-grey."""
    return page.evaluate("""() => { const c = document.querySelector('#sketch-canvas canvas.sk-paper');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; }""")


def clear(page) -> None:
    page.locator("#sketch-clear").click()
    assert dark_pixels(page) == 0


def track_requests(page) -> dict:
    """Counts the page's component-server requests from the network side: how many, and the most
    ever in flight at once."""
    seen = {"now": 0, "max": 0, "total": 0}

    def started(request):
        if COMPONENT_SERVER.match(request.url):
            seen["now"] += 1
            seen["total"] += 1
            seen["max"] = max(seen["max"], seen["now"])

    def ended(request):
        if COMPONENT_SERVER.match(request.url):
            seen["now"] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    return seen


# ---- the tests ---------------------------------------------------------------------------------------

def test_every_stroke_from_the_first_changes_the_input_and_shows_a_photo(browser, app_url):
    """20 strokes in different places, the first the moment the canvas appears (no waiting: the
    Sketchpad this replaced ignored it). Each one's photo must come with a new model input."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_tab(browser, app_url)
    try:
        net = track_requests(page)
        hashes = []
        for i in range(20):
            x, y = 0.08 + 0.18 * (i % 5), 0.1 + 0.22 * (i // 5)
            stroke(page, [(x, y), (x + 0.08, y + 0.03), (x + 0.12, y + 0.1)])
            shown = wait_photo_of_now(page, timeout=60 if i == 0 else 30)
            assert shown["hash"] and shown["hash"] not in hashes, f"stroke {i}: the model input did not change"
            assert shown["width"] > 0 and shown["src"].startswith("data:image/jpeg")
            hashes.append(shown["hash"])
        s = stats(page)
        # One request in flight, or two while a pen-up's request replaces it (the server drops the older).
        assert s["maxInFlight"] <= 2 and net["max"] <= 2, f"too many requests in flight: {s}, {net}"
        assert s["maxInFlight"] == 1 or s["replaced"] > 0
        assert s["failed"] == 0 and s["answered"] >= 20 and net["total"] == s["sent"]
        assert s["sent"] == s["answered"] + s["busy"] + s["superseded"] and s["superseded"] <= s["replaced"]
        assert "ms model" in status(page)
        page.screenshot(path=str(SHOTS / "sketch_drawn.png"))
    finally:
        page.context.close()


def test_an_idle_page_asks_for_few_frames(browser, app_url):
    """Nobody drawing: Gradio's status-timer loop (orphaned at page load) asked for 60 frames a second,
    ~10 % of a core in Chromium (demos/assets/status_timers.js runs it on a 100 ms timer instead).
    Counted by a script that runs before the page's own."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    try:
        page.add_init_script(COUNT_FRAMES)
        page.goto(app_url)
        page.wait_for_selector(CANVAS, timeout=90_000)
        rates = []  # frames a second in 3 s windows, until one is quiet (the load's transitions end)
        while len(rates) < 10 and (not rates or rates[-1] >= 2):
            before = page.evaluate("window.__frames")
            page.wait_for_timeout(3000)
            rates.append((page.evaluate("window.__frames") - before) / 3)
        assert rates[-1] < 2, f"an idle page keeps asking for frames (a second, in 3 s windows): {rates}"
    finally:
        page.context.close()


FAKE_TRACKER = """
window.ticks = [];
const loop = () => requestAnimationFrame((t) => { window.ticks.push(t); if (window.ticks.length < 8) loop(); });
loop();
window.cancelledRan = false;
cancelAnimationFrame(requestAnimationFrame(() => { window.cancelledRan = true; }));
"""


def test_a_status_timer_loop_still_runs_at_ten_per_second_and_other_frames_are_untouched(browser):
    """status_timers.js on its own: a loop started from a statustracker-*.js script keeps running, a
    callback every ~100 ms with a rising time, and cancelling works; other code's frames are real."""
    from demos.server import EARLY_SCRIPTS

    page = browser.new_context().new_page()
    try:
        page.route("http://lab.test/", lambda r: r.fulfill(content_type="text/html", body=(
            b"<!doctype html><html><head>" + EARLY_SCRIPTS +
            b'<script src="/statustracker-test.js"></script></head><body></body></html>')))
        page.route("http://lab.test/statustracker-test.js",
                   lambda r: r.fulfill(content_type="text/javascript", body=FAKE_TRACKER))
        page.goto("http://lab.test/")
        page.wait_for_function("window.ticks.length >= 8", timeout=5000)
        ticks = page.evaluate("window.ticks")
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert all(80 <= g <= 400 for g in gaps), gaps
        assert page.evaluate("window.__labStatusTimers.deferred") == 9  # the loop's 8, the cancelled one
        other = page.evaluate("new Promise((done) => requestAnimationFrame((t) => done(t)))")  # a real frame
        assert other > 0 and page.evaluate("window.__labStatusTimers.deferred") == 9
        page.wait_for_timeout(300)
        assert page.evaluate("window.cancelledRan") is False
    finally:
        page.context.close()


def test_clear_empties_the_photo_and_a_late_answer_does_not_bring_it_back(page):
    clear(page)
    stroke(page, [(0.1, 0.6), (0.5, 0.7), (0.9, 0.62), (0.85, 0.35)])
    wait_photo_of_now(page)
    clear(page)
    assert photo_state(page)["hidden"] and "Draw a shoe" in status(page)
    # An answer that arrives after Clear: hold the request on its way out, clear, then let it go.
    held = []
    page.route(COMPONENT_SERVER, lambda route: held.append(route))
    try:
        before = stats(page)
        stroke(page, [(0.2, 0.6), (0.8, 0.62), (0.8, 0.3)])
        deadline = time.time() + 10
        while not held and time.time() < deadline:
            page.wait_for_timeout(50)  # lets Playwright deliver the route event
        assert held, "the stroke sent no request"
        clear(page)
        for route in held:
            route.continue_()
        page.wait_for_function("n => window.__sketch.answered > n", arg=before["answered"], timeout=30_000)
    finally:
        page.unroute(COMPONENT_SERVER)
    time.sleep(0.5)  # let anything that would show the late photo do so
    after = stats(page)
    assert after["dropped"] > before["dropped"], "the late answer was not even seen"
    assert photo_state(page)["hidden"] and "Draw a shoe" in status(page)
    assert dark_pixels(page) == 0
    # Impatient hands, no tricks: scribble and clear at once, a few times.
    for _ in range(3):
        stroke(page, [(0.2, 0.6), (0.8, 0.62), (0.8, 0.3)])
        stroke(page, [(0.3, 0.5), (0.7, 0.45)])
        clear(page)
        time.sleep(1.0)  # far longer than a translation here (~30 ms), so a stale photo would show
        assert photo_state(page)["hidden"] and "Draw a shoe" in status(page)


def test_an_example_draws_itself_into_the_canvas_and_translates(page):
    clear(page)
    t0 = time.time()
    page.locator("#sketch-examples [data-example]").first.click()
    shown = wait_photo_of_now(page, timeout=10)
    assert time.time() - t0 < 10
    assert dark_pixels(page) > 1000, "the example was not drawn into the canvas"
    assert shown["hash"] and not shown["hidden"]
    assert page.locator("#sketch-canvas .eta-bar, #sketch-canvas .wrap.pending").count() == 0  # no spinner
    # The example is a drawing like any other: a stroke on it changes the input.
    stroke(page, [(0.45, 0.5), (0.55, 0.52)])
    assert wait_photo_of_now(page)["hash"] != shown["hash"]
    page.screenshot(path=str(SHOTS / "sketch_example.png"))


def test_eraser_and_undo_change_the_model_input(page):
    clear(page)
    stroke(page, [(0.1, 0.3), (0.9, 0.3)])
    one = wait_photo_of_now(page)["hash"]
    stroke(page, [(0.1, 0.6), (0.9, 0.6)])
    two = wait_photo_of_now(page)["hash"]
    ink = dark_pixels(page)
    page.locator("#sketch-canvas [data-eraser]").click()
    stroke(page, [(0.3, 0.6), (0.7, 0.6)])  # rub out the middle of the lower line
    erased = wait_photo_of_now(page)["hash"]
    assert dark_pixels(page) < ink and erased not in (one, two)
    page.locator("#sketch-canvas [data-undo]").click()  # the eraser stroke goes: back to two lines
    assert wait_photo_of_now(page)["hash"] == two and dark_pixels(page) == ink
    page.locator("#sketch-canvas [data-undo]").click()  # and the lower line
    assert wait_photo_of_now(page)["hash"] == one
    page.locator("#sketch-canvas [data-pen='8']").click()
    clear(page)


def test_a_finger_draws_too(browser, app_url):
    """Touch goes through the same pointer events: a tap leaves a dot, a swipe draws (and the page
    does not scroll instead: touch-action none)."""
    page = open_tab(browser, app_url, has_touch=True)
    try:
        x0, y0, side = _paper(page)
        page.touchscreen.tap(x0 + side * 0.5, y0 + side * 0.5)
        shown = wait_photo_of_now(page, timeout=60)
        assert shown["hash"] and dark_pixels(page) > 0
    finally:
        page.context.close()


def test_broken_upload_gets_a_clear_message(page, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    page.get_by_text("Or upload an edge map / photo").click()
    page.locator("#sketch-upload input[type=file]").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('#sketch-upload-status')?.innerText.includes('corrupt')",
                           timeout=60_000)
    assert "Traceback" not in page.content()
    assert "could not read the image" in page.locator("#sketch-upload-status").inner_text()


# ---- what the drawings become ------------------------------------------------------------------------

def _photo_pixels(page, selector: str = PHOTO):
    """The photo shown (its data URL decoded here) as a float tensor [1, 3, H, W] in [0, 1]."""
    import base64
    import io

    import numpy as np
    import torch
    from PIL import Image

    src = page.locator(selector).get_attribute("src")
    im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255.0


SIMPLE_DRAWINGS = ("sneaker", "boot", "handbag", "high heel")


def test_simple_drawings_become_solid_coloured_objects(page):
    """The issue's check: a sneaker outline and three other simple drawings give solid, coloured
    objects, not pale ghosts (screenshots go to runs/screenshots for docs/img), with the colour the
    tab starts with (a swatch: a plain outline left to the model alone comes out pale). Inside each
    drawn outline (in the photo's frame, off the strokes) at least 80 % of the photo is not pale and
    its mean chroma is at least 20 (0-255) (core.metrics.pixels.interior_fill). That asks for more
    colour than the data has: of the 300 val photos only 53 % fill their own edge map's outline that
    solidly and 55 % reach that chroma (white, grey and black shoes and bags are common). The
    unhinted v1 filled the sneaker 47 % and gave the high heel chroma 11 (measured then on the
    canvas's frame); the hinted model with the brown swatch fills all four fully (chroma 88-109)."""
    if not sketch2photo.takes_hints():
        pytest.skip("the shipped sketch2photo takes no colour hints: its plain outlines come out pale")
    from core.metrics.pixels import interior_fill

    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in SIMPLE_DRAWINGS:
        clear(page)
        page.locator(f'#sketch-examples [data-example="{name}"]').click()
        wait_photo_of_now(page, timeout=10)
        photo = _photo_pixels(page)
        # The outline's inside in the photo's own frame (auto-centre moves and scales the drawing).
        inside = _inside_the_outline(page)[None]
        filled, chroma = (float(v[0]) for v in interior_fill(photo, inside))
        page.locator("#sketch-canvas .sk").screenshot(path=str(SHOTS / f"sketch_{name.replace(' ', '_')}.png"))
        assert filled >= 0.8, f"{name}: only {filled:.0%} of the outline is filled (a pale ghost)"
        assert chroma >= 20, f"{name}: the object is grey (mean chroma {chroma:.0f})"


@pytest.mark.skipif(not all(sketch2photo.has_checkpoint(n) for n in ("sketch2photo_l1", "sketch2photo_cgan")),
                    reason="needs the shipped ablations")
def test_the_loss_switch_shows_the_same_drawing_through_three_generators(page):
    clear(page)
    page.locator('#sketch-examples [data-example="sneaker"]').click()
    full = wait_photo_of_now(page)
    page.locator('#sketch-loss input[value="all"]').check()
    page.wait_for_function("() => [...document.querySelectorAll('#sketch-trio img')].every(i => !i.hidden && i.naturalWidth > 0)",
                           timeout=10_000)
    assert page.locator("#sketch-trio").is_visible() and not page.locator(".sk-single").is_visible()
    assert "3 models" in status(page) and photo_state(page)["hash"] == full["hash"]  # same drawing, same input
    srcs = [page.locator(f'#sketch-trio img[data-trio="{k}"]').get_attribute("src") for k in ("l1", "cgan", "full")]
    assert len(set(srcs)) == 3
    page.locator("#sketch-canvas .sk").screenshot(path=str(SHOTS / "sketch_three_losses.png"))
    # A stroke updates all three.
    stroke(page, [(0.3, 0.3), (0.5, 0.35)])
    page.wait_for_function("old => document.querySelector('#sketch-trio img[data-trio=\"l1\"]').src !== old",
                           arg=srcs[0], timeout=10_000)
    page.locator('#sketch-loss input[value="l1"]').check()
    wait_photo_of_now(page)
    assert "L1 only" in status(page) and page.locator(".sk-single").is_visible()
    page.locator('#sketch-loss input[value="full"]').check()


def test_the_discriminator_box_shows_its_verdict_over_the_photo_and_hides_it_again(page):
    """The PatchGAN's per-patch verdicts (issue 18): off by default; ticking the box re-sends the
    drawing and shows the photo under D's verdicts with a legend, and the status says how much of it
    looks real; unticking hides it."""
    if not sketch2photo.has_critic():
        pytest.skip("the shipped checkpoint kept no discriminator")
    clear(page)
    page.locator("#sketch-examples [data-example]").first.click()
    wait_photo_of_now(page, timeout=10)
    verdict = page.locator("#sketch-critic img")
    assert not page.locator("#sketch-critic").is_visible()
    page.locator("#sketch-critic-toggle input").check()
    page.wait_for_function("() => { const i = document.querySelector('#sketch-critic img');"
                           " return i && !i.hidden && i.naturalWidth > 0; }", timeout=15_000)
    assert page.locator("#sketch-critic").is_visible() and "of patches look real" in status(page)
    w, h = verdict.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert h > w, "the verdict has its legend strip under the photo"
    page.locator("#sketch-critic").screenshot(path=str(SHOTS / "sketch_critic.png"))
    stroke(page, [(0.45, 0.5), (0.55, 0.52)])  # a new drawing gets a new verdict
    wait_photo_of_now(page)
    assert verdict.is_visible()
    page.locator("#sketch-critic-toggle input").uncheck()
    page.wait_for_function("() => document.querySelector('#sketch-critic').hidden", timeout=10_000)
    wait_photo_of_now(page)
    assert "of patches look real" not in status(page)


# ---- colour hints (issue 19): swatches and the colour brush ------------------------------------------
# Only with a hinted sketch2photo shipped (or LAB_CHECKPOINTS pointing at one); with an unhinted one
# the controls are hidden and a note says why. Each test opens its own page: a colour left picked
# would change what the tests above see.

def _needs_hinted():
    if not sketch2photo.takes_hints():
        pytest.skip("the shipped sketch2photo takes no colour hints (issue 19's hinted model not shipped)")


SNEAKER_OUTLINE = [(0.08, 0.74), (0.10, 0.60), (0.30, 0.54), (0.50, 0.42), (0.66, 0.34), (0.80, 0.33),
                   (0.88, 0.40), (0.92, 0.56), (0.93, 0.76), (0.50, 0.79), (0.09, 0.78), (0.08, 0.74)]
SNEAKER_SOLE = [(0.10, 0.70), (0.92, 0.70)]
SNEAKER_LACES = [[(0.46, 0.47), (0.52, 0.55)], [(0.53, 0.42), (0.59, 0.50)], [(0.60, 0.38), (0.66, 0.46)]]


def draw_sneaker(page) -> dict:
    """The issue's drawing, by mouse: a closed outline, a sole line and three laces; its photo."""
    stroke(page, SNEAKER_OUTLINE, steps=6)
    stroke(page, SNEAKER_SOLE)
    for lace in SNEAKER_LACES:
        stroke(page, lace)
    return wait_photo_of_now(page, timeout=60)


def _inside_the_outline(page):
    """The drawn outline's inside, off its strokes (with a pixel to spare), from the model input
    shown ("what the model sees": the photo's own frame, whatever auto-centre did), at the photo's
    size: [H, W] bool."""
    import base64
    import io

    import numpy as np
    import torch
    from PIL import Image

    from core.data.sketches import outline_interior

    src = page.locator("#sketch-seen").get_attribute("src")
    seen = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L")
    strokes = torch.from_numpy(np.asarray(seen) < 128)[None]
    near = torch.nn.functional.max_pool2d(strokes[None].float(), 3, 1, 1)[0] > 0
    inside = (outline_interior(strokes) & ~near)[0]
    side = page.evaluate("() => document.querySelector('#sketch-photo').naturalWidth")
    return torch.nn.functional.interpolate(inside[None, None].float(), size=(side, side), mode="nearest")[0, 0] > 0


def _hints_used(page) -> int:
    return int(page.evaluate("() => Number(document.querySelector('#sketch-photo').dataset.hintsUsed || 0)"))


def test_the_red_swatch_turns_a_drawn_sneaker_red(browser, app_url):
    """The issue's case: the sneaker outline drawn with the mouse, coloured by the default swatch;
    "auto" gives the model's own (pale) guess; one click on the red swatch re-sends it at once and
    the inside of the outline turns clearly red (mean R over G and over B by 40 of 255); "auto"
    gives the model's own photo back. Fast clicks through every swatch keep at most two requests
    open (a click replaces the one in flight)."""
    _needs_hinted()
    page = open_tab(browser, app_url)
    try:
        assert page.locator("#sketch-colour").is_visible() and not page.locator("#sketch-colour-note").is_visible()
        from demos.sketch2photo import DEFAULT_SWATCH

        # A new page starts with the default swatch picked: the first drawing is already coloured.
        assert page.locator(f'#sketch-colour [title="{DEFAULT_SWATCH}"]').get_attribute("aria-pressed") == "true"
        first = draw_sneaker(page)
        assert _hints_used(page) > 0 and stats(page)["colourSent"] > 0
        page.locator("#sketch-canvas .sk").screenshot(path=str(SHOTS / "sketch_colour_default.png"))
        page.locator('#sketch-colour [data-colour=""]').click()  # "auto": the model's own guess
        auto = wait_photo_of_now(page, timeout=10)
        assert auto["hash"] == first["hash"] and _hints_used(page) == 0
        page.locator("#sketch-canvas .sk").screenshot(path=str(SHOTS / "sketch_colour_auto.png"))
        sent = stats(page)["sent"]
        page.locator('#sketch-colour [title="red"]').click()
        red = wait_photo_of_now(page, timeout=10)
        assert stats(page)["sent"] > sent and red["hash"] == auto["hash"]  # same drawing, new hints
        assert _hints_used(page) > 0 and "colour #c62828" in status(page)
        photo, inside = _photo_pixels(page)[0] * 255, _inside_the_outline(page)
        assert inside.float().mean() > 0.1, "the outline encloses nothing"
        r, g, b = (float(c[inside].mean()) for c in photo)
        page.locator("#sketch-canvas .sk").screenshot(path=str(SHOTS / "sketch_colour_red.png"))
        assert r > g + 40 and r > b + 40, f"not red inside the outline: mean RGB {r:.0f}, {g:.0f}, {b:.0f}"
        page.locator('#sketch-colour [data-colour=""]').click()
        wait_photo_of_now(page, timeout=10)
        assert _hints_used(page) == 0 and page.locator(PHOTO).get_attribute("src") == auto["src"]
        from demos.sketch2photo import SWATCHES

        for name, _ in SWATCHES:
            page.locator(f'#sketch-colour [title="{name}"]').click()
        wait_photo_of_now(page, timeout=10)
        s = stats(page)
        assert s["maxInFlight"] <= 2 and s["failed"] == 0 and s["colourSent"] > 0
        page.locator("#sketch-colour input[data-colour-custom]").fill("#2e7dff")  # the picker ("other")
        wait_photo_of_now(page, timeout=10)
        assert "colour #2e7dff" in status(page) and _hints_used(page) > 0
    finally:
        page.context.close()


def test_a_colour_brush_stroke_becomes_hints_and_stays_out_of_the_ink(browser, app_url):
    """brush: colour paints on its own layer (over the paper, not in it): the stroke goes out as the
    "hints" layer and comes back as hint pixels; undo takes the paint away, Clear empties both."""
    _needs_hinted()
    page = open_tab(browser, app_url)
    try:
        draw_sneaker(page)
        ink = dark_pixels(page)
        page.locator('#sketch-colour [title="blue"]').click()
        wait_photo_of_now(page, timeout=10)
        grid = _hints_used(page)
        page.locator('#sketch-colour [data-brush="colour"]').click()
        stroke(page, [(0.25, 0.66), (0.55, 0.62), (0.85, 0.6)])
        wait_photo_of_now(page, timeout=10)
        used = _hints_used(page)
        assert used > 0 and used != grid and "your colour strokes" in status(page)
        assert stats(page)["hintsSent"] > 0
        page.locator("#sketch-canvas .sk").screenshot(path=str(SHOTS / "sketch_colour_brush.png"))
        grey = page.evaluate("""() => { const c = document.querySelector('#sketch-canvas canvas.sk-paper');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) return false;
            return true; }""")
        assert grey and dark_pixels(page) == ink, "the colour went into the ink"
        painted = "() => { const c = document.querySelector('#sketch-canvas canvas.sk-layer'); const d = c.getContext('2d')" \
                  ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
        assert page.evaluate(painted) > 0
        page.locator("#sketch-canvas [data-undo]").click()  # the paint goes; the blue grid is back
        wait_photo_of_now(page, timeout=10)
        assert page.evaluate(painted) == 0 and _hints_used(page) == grid and dark_pixels(page) == ink
        stroke(page, [(0.3, 0.66), (0.7, 0.62)])
        wait_photo_of_now(page, timeout=10)
        clear(page)
        assert page.evaluate(painted) == 0
    finally:
        page.context.close()


def test_without_a_hinted_model_the_colour_controls_are_hidden_with_a_note(page):
    if sketch2photo.takes_hints():
        pytest.skip("the shipped sketch2photo takes colour hints")
    assert not page.locator("#sketch-colour").is_visible()
    assert "picks its own colours" in page.locator("#sketch-colour-note").inner_text()
