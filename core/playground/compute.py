"""The one thread every playground run computes on, with torch's intra-op parallelism off there.

Why a thread of its own: these nets are tiny (64 units), and with the app's 2 intra-op threads
every little op forks and joins an OpenMP team; on a busy 2-core machine the spinning team member
waits for a core, and a step took 10-30x longer than on one thread (measured: 18 against 208 steps/s
with another training on the machine; bench/gan_playground.py). The thread count is per thread in
OpenMP, so this thread runs with 1 while the rest of the app keeps its 2. torch.set_num_threads
also stores the number that threads started later copy, so the previous number is put back from
the calling thread at once. Create the ComputeThread before the server starts other threads (the
tab does, when it is built).

Running every run here also bounds the playground to one core at most, whatever the number of
visitors; core.playground.manager bounds it further (a share of that core per second).
"""
from __future__ import annotations

import concurrent.futures
import threading
from typing import Any, Callable

import torch


class ComputeThread:
    """call(fn, *args) runs fn on one dedicated thread (one torch intra-op thread) and returns its
    result (or raises its exception) in the caller."""

    def __init__(self, name: str = "playground"):
        before = torch.get_num_threads()
        self.ident: int | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self._pool.submit(self._single_threaded).result()  # starts the thread now
        torch.set_num_threads(before)  # what threads started from now on copy (see the module doc)

    def _single_threaded(self) -> None:
        torch.get_num_threads()  # initialise this thread's count first, or its first op resets it
        torch.set_num_threads(1)
        self.ident = threading.get_ident()

    def call(self, fn: Callable[..., Any], *args) -> Any:
        if threading.get_ident() == self.ident:  # already on it (nested call)
            return fn(*args)
        return self._pool.submit(fn, *args).result()

    def threads(self) -> int:
        """The intra-op thread count on the compute thread (1)."""
        return self.call(torch.get_num_threads)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
