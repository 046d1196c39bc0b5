/* The sketch tab's drawing canvas: pen sizes, eraser, undo, clear, examples, colour hints, and a
 * photo that follows the pen.
 *
 * This file is the js_on_load of a gr.HTML component (demos/sketch2photo.py reads it). Gradio runs
 * it once, right after the component's HTML (sketch_canvas.html) is in the page, with `element`
 * (the component's root element) and `server` (its server functions: server.translate). The
 * listeners are attached in that same task, so the canvas reacts from the moment it appears: the
 * first stroke is never lost.
 *
 * The loop: every change to the drawing bumps `version`. One request is in the works at a time;
 * while the pen moves, a request goes out at most every THROTTLE_MS. When an answer arrives it is
 * shown only if nothing newer is on screen, and if the drawing changed in the meantime the newest
 * drawing goes out at once. So a slow answer never piles up a backlog (there is nothing to pile:
 * each request carries the whole drawing), and Clear, which marks its own version as shown, makes
 * every older answer stale: an erased drawing's photo can never come back.
 *
 * Pen-up does not wait for a request in flight: the finished stroke goes out at once and replaces
 * it. Each request carries the page's random id ("canvas") and its version ("v"); the server stops
 * the older one at its next check (before each convolution) and answers {"superseded": true},
 * which the page ignores. Waiting for it instead cost half a round trip on average and a whole one
 * at worst, which on a 2-core machine put pen-up to photo past 150 ms. At most two requests are
 * ever open, and never more than one per pen-up.
 *
 * Colour (a hinted model only; the server says in each answer whether the shipped model takes hints,
 * and the colour row shows or hides by it): "auto" or a picked colour goes out as "colour"
 * ("#rrggbb" or null); the colour brush paints on a layer of its own (the second canvas, shown
 * semi-transparent over the paper, never drawn into the ink), sent at the same size as the drawing
 * as "hints" (a PNG, transparent where nothing was painted) when it holds paint. Picking a colour
 * is a change to the drawing like a stroke (same loop); undo and Clear cover both layers.
 *
 * window.__sketch records what happened, for tests/test_browser.py and
 * bench/sketch_browser_latency.py: requests sent and answered, pointer-up-to-photo latencies (ms),
 * the hashes of the model inputs shown, and the most requests ever in flight at once.
 */
