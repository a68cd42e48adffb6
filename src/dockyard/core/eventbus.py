"""How parts of Dockyard put events on the event bus without importing EventBridge, and the
queue every reaction to an event runs from.

The EventBridge service implements `EventSink`; the composition root feeds it the ECS
state-change events and CloudWatch alarm state changes. An event is a dict shaped as
EventBridge delivers it (`version`, `id`, `detail-type`, `source`, `account`, `time`,
`region`, `resources`, `detail`).

Publishing never runs a reaction inline: `Mailbox.put` only enqueues, and a task of the
mailbox's own hands the items to its handler, in order, once the operation that published
them has returned to the event loop (and so has committed). A reaction that publishes again
(an EventBridge rule whose ECS target starts tasks that emit events) queues behind, instead
of re-entering the domain that is still in the middle of its operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

Event = dict[str, Any]
T = TypeVar("T")

MAILBOX_LIMIT = 10_000


class EventSink(Protocol):
    def emit(self, event: Event) -> None:
        """Put an AWS service event on the default bus of its account and region."""
        ...


class Mailbox(Generic[T]):
    """A bounded FIFO of items for one handler, drained by an asyncio task of its own.

    `put` never calls the handler. The draining task is started by the first `put` made on a
    running event loop (or by `start`). When more than `limit` items wait, the oldest are let
    go and counted (`dropped`), and the count is logged: a loop of reactions cannot exhaust
    memory. A handler that raises is logged and the next item is handled.
    """

    def __init__(self, name: str, handle: Callable[[T], None], limit: int = MAILBOX_LIMIT) -> None:
        self.name = name
        self.handle = handle
        self.limit = max(1, limit)
        self.dropped = 0  # items let go since the start
        self.handled = 0
        self._items: deque[T] = deque()
        self._unreported = 0  # dropped and not logged yet
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def idle(self) -> bool:
        """Nothing waiting and nothing being handled."""
        return not self._items and not self._busy

    def put(self, item: T) -> None:
        if self._closed:
            return
        if len(self._items) >= self.limit:
            self._items.popleft()
            self.dropped += 1
            self._unreported += 1
        self._items.append(item)
        self._wake.set()
        if self._task is None:
            self.start()

    def start(self) -> None:
        """Start draining (again, after `stop`), if an event loop is running; otherwise items
        wait (see `drain`)."""
        self._closed = False
        if self._task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._wake = asyncio.Event()  # of this loop
        if self._items:
            self._wake.set()
        self._task = loop.create_task(self._run(), name=f"mailbox-{self.name}")

    def close(self) -> None:
        """Stop draining and let go of what waits."""
        self._closed = True
        self._items.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        task = self._task
        self.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def drain(self) -> int:
        """Handle every waiting item now (for callers without an event loop, such as unit
        tests); the number handled."""
        n = 0
        while self._items:
            self._handle_one(self._items.popleft())
            n += 1
        self._report_drops()
        return n

    async def _run(self) -> None:
        while True:
            if not self._items:
                self._wake.clear()
                await self._wake.wait()
                continue
            self._report_drops()
            self._busy = True
            try:
                self._handle_one(self._items.popleft())
            finally:
                self._busy = False
            await asyncio.sleep(0)  # one item at a time: the loop serves everyone else between

    def _handle_one(self, item: T) -> None:
        self.handled += 1
        try:
            self.handle(item)
        except Exception:
            log.exception("%s: handling a queued event failed", self.name,
                          extra={"mailbox": self.name})  # fmt: skip

    def _report_drops(self) -> None:
        if self._unreported:
            log.warning(
                "%s: %d queued events dropped (more than %d waiting; %d in all)",
                self.name, self._unreported, self.limit, self.dropped,
                extra={"mailbox": self.name},
            )  # fmt: skip
            self._unreported = 0
