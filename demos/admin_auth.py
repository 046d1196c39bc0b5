"""Server-side admin sign-in: a session table and a per-client sign-in throttle.

No Gradio here, so both are tested directly. The rules (docs/SECURITY.md):
- A sign-in creates a random 256-bit token; the server keeps only its SHA-256 in a table. Every
  admin action looks the token up there, so nothing a client can compute from public values
  (the page config, the BrowserState key, its session hash) gets in.
- A token dies on sign-out (everywhere it was copied: the table entry is gone), after
  `idle_s` without an admin request (each request renews it), and `max_age_s` after the sign-in
  at the latest.
- Wrong passwords are counted per client address: after `max_failures` within `window_s` that
  address is locked out for `lockout_s`. Refusals are immediate (no sleeping inside the
  server's workers), so a flood from one address never delays anybody else.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("genlab.admin")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass
class _Session:
    created: float
    last_seen: float


class AdminSessions:
    """The table of live admin sign-ins (at most `max_sessions`; the oldest is dropped first)."""

    def __init__(self, idle_s: float = 30 * 60, max_age_s: float = 12 * 3600, max_sessions: int = 32,
                 clock: Callable[[], float] = time.monotonic):
        self.idle_s, self.max_age_s, self.max_sessions, self.clock = idle_s, max_age_s, max_sessions, clock
        self._table: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self) -> str:
        """A new sign-in: returns its token (43 URL-safe characters)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._table[_digest(token)] = _Session(now, now)
            while len(self._table) > self.max_sessions:
                self._table.popitem(last=False)
        return token

    def check(self, token, renew: bool = True) -> bool:
        """True if `token` is a live sign-in; renews its idle timer unless `renew` is False."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return False
        key, now = _digest(token), self.clock()
        with self._lock:
            s = self._table.get(key)
            if s is None:
                return False
            if now - s.last_seen > self.idle_s or now - s.created > self.max_age_s:
                del self._table[key]
                return False
            if renew:
                s.last_seen = now
            return True

    def revoke(self, token) -> None:
        if isinstance(token, str):
            with self._lock:
                self._table.pop(_digest(token), None)

    def __len__(self) -> int:
        return len(self._table)


class SignInThrottle:
    """Counts wrong passwords per client address and locks an address out for a while."""

    def __init__(self, max_failures: int = 5, window_s: float = 15 * 60, lockout_s: float = 15 * 60,
                 max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window_s, self.lockout_s = max_failures, window_s, lockout_s
        self.max_clients, self.clock = max_clients, clock
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._locked: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds until `client` may try again (0 when it may now)."""
        with self._lock:
            until = self._locked.get(client, 0.0)
            left = until - self.clock()
            if left <= 0:
                self._locked.pop(client, None)
                return 0.0
            return left

    def failed(self, client: str) -> None:
        """Record a wrong password from `client` (logged; the password never is)."""
        now = self.clock()
        with self._lock:
            times = self._failures.pop(client, deque())
            times.append(now)
            while times and now - times[0] > self.window_s:
                times.popleft()
            self._failures[client] = times  # most recent last, for the eviction below
            while len(self._failures) > self.max_clients:  # bounded memory under a many-address flood
                self._failures.popitem(last=False)
            n = len(times)
            if n >= self.max_failures:
                self._locked[client] = now + self.lockout_s
                self._failures.pop(client, None)
        log.warning("admin sign-in failed from %s (%d in %.0f min)%s", client, n, self.window_s / 60,
                    "; locked out" if n >= self.max_failures else "")

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def password_matches(given, expected: str) -> bool:
    """Constant-time comparison; False for an unset password or a non-string."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))
