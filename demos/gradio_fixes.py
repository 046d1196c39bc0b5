"""Work-arounds for Gradio behaviour that breaks under classroom load or lets anyone exhaust the
server (applied by demos.server.prepare).

Gradio saves each output image into its cache under a folder named by a hash of the image's
bytes, and rewrites the file every time (Path.write_bytes: truncate, then write). When two
visitors get the same image (a class clicking the same example at once), one request truncates
the file while another is still sending it, and that browser receives 0 bytes
(`bench/load.py` hit it once in 200 requests). Writing to a temporary name and renaming it into
place keeps every reader on a complete file: a reader holds the old inode, later ones get the
new, identical file.
"""
from __future__ import annotations

import copy
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from gradio import component_meta, processing_utils, state_holder

GRADIO_SAVE = processing_utils.save_pil_to_cache  # Gradio's own, kept for the test that tells them apart
GRADIO_SESSION_INIT = state_holder.SessionState.__init__  # likewise


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """As Gradio's, but the file appears complete or not at all."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    _atomic_write(path, data)
    return str(path)


def atomic_cache_writes() -> None:
    """Make Gradio's image cache writes atomic (module attribute: every caller looks it up)."""
    processing_utils.save_pil_to_cache = save_pil_to_cache


@contextmanager
def no_type_stubs():
    """Define Component subclasses inside this block: Gradio otherwise writes a type-stub file
    (MODULE.pyi, for editors' hints) beside the module of every Component subclass each time the class
    is created, i.e. at every start of the app, into this repository."""
    write = component_meta.create_or_modify_pyi
    component_meta.create_or_modify_pyi = lambda *args, **kwargs: None
    try:
        yield
    finally:
        component_meta.create_or_modify_pyi = write


class _LazyConfigs(dict):
    """A session's copy of every component's config (Gradio's SessionState.config_values), each
    built the first time something reads it. Lookups, `in` and writes behave as on Gradio's eager
    dict; walking it (deep links: SessionState.components) builds the rest first and gives them in
    Gradio's order (as lists, not live views: Gradio only walks them)."""

    def __init__(self, blocks_config, ids: list[int]):
        super().__init__()
        self._blocks_config, self._ids, self._known = blocks_config, ids, set(ids)

    def _build(self, key: int) -> dict:
        return self._blocks_config.config_for_block(key, [], self._blocks_config.blocks[key])

    def __missing__(self, key):
        if key not in self._known:
            raise KeyError(key)
        value = self[key] = self._build(key)
        return value

    def __contains__(self, key) -> bool:
        return key in self._known or dict.__contains__(self, key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def _ordered(self) -> list:
        """Every key, built: the app's components in Gradio's order, then any added later."""
        for key in self._ids:
            if not dict.__contains__(self, key):
                dict.__setitem__(self, key, self._build(key))
        return self._ids + [k for k in dict.keys(self) if k not in self._known]

    def items(self):
        return [(k, dict.__getitem__(self, k)) for k in self._ordered()]

    def values(self):
        return [dict.__getitem__(self, k) for k in self._ordered()]

    def keys(self):
        return self._ordered()

    def __iter__(self):
        return iter(self._ordered())

    def __len__(self) -> int:
        return len(self._ordered())


def _lazy_session_init(self, blocks) -> None:
    """Gradio's SessionState.__init__ (gradio/state_holder.py) with config_values built lazily."""
    self.blocks_config = copy.copy(blocks.default_config)
    self.config_values = _LazyConfigs(self.blocks_config, [k for k in self.blocks_config.blocks if k in blocks.blocks])
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def lazy_session_configs() -> None:
    """Gradio gives every new session hash a copy of the config of every component in the app (for
    deep links, which this app does not offer) before it even looks at the request. For this app's
    ~390 components that is ~40 ms on the server's event loop (every visitor waits meanwhile) and
    ~0.66 MB kept per session; anyone can send a new session hash with each request, and Gradio keeps
    up to 10,000 sessions: 6.6 GB. Built on first use instead (a session normally reads a handful)."""
    state_holder.SessionState.__init__ = _lazy_session_init


def no_queue_analytics(queue) -> None:
    """Gradio's queue keeps a record of each of its last 10,000 events and, after every event, rebuilds
    a pandas table of all of them and groups it by function, for its /monitoring pages (which this
    app does not offer: demos.server.launch turns them off): work that grows with the events served,
    on the server's threads. A trivial event took 15.6 ms on a fresh server and 28.9 ms after 2,000
    others; an admin form's submission 52 ms and 127 ms after the hostile-input suite's 1,600 (py-spy:
    the table was two thirds of the event loop's time). The records stay (Gradio reads an event's own
    while it runs); the summary is never rebuilt."""
    for name in ("ANAYLTICS_CACHE_FREQUENCY", "events_recorded", "event_count_at_last_cache"):
        if not hasattr(queue, name):  # Gradio's own spelling; a Gradio that renamed it fails the test
            raise AttributeError(f"gradio's Queue has no {name}: no_queue_analytics needs updating")
    queue.ANAYLTICS_CACHE_FREQUENCY = 2**62  # events between two summaries


# Gradio's queue polls for work every 1 ms while idle (queueing.py, start_processing: sleep_when_free) and
# for progress every 10 ms: about 1,100 wake-ups a second, 8-9 % of a core on the server's event loop
# with nobody using the app (measured on the 2-core machines; docs/RESULTS.md, "Idle cost"). That loop
# also serves the sketch canvas, whose requests bypass the queue, so every stroke paid for it.
BUSY_POLL_S = 0.001  # Gradio's own, while events are queued or running, and for a while after
IDLE_POLL_S = 0.02  # the first event after a quiet spell starts at most this much later
IDLE_AFTER_S = 2.0
PROGRESS_POLL_S = 0.01  # Gradio's own, while an event runs
IDLE_PROGRESS_POLL_S = 0.1


class _CalmQueue:
    """Mixed into the app's Queue (type swapped in place): the two polling intervals Gradio reads on
    every turn of its loops become properties that are Gradio's own while there is work, and longer
    after IDLE_AFTER_S without any (a pushed event is seen at the next poll, at most IDLE_POLL_S
    later, and counts as work from then on). Assignments (Gradio's __init__ sets both) are ignored."""

    _lab_busy_at = 0.0

    def _lab_busy(self) -> bool:
        now = time.monotonic()
        if len(self) or any(job is not None for job in self.active_jobs):
            self._lab_busy_at = now
        return now - self._lab_busy_at < IDLE_AFTER_S

    @property
    def sleep_when_free(self) -> float:
        return BUSY_POLL_S if self._lab_busy() else IDLE_POLL_S

    @sleep_when_free.setter
    def sleep_when_free(self, value: float) -> None:
        pass

    @property
    def progress_update_sleep_when_free(self) -> float:
        return PROGRESS_POLL_S if any(job is not None for job in self.active_jobs) else IDLE_PROGRESS_POLL_S

    @progress_update_sleep_when_free.setter
    def progress_update_sleep_when_free(self, value: float) -> None:
        pass


def calm_idle_queue(queue) -> None:
    """Make `queue` (a gradio Queue, before it starts) poll slowly while idle (see _CalmQueue)."""
    for name in ("sleep_when_free", "progress_update_sleep_when_free", "active_jobs", "event_queue_per_concurrency_id"):
        if not hasattr(queue, name):  # a Gradio that renamed them fails the test
            raise AttributeError(f"gradio's Queue has no {name}: calm_idle_queue needs updating")
    if not isinstance(queue, _CalmQueue):
        queue.__class__ = type("CalmQueue", (_CalmQueue, type(queue)), {})
