"""Results of the server, cached per distinct query and per version of the source's files.

A computation runs on a bounded pool of threads: concurrent identical requests wait on the one computation
already running (a shared future), a request waits at most `timeout` seconds, and when every worker and queue
place is taken a new computation is refused at once (`Saturated`, the server's 503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

#: seconds a client is told to wait before retrying a refused or slow request
RETRY_AFTER = 5


class Saturated(Exception):
    """Every worker is busy and the queue is full: the request is refused rather than left hanging."""


class TimedOut(Exception):
    """The computation took longer than the request time limit (it goes on and its result is cached)."""


def fingerprint(source: str) -> str:
    """A short hash of the source's file listing: every file's path, size and modification time (a folder is
    walked, Parquet part folders included). A connection URL has none: its results are cached for the server's
    life."""
    path = Path(source)
    if "://" in source or not path.exists():
        return "static"
    entries: list[str] = []
    if path.is_file():
        stat = path.stat()
        entries.append(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}")
    else:
        _listing(str(path), "", entries)
    return hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _listing(folder: str, prefix: str, entries: list[str]) -> None:
    try:
        found = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:  # removed while listed: the next request sees the new listing
        return
    for entry in found:
        try:
            if entry.is_dir():
                _listing(entry.path, prefix + entry.name + "/", entries)
            else:
                stat = entry.stat()
                entries.append(f"{prefix}{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}")
        except OSError:
            continue


class ResultCache:
    """Computed results keyed by (kind, query, source version), least recently used dropped beyond `max_entries`.

    `computations` counts the computations run per kind (the tests check that identical requests share one)."""

    def __init__(self, source: str, *, workers: int = 2, queue: int = 8, timeout: float = 120.0,
                 max_entries: int = 64, freshness: float = 0.5) -> None:
        self.source = source
        self.workers = workers
        self.queue = queue
        self.timeout = timeout
        self.max_entries = max_entries
        self.computations: Counter[str] = Counter()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cxbench-compute")
        self._lock = threading.Lock()
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, Future[Any]] = {}
        self._version = ""
        self._checked = -math.inf
        #: seconds a listing of the source is trusted: a file change is seen within this (not listed per request)
        self.freshness = freshness

    def version(self) -> str:
        """The source's current fingerprint; results of an older one are dropped."""
        now = time.monotonic()
        if now - self._checked < self.freshness:
            return self._version
        current = fingerprint(self.source)
        self._checked = now
        with self._lock:
            if current != self._version:
                self._version = current
                for key in [k for k in self._results if k[-1] != current]:
                    del self._results[key]
        return current

    async def get(self, kind: str, query: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached result of `compute` for `query`, computing it once however many requests ask at once."""
        key = (kind, query, self.version())
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
            future = self._pending.get(key)
            if future is None:
                if len(self._pending) >= self.workers + self.queue:
                    raise Saturated()
                future = self._executor.submit(self._run, key, kind, compute)
                self._pending[key] = future
        try:
            # shield: a waiter giving up must not cancel the computation other waiters (and the cache) share
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
        except TimeoutError:
            raise TimedOut() from None

    def _run(self, key: Hashable, kind: str, compute: Callable[[], Any]) -> Any:
        try:
            with self._lock:
                self.computations[kind] += 1
            value = compute()
            with self._lock:
                self._results[key] = value
                while len(self._results) > self.max_entries:
                    self._results.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
