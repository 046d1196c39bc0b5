// Gradio's status trackers (statustracker-*.js) count a pending event's elapsed time with a
// requestAnimationFrame loop. The page-level loader starts one while the app loads and is removed
// still "pending", so that loop never ends: 60 frames a second for as long as the page is open, with
// nothing on screen changing (about 8 % of a core in Chromium's renderer plus 2 % in its GPU process,
// on every idle page; and it competes with the sketch canvas's strokes). The trackers show tenths of
// a second, so their loops run here on a 100 ms timer instead, without asking for frames: a live
// timer still reads the same, and the orphaned loop costs ten tiny callbacks a second.
// Loaded in the page's <head> by demos/server.py (launch: head=...), before Gradio's own scripts.
(() => {
  const EVERY_MS = 100;
  const frame = window.requestAnimationFrame.bind(window);
  const cancelFrame = window.cancelAnimationFrame.bind(window);
  const timers = new Map();  // our ids (negative, so never a real frame's) -> setTimeout handles
  let next = -1;
  window.__labStatusTimers = { deferred: 0 };
  window.requestAnimationFrame = function (callback) {
    if (!(new Error().stack || "").includes("statustracker")) return frame(callback);
    window.__labStatusTimers.deferred += 1;
    const id = next--;
    timers.set(id, setTimeout(() => { timers.delete(id); callback(performance.now()); }, EVERY_MS));
    return id;
  };
  window.cancelAnimationFrame = function (id) {
    if (timers.has(id)) {
      clearTimeout(timers.get(id));
      timers.delete(id);
    } else {
      cancelFrame(id);
    }
  };
})();