/* global element, server */
(function sketchCanvas(root, server) {
  "use strict";

  const box = root.querySelector(".sk");
  const SIZE = Number(box.dataset.canvas) || 512; // canvas pixels (the paper)
  const SEND = Number(box.dataset.send) || 256; // the drawing is sent at this size (the model uses 128)
  const EMPTY = box.dataset.empty || "";
  const THROTTLE_MS = 80; // while the pen moves: at most one request per 80 ms (~12 photos/s)
  const RETRY_MS = 1000; // after a request that got no answer
  const UNDO_DEPTH = 20; // snapshots of 1 MB each
  const ERASER_MIN = 24;

  const canvas = root.querySelector(".sk-paper");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  /** An off-screen SEND x SEND canvas and its context, for what goes to the server. */
  function offscreen() {
    const c = document.createElement("canvas");
    c.width = c.height = SEND;
    const cx = c.getContext("2d", { willReadFrequently: true });
    cx.imageSmoothingQuality = "high";
    return [c, cx];
  }
  const [small, smallCtx] = offscreen();
  const photo = root.querySelector(".sk-photo");
  const seen = root.querySelector(".sk-seen");
  const status = root.querySelector(".sk-status");
  const fit = root.querySelector("input[data-fit]");
  const single = root.querySelector(".sk-single");
  const trio = root.querySelector(".sk-trio");
  const lossNote = root.querySelector(".sk-loss-note");
  const criticBox = root.querySelector("input[data-critic]");
  const criticFigure = root.querySelector(".sk-critic");
  const criticImg = root.querySelector(".sk-critic-img");
  const layer = root.querySelector(".sk-layer"); // the colour brush's paint
  const layerCtx = layer.getContext("2d", { willReadFrequently: true });
  const [smallLayer, smallLayerCtx] = offscreen();
  const colourRow = root.querySelector(".sk-colour");
  const colourNote = root.querySelector(".sk-colour-note");
  const custom = root.querySelector("input[data-colour-custom]");
  const customLabel = custom ? custom.closest(".sk-custom") : null;
  const dot = root.querySelector(".sk-dot");

  /** True when the person asked to see the discriminator's verdict (and the shipped model is shown). */
  function critic() {
    return Boolean(criticBox && criticBox.checked && loss() === "full");
  }

  /** The loss whose generator answers: "full" (the shipped model), "l1", "cgan" or "all". */
  function loss() {
    const checked = root.querySelector("input[name=sk-loss]:checked");
    return checked ? checked.value : "full";
  }

  function showMode() {
    const all = loss() === "all";
    single.hidden = all;
    trio.hidden = !all;
    lossNote.hidden = loss() === "full";
    criticFigure.hidden = !critic();
  }

  const stats = {
    sent: 0, // requests sent
    answered: 0, // answers with a result (a photo, "empty" or an error message)
    busy: 0, // "busy" answers (retried shortly)
    failed: 0, // no answer (network or HTTP error)
    dropped: 0, // answers that arrived after something newer was shown (or after Clear)
    shown: 0, // photos put on screen
    inFlight: 0,
    maxInFlight: 0, // requests open at once: 2 only while a pen-up's request replaces one in flight
    replaced: 0, // requests a pen-up sent while another was in flight
    superseded: 0, // answers "superseded": the server dropped the older request
    version: 0, // the drawing's version now (a copy of `version` below)
    shownVersion: 0, // the version whose result is on screen
    latencies: [], // ms from pointer-up (or an example click) to its photo on screen
    inputHashes: [], // the model input's hash of every photo shown
    shownAt: [], // performance.now() of every photo shown
    roundTrips: [], // ms from request to answer
    serverMs: [], // the server's own time per answer (decode, model, encode)
    hintsSent: 0, // requests that carried the colour brush's layer
    colourSent: 0, // requests that carried a colour
    hintsUsed: [], // the answer's hint pixels (at the model size) of every photo shown
  };
  window.__sketch = stats;
  const KEEP = 2000; // entries kept per list (a long session must not grow without end)
  function record(list, value) {
    list.push(value);
    if (list.length > KEEP) list.splice(0, list.length - KEEP);
  }

  let version = 0; // bumped by every change to the drawing (and to "auto-centre")
  let shownVersion = 0; // the version whose result (or blank paper) is on screen
  let sentVersion = -1; // the version last sent; -1 after a failure, so it is sent again
  let inFlight = 0; // requests sent and not answered yet (2 only while a pen-up replaces one)
  const CANVAS_ID = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
  let lastSend = -Infinity; // performance.now() of the last request
  let notBefore = 0; // no request before this time (after "busy" or a failure)
  let timer = 0;
  let waitingUp = null; // {t, version}: the last pointer-up, until its photo is shown

  // ---- the paper and the tools ----------------------------------------------------------------
  let penWidth = 8;
  let erasing = false;
  let brush = "ink"; // "ink" (the outline) or "colour" (paint on the colour layer)
  // "#rrggbb" picked for the object, or null: the model's own guess. It starts as the swatch the
  // server marks pressed (a plain outline left to the model alone comes out a pale, greyish ghost).
  let colour = root.querySelector('[data-colour][aria-pressed="true"]')?.dataset.colour || null;
  let paint = colour || "#c62828"; // the colour brush's colour: the last one picked
  const undo = []; // {ink, paint}: ImageData of the layers a change touched (null: untouched)

  function paper() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, SIZE, SIZE);
  }

  function unpaint() {
    layerCtx.clearRect(0, 0, SIZE, SIZE);
  }

  /** Before a change: keep the layers it may touch ("ink", "paint" or "both") for undo. */
  function snapshot(which) {
    undo.push({
      ink: which === "paint" ? null : ctx.getImageData(0, 0, SIZE, SIZE),
      paint: which === "ink" ? null : layerCtx.getImageData(0, 0, SIZE, SIZE),
    });
    if (undo.length > UNDO_DEPTH) undo.shift();
  }

  /** True when the colour controls are on (the shipped model takes hints). */
  function hintsOn() {
    return Boolean(colourRow) && !colourRow.hidden;
  }

  function changed(urgent) {
    version += 1;
    stats.version = version;
    kick(urgent);
  }

  function pointerUp() {
    waitingUp = { t: performance.now(), version };
    kick(true, true);
  }

  function segment(x0, y0, x1, y1) {
    const painting = brush === "colour" && hintsOn();
    const c = painting ? layerCtx : ctx;
    c.lineCap = "round";
    c.lineJoin = "round";
    c.lineWidth = erasing ? Math.max(ERASER_MIN, 3 * penWidth) : painting ? 2 * penWidth : penWidth;
    // The eraser rubs out the layer the brush is on: ink to white paper, paint to transparent.
    c.globalCompositeOperation = painting && erasing ? "destination-out" : "source-over";
    c.strokeStyle = painting ? paint : erasing ? "#fff" : "#000";
    c.beginPath();
    c.moveTo(x0, y0);
    c.lineTo(x1, y1);
    c.stroke();
    c.globalCompositeOperation = "source-over";
  }

  function point(e) {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * SIZE) / r.width, ((e.clientY - r.top) * SIZE) / r.height];
  }

  let stroke = null; // {id, x, y} while a pointer draws

  canvas.addEventListener("pointerdown", (e) => {
    if (stroke || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    snapshot(brush === "colour" && hintsOn() ? "paint" : "ink");
    const [x, y] = point(e);
    stroke = { id: e.pointerId, x, y };
    segment(x, y, x, y); // a dot, for a click without a move
    changed(false);
  });

  canvas.addEventListener("pointermove", (e) => {
    if (!stroke || e.pointerId !== stroke.id) return;
    // Coalesced events: every point the pen passed since the last frame, not just the last one.
    const events = (e.getCoalescedEvents && e.getCoalescedEvents()) || [];
    for (const ev of events.length ? events : [e]) {
      const [x, y] = point(ev);
      segment(stroke.x, stroke.y, x, y);
      stroke.x = x;
      stroke.y = y;
    }
    changed(false);
  });

  function endStroke(e) {
    if (!stroke || e.pointerId !== stroke.id) return;
    stroke = null;
    pointerUp();
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("lostpointercapture", endStroke);
  canvas.addEventListener("contextmenu", (e) => e.preventDefault()); // a long press on a tablet

  function press(button) {
    root.querySelectorAll("[data-pen], [data-eraser]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }

  root.querySelectorAll("[data-pen]").forEach((b) =>
    b.addEventListener("click", () => {
      penWidth = Number(b.dataset.pen) || 8;
      erasing = false;
      press(b);
    }),
  );
  root.querySelector("[data-eraser]").addEventListener("click", (e) => {
    erasing = true;
    press(e.currentTarget);
  });

  function undoOne() {
    const last = undo.pop();
    if (!last) return;
    if (last.ink) ctx.putImageData(last.ink, 0, 0);
    if (last.paint) layerCtx.putImageData(last.paint, 0, 0);
    changed(true);
    pointerUp();
  }
  root.querySelector("[data-undo]").addEventListener("click", undoOne);
  root.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && (e.key || "").toLowerCase() === "z") {
      e.preventDefault();
      undoOne();
    }
  });

  root.querySelector("[data-clear]").addEventListener("click", () => {
    snapshot("both"); // Clear can be undone
    paper();
    unpaint();
    version += 1;
    stats.version = version;
    shownVersion = version; // blank paper is what is shown now: every older answer is stale
    sentVersion = version;
    waitingUp = null;
    showBlank();
  });

  fit.addEventListener("change", () => {
    changed(true);
    pointerUp();
  });

  if (criticBox) {
    criticBox.addEventListener("change", () => {
      showMode();
      changed(true);
      pointerUp();
    });
  }

  root.querySelectorAll("input[name=sk-loss]").forEach((input) =>
    input.addEventListener("change", () => {
      showMode();
      changed(true);
      pointerUp();
    }),
  );

  // ---- colour ---------------------------------------------------------------------------------
  function pick(value, button) {
    colour = value;
    if (value) paint = value;
    if (dot) dot.style.backgroundColor = paint;
    root.querySelectorAll("[data-colour]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    if (customLabel) customLabel.classList.toggle("sk-picked", !button && Boolean(value));
    changed(true);
    pointerUp();
  }

  root.querySelectorAll("[data-colour]").forEach((b) =>
    b.addEventListener("click", () => pick(b.dataset.colour || null, b)),
  );
  if (custom) {
    // "input" fires while the picker's dialog is open: the photo follows the colour as it moves.
    custom.addEventListener("input", () => pick(custom.value.toLowerCase(), null));
  }

  function setBrush(value) {
    brush = value === "colour" ? "colour" : "ink";
    root.querySelectorAll("[data-brush]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.brush === brush)));
  }
  root.querySelectorAll("[data-brush]").forEach((b) => b.addEventListener("click", () => setBrush(b.dataset.brush)));
  if (dot) dot.style.backgroundColor = paint;

  /** The server says whether the shipped model takes colour hints: show or hide the controls. */
  function hintedModel(yes) {
    if (!colourRow || hintsOn() === yes) return;
    colourRow.hidden = !yes;
    if (colourNote) colourNote.hidden = yes;
    layer.hidden = !yes;
    if (!yes) setBrush("ink");
  }

  root.querySelectorAll("[data-example]").forEach((b) =>
    b.addEventListener("click", async () => {
      const img = b.querySelector("img");
      try {
        await img.decode();
      } catch (err) {
        return; // cannot happen with the embedded PNGs; nothing to draw
      }
      snapshot("both");
      paper();
      unpaint(); // another drawing: the old paint would land anywhere on it
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(img, 0, 0, SIZE, SIZE);
      changed(true);
      pointerUp();
    }),
  );

  // ---- requests -------------------------------------------------------------------------------
  /** Send the newest drawing if nothing is in flight (or, for a pen-up, `replace`, one request is:
   * the new one replaces it), else leave it to the answer's handler. */
  function kick(urgent, replace = false) {
    clearTimeout(timer);
    timer = 0;
    if (version === sentVersion) return;
    const room = replace && !stroke ? 2 : 1; // a pen-up may replace the one request in flight
    if (inFlight >= room) return; // the answer's handler sends what is newer
    const now = performance.now();
    const wait = Math.max(urgent ? 0 : lastSend + THROTTLE_MS - now, notBefore - now);
    if (wait > 0) {
      timer = setTimeout(() => kick(true, replace), wait);
      return;
    }
    send();
  }

  /** The colour layer at the size sent, as a PNG data URL, or null when it holds no paint. */
  function paintLayer() {
    if (!hintsOn()) return null;
    smallLayerCtx.clearRect(0, 0, SEND, SEND);
    smallLayerCtx.drawImage(layer, 0, 0, SEND, SEND);
    const data = smallLayerCtx.getImageData(0, 0, SEND, SEND).data;
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] > 0) return smallLayer.toDataURL("image/png");
    }
    return null;
  }

  /** True when the drawing (at the size sent) has no dark pixel: then no request is needed. */
  function blank(data) {
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] < 128 || data[i + 1] < 128 || data[i + 2] < 128) return false;
    }
    return true;
  }

  async function send() {
    const v = version;
    sentVersion = v;
    smallCtx.drawImage(canvas, 0, 0, SEND, SEND);
    if (blank(smallCtx.getImageData(0, 0, SEND, SEND).data)) {
      if (v > shownVersion) {
        shownVersion = v;
        showBlank();
      }
      if (waitingUp && v >= waitingUp.version) waitingUp = null; // no photo to time
      return;
    }
    const image = small.toDataURL("image/png");
    const request = { image, fit: fit.checked, loss: loss(), critic: critic(), canvas: CANVAS_ID, v };
    if (hintsOn()) {
      request.colour = colour;
      const hints = paintLayer();
      if (hints) request.hints = hints;
      stats.hintsSent += hints ? 1 : 0;
      stats.colourSent += colour ? 1 : 0;
    }
    const sentAt = performance.now();
    lastSend = sentAt;
    stats.replaced += inFlight > 0 ? 1 : 0;
    inFlight += 1;
    stats.sent += 1;
    stats.inFlight = inFlight;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    let answer;
    try {
      answer = await server.translate(request);
    } catch (err) {
      answer = undefined; // Gradio's client returns undefined on HTTP errors; this is the rest
    }
    inFlight -= 1;
    stats.inFlight = inFlight;
    const roundTrip = performance.now() - sentAt;
    const newest = v === sentVersion; // else a pen-up's request replaced this one
    if (answer && answer.superseded) {
      stats.superseded += 1; // the newer request that replaced it is on its way
      return;
    }
    record(stats.roundTrips, roundTrip);
    // A failed or busy request that a pen-up's request replaced needs no retry: the newer one retries itself.
    if (!answer || typeof answer !== "object") {
      stats.failed += 1;
      if (newest) {
        sentVersion = -1;
        notBefore = performance.now() + RETRY_MS;
        if (v > shownVersion) say("Note: No answer from the server; trying again…");
      }
    } else if (answer.busy) {
      stats.busy += 1;
      if (newest) {
        sentVersion = -1;
        notBefore = performance.now() + (Number(answer.retry_ms) || 200);
        if (v > shownVersion && answer.status) say(answer.status);
      }
    } else {
      stats.answered += 1;
      show(answer, v, roundTrip);
    }
    kick(!stroke); // the drawing changed meanwhile: send the newest (at once, unless the pen still moves)
  }

  // ---- showing answers ------------------------------------------------------------------------
  function say(text) {
    status.textContent = text;
  }

  function showBlank() {
    stats.shownVersion = shownVersion;
    photo.hidden = true;
    photo.removeAttribute("src");
    delete photo.dataset.inputHash;
    seen.hidden = true;
    seen.removeAttribute("src");
    criticImg.hidden = true;
    criticImg.removeAttribute("src");
    trio.querySelectorAll("img").forEach((img) => {
      img.hidden = true;
      img.removeAttribute("src");
    });
    say(EMPTY);
  }

  function show(answer, v, roundTrip) {
    if (v <= shownVersion) {
      stats.dropped += 1;
      return;
    }
    if (typeof answer.hinted === "boolean") hintedModel(answer.hinted);
    if (!answer.ok || !answer.photo) {
      // Blank paper ("empty"), an untrained model or a refused drawing: a message, no photo.
      shownVersion = v;
      showBlank();
      say(answer.status || answer.error || EMPTY);
      if (waitingUp && v >= waitingUp.version) waitingUp = null; // no photo to time
      return;
    }
    const next = new Image();
    next.src = answer.photo;
    next.decode().then(
      () => {
        if (v <= shownVersion) {
          stats.dropped += 1;
          return;
        }
        shownVersion = v;
        stats.shownVersion = v;
        photo.src = answer.photo;
        photo.dataset.inputHash = answer.input_hash;
        photo.dataset.version = String(v);
        photo.dataset.hintsUsed = String(Number(answer.hints_used) || 0);
        photo.hidden = false;
        seen.src = answer.seen;
        seen.hidden = false;
        if (answer.critic) {
          criticImg.src = answer.critic;
          criticImg.hidden = false;
        } else {
          criticImg.hidden = true;
          criticImg.removeAttribute("src");
        }
        for (const item of answer.photos || []) {
          const img = trio.querySelector(`img[data-trio="${item.loss}"]`);
          if (!img) continue;
          img.src = item.photo;
          img.hidden = false;
        }
        say(`${answer.status} · ${Math.round(roundTrip)} ms round trip`);
        stats.shown += 1;
        record(stats.inputHashes, answer.input_hash);
        record(stats.shownAt, performance.now());
        record(stats.serverMs, Number(answer.server_ms) || 0);
        record(stats.hintsUsed, Number(answer.hints_used) || 0);
        const up = waitingUp;
        if (up && v >= up.version) {
          waitingUp = null;
          requestAnimationFrame(() => record(stats.latencies, performance.now() - up.t)); // the next paint
        }
      },
      () => {
        stats.failed += 1; // an undecodable photo: cannot come from our server
      },
    );
  }

  paper();
  layer.hidden = !hintsOn();
  showMode();
})(element, server);
