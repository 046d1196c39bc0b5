"""The runs of many visitors at once, on a bounded share of the CPU.

- One run per key (the tab uses the browser session), at most `max_runs` live at once; starting
  one more raises `Full` with a message fit for the person.
- A run ends when its key is dropped (the tab closes: demos call `drop` from Gradio's unload
  event) or after `idle_s` without any call for it (a paused or forgotten tab, a script), or
  pauses for good after MAX_STEPS steps (a tab left playing forever).
- CPU: every run computes on one ComputeThread (at most one core in all), and a tick gets a budget
  of `share * interval / n` CPU seconds, n = the runs ticking now: all runs together train on at
  most `share` of one core, however many there are, each a fair part of it. CPU time, not wall
  time, so that a busy machine slows the playground down no more than it slows everything else;
  a tick still ends after WALL_FACTOR times its budget in wall time, so that it never lasts long.
  On top, each run is held to its own rate (steps per second, at most `max_rate`), counted from
  the time since its last tick: calling tick (or Step) more often buys no steps, and a call with
  no step due costs no snapshot either. The tab's timer interval grows with the number of runs
  ticking (`interval`), so that the pictures drawn per second stay bounded too.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .compute import ComputeThread
from .data import PointData
from .session import PlaygroundRun, Snapshot
from .settings import Settings

MAX_RUNS = 8
IDLE_S = 180.0
MAX_RATE = 200  # steps per second and run, at most
MAX_STEPS = 20_000  # a run pauses for good after this many steps
CPU_SHARE = 0.4  # of one core, for the training steps of all runs together
TICK_S = 0.25  # the timer's interval with one or two runs ticking
ACTIVE_S = 3.0  # a run that ticked this recently counts as ticking
MAX_GAP_S = 0.5  # a tick after a longer pause earns no more steps than after this
MIN_CHUNK_S = 0.004  # even with many runs a tick gets this much CPU time (and at least one step)
WALL_FACTOR = 3.0
STEP_MAX, STEP_COOLDOWN_S = 10, 0.2  # what one press of Step may ask for; presses closer together get nothing


class Full(RuntimeError):
    """No room for another run: the message says so, politely."""


@dataclass
class Entry:
    run: PlaygroundRun
    last_seen: float
    last_tick: float = -1e9
    refilled: float = 0.0
    tokens: float = 0.0
    snapshot_s: float = 0.0  # how long the last snapshot took (taken out of the tick's budget)
    interval_sent: float = 0.0  # the timer interval this run's tab was last given
    last_step: float = -1e9  # the last press of Step
    busy: threading.Lock = field(default_factory=threading.Lock)  # guards the fields above
    work: threading.Lock = field(default_factory=threading.Lock)  # one chunk of the run at a time


class RunManager:
    def __init__(self, max_runs: int = MAX_RUNS, idle_s: float = IDLE_S, max_rate: float = MAX_RATE,
                 share: float = CPU_SHARE, tick_s: float = TICK_S, clock: Callable[[], float] = time.monotonic,
                 compute: ComputeThread | None = None):
        self.max_runs, self.idle_s, self.max_rate, self.share, self.tick_s = max_runs, idle_s, max_rate, share, tick_s
        self.clock, self.compute = clock, compute
        self._runs: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def _call(self, fn, *args):
        return self.compute.call(fn, *args) if self.compute is not None else fn(*args)

    # ---- bookkeeping -------------------------------------------------------------------------

    def expire(self) -> list[str]:
        """Drop runs idle for longer than idle_s; their keys."""
        now = self.clock()
        with self._lock:
            gone = [k for k, e in self._runs.items() if now - e.last_seen > self.idle_s]
            for k in gone:
                del self._runs[k]
        return gone

    def live(self) -> int:
        self.expire()
        return len(self._runs)

    def ticking(self) -> int:
        now = self.clock()
        with self._lock:
            return sum(1 for e in self._runs.values() if now - e.last_tick < ACTIVE_S)

    def interval(self) -> float:
        """The timer interval for the tabs: TICK_S with up to two runs ticking, then growing with
        their number (pictures drawn per second in all: at most 2 / TICK_S)."""
        return self.tick_s * max(1.0, self.ticking() / 2)

    def _entry(self, key: str) -> Entry | None:
        self.expire()
        with self._lock:
            entry = self._runs.get(key)
            if entry is not None:
                entry.last_seen = self.clock()
            return entry

    def has(self, key: str) -> bool:
        return self._entry(key) is not None

    def run(self, key: str) -> PlaygroundRun | None:
        entry = self._entry(key)
        return entry.run if entry else None

    def drop(self, key: str) -> bool:
        with self._lock:
            return self._runs.pop(key, None) is not None

    # ---- runs --------------------------------------------------------------------------------

    def _room(self, key: str) -> None:
        """Raise Full when key has no run and max_runs others are live (call under the lock)."""
        if key not in self._runs and len(self._runs) >= self.max_runs:
            raise Full(f"The playground is full: {self.max_runs} runs are live on this server, and each takes a "
                       "share of its CPU. Try again in a few minutes (a run ends when its tab closes, or "
                       f"{self.idle_s / 60:.0f} minutes after its last use).")

    def start(self, key: str, data: PointData, settings: Settings, seed: int = 0) -> Snapshot:
        """A new run for key (replacing its old one); Full when max_runs others are live."""
        self.expire()
        with self._lock:
            self._room(key)  # before building anything
        run = self._call(PlaygroundRun, data, settings, seed)
        snap = self._call(run.snapshot)
        now = self.clock()
        with self._lock:
            self._room(key)  # again: another key may have taken the last place meanwhile
            self._runs[key] = Entry(run, now, refilled=now)
        return snap

    def retune(self, key: str, lr_G: float, lr_D: float, d_steps: int) -> bool:
        """Change a live run's learning rates and D steps in place (checked by Settings); False
        when the key has no run."""
        entry = self._entry(key)
        if entry is None:
            return False
        settings = entry.run.settings.changed(lr_G=lr_G, lr_D=lr_D, d_steps=d_steps)
        self._call(entry.run.retune, settings)
        return True

    def set_data(self, key: str, data: PointData) -> bool:
        entry = self._entry(key)
        if entry is None:
            return False
        self._call(entry.run.set_data, data)
        return True

    def _budget_s(self, entry: Entry) -> float:
        n = max(1, self.ticking())
        return max(MIN_CHUNK_S, self.share * self.interval() / n - entry.snapshot_s)

    def timer_interval(self, key: str) -> float | None:
        """The interval key's timer should tick at, when it differs from the one last handed out
        (else None: nothing to change)."""
        interval = self.interval()
        with self._lock:
            entry = self._runs.get(key)
            if entry is None or abs(entry.interval_sent - interval) < 1e-9:
                return None
            entry.interval_sent = interval
        return interval

    def tick(self, key: str, rate: float) -> tuple[Snapshot | None, int] | None:
        """One timer tick of key's run: as many steps as its rate allows since the last tick and
        its share of the CPU budget lets it do, then a snapshot. -> (snapshot, steps), or None when
        key has no run. The snapshot is None when there is nothing new to show: no step was due
        (a script ticking faster than the timer gets neither steps nor pictures), another tick of
        the run is under way, or the run was replaced (a reset) meanwhile."""
        entry = self._entry(key)
        if entry is None:
            return None
        now = self.clock()
        rate = min(max(float(rate), 1.0), self.max_rate)
        with entry.busy:
            gap = min(max(now - entry.refilled, 0.0), MAX_GAP_S)
            entry.tokens = min(entry.tokens + rate * gap, rate * MAX_GAP_S)
            entry.refilled, entry.last_tick = now, now
            want = min(int(entry.tokens), MAX_STEPS - entry.run.step_count)
            entry.tokens -= want  # taken now: a tick that overlaps this one finds none
        return self._work(key, entry, want)

    def step(self, key: str, n: int) -> tuple[Snapshot | None, int] | None:
        """Up to n more steps (at most STEP_MAX, within MAX_STEPS and the tick budget) and a
        snapshot, like tick; presses closer together than STEP_COOLDOWN_S get nothing new."""
        entry = self._entry(key)
        if entry is None:
            return None
        now = self.clock()
        with entry.busy:
            ready = now - entry.last_step >= STEP_COOLDOWN_S
            entry.last_step = entry.last_tick = now
        want = max(0, min(int(n), STEP_MAX, MAX_STEPS - entry.run.step_count)) if ready else 0
        return self._work(key, entry, want)

    def _work(self, key: str, entry: Entry, want: int) -> tuple[Snapshot | None, int]:
        if want <= 0 or not entry.work.acquire(blocking=False):
            return None, 0
        try:
            done, snap, snap_s = self._call(_chunk, entry.run, want, self._budget_s(entry))
        finally:
            entry.work.release()
        with entry.busy:
            entry.tokens += want - done  # what the budget cut off stays owed (within the cap)
            entry.snapshot_s = snap_s
        with self._lock:
            current = self._runs.get(key) is entry
        return (snap if current else None), done

    def finished(self, key: str) -> bool:
        run = self.run(key)
        return run is not None and run.step_count >= MAX_STEPS

    def snapshot(self, key: str) -> Snapshot | None:
        entry = self._entry(key)
        return self._call(entry.run.snapshot) if entry else None


def _chunk(run: PlaygroundRun, want: int, budget_s: float) -> tuple[int, Snapshot, float]:
    """Up to `want` steps, stopping when budget_s of this thread's CPU time (or WALL_FACTOR times
    that in wall time) is spent, at least one step when any is wanted; then the snapshot.
    -> (steps done, snapshot, CPU seconds the snapshot took)."""
    c0, w0 = time.thread_time(), time.perf_counter()
    done = 0
    while done < want and (done == 0 or (time.thread_time() - c0 < budget_s
                                         and time.perf_counter() - w0 < WALL_FACTOR * budget_s)):
        run.step(1)
        done += 1
    c1 = time.thread_time()
    snap = run.snapshot()
    return done, snap, time.thread_time() - c1
