"""A small work-queue runtime for level-triggered controllers.

Keys (a service ARN, a target group ARN, ...) are enqueued when something about them may have
changed. The queue de-duplicates: a key waiting once is waiting once however often it is
enqueued. One worker handles a key at a time; a key enqueued while it is being reconciled is
reconciled again afterwards. A reconcile returns `None` (done), a number of seconds (look
again after that long, in the controller's clock) or raises (retried with exponential backoff).
A crash is logged with its key and never stops the runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable

from dockyard.core.clock import Clock
from dockyard.store.base import is_unavailable

log = logging.getLogger(__name__)

Reconcile = Callable[[str], Awaitable[float | None]]

BACKOFF_BASE = 0.05
BACKOFF_MAX = 30.0


class Runtime:
    def __init__(
        self,
        name: str,
        reconcile: Reconcile,
        clock: Clock,
        *,
        workers: int = 2,
        backoff_base: float = BACKOFF_BASE,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        self.name = name
        self.reconcile = reconcile
        self.clock = clock
        self.workers = workers
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()  # in _ready
        self._active: set[str] = set()  # being reconciled
        self._dirty: set[str] = set()  # enqueued while active: again afterwards
        self._due: dict[str, float] = {}  # key -> clock time it is due
        self._timers: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._failures: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.reconciles = 0
        self.errors = 0

    # -- enqueueing -----------------------------------------------------------------------

    def enqueue(self, key: str, after: float = 0.0) -> None:
        """Reconcile `key` (after `after` seconds of clock time)."""
        if after > 0:
            due = self.clock.now() + after
            current = self._due.get(key)
            if current is not None and current <= due:
                return
            self._due[key] = due
            heapq.heappush(self._timers, (due, next(self._seq), key))
            self._wake.set()
            return
        if key in self._active:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.put_nowait(key)

    def pending(self) -> int:
        return len(self._queued) + len(self._active) + len(self._due)

    # -- running --------------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._timer_loop(), name=f"{self.name}-timers"))
        for i in range(self.workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"{self.name}-{i}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _timer_loop(self) -> None:
        while True:
            now = self.clock.now()
            while self._timers and self._timers[0][0] <= now:
                due, _, key = heapq.heappop(self._timers)
                if self._due.get(key) == due:
                    del self._due[key]
                    self.enqueue(key)
            self._wake.clear()
            if not self._timers:
                await self._wake.wait()
                continue
            delay = self._timers[0][0] - now
            sleeper = asyncio.ensure_future(self.clock.sleep(delay))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    async def _worker(self) -> None:
        while True:
            key = await self._ready.get()
            self._queued.discard(key)
            self._active.add(key)
            try:
                await self._run_one(key)
            finally:
                self._active.discard(key)
                if key in self._dirty:
                    self._dirty.discard(key)
                    self.enqueue(key)

    async def _run_one(self, key: str) -> None:
        self.reconciles += 1
        try:
            again = await self.reconcile(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.errors += 1
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            delay = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
            if is_unavailable(exc):  # expected while the disk is full or the database down
                log.warning(
                    "%s: reconcile of %s could not store its changes (%s); retrying in %.2fs",
                    self.name,
                    key,
                    exc,
                    delay,
                    extra={"key": key, "controller": self.name},
                )
            else:
                log.exception(
                    "%s: reconcile of %s failed (attempt %d); retrying in %.2fs",
                    self.name,
                    key,
                    failures,
                    delay,
                    extra={"key": key, "controller": self.name},
                )
            self.enqueue(key, after=delay)
            return
        self._failures.pop(key, None)
        if again is not None:
            self.enqueue(key, after=max(again, 0.0) or 0.0)
