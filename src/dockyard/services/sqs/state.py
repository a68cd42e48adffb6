"""One queue's messages in memory: which are visible, which are in flight or delayed (a
heap of when they become visible), FIFO groups and their order, deduplication ids, and the
long pollers waiting for a message. Pure bookkeeping: no store, no clock reads."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockyard.services.sqs.model import Message, Queue

DEDUP_WINDOW = 300.0  # FIFO deduplication interval (5 minutes)
ATTEMPT_WINDOW = 300.0  # a ReceiveRequestAttemptId is remembered this long


@dataclass(slots=True)
class Attempt:
    expires: float
    handles: list[tuple[str, str]]  # (message id, receipt handle)


@dataclass(slots=True)
class QueueState:
    queue: Queue
    messages: dict[str, Message] = field(default_factory=dict)  # by id, in send order
    ready: deque[str] = field(default_factory=deque)  # standard: visible (may hold stale ids)
    timers: list[tuple[float, int, str]] = field(default_factory=list)  # (when, generation, id)
    groups: dict[str, deque[str]] = field(default_factory=dict)  # FIFO: ids per group
    group_in_flight: dict[str, int] = field(default_factory=dict)
    dedup: dict[str, tuple[str, int, float]] = field(default_factory=dict)  # key->(id, seq, exp)
    dedup_order: deque[tuple[float, str]] = field(default_factory=deque)
    attempts: dict[str, Attempt] = field(default_factory=dict)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    purged_at: float | None = None

    # -- adding and removing --------------------------------------------------------------

    def add(self, message: Message, now: float) -> None:
        self.messages[message.message_id] = message
        if message.group_id is not None and self.queue.fifo:
            self.groups.setdefault(message.group_id, deque()).append(message.message_id)
        if message.visible_at > now:
            self._hide(message, message.visible_at)
        elif not self.queue.fifo:
            self.ready.append(message.message_id)
        self.wake()

    def remove(self, message: Message) -> None:
        if self.messages.pop(message.message_id, None) is None:
            return
        if message.in_flight:
            self._landed(message)
        message.generation += 1  # its timers are stale now
        if message.group_id is not None and self.queue.fifo:
            ids = self.groups.get(message.group_id)
            if ids is not None:
                if ids and ids[0] == message.message_id:
                    ids.popleft()
                else:
                    with contextlib.suppress(ValueError):
                        ids.remove(message.message_id)
                if not ids:
                    del self.groups[message.group_id]

    def clear(self) -> list[Message]:
        gone = list(self.messages.values())
        self.messages.clear()
        self.ready.clear()
        self.timers.clear()
        self.groups.clear()
        self.group_in_flight.clear()
        return gone

    # -- visibility -------------------------------------------------------------------------

    def _hide(self, message: Message, until: float) -> None:
        message.generation += 1
        message.visible_at = until
        heapq.heappush(self.timers, (until, message.generation, message.message_id))

    def _landed(self, message: Message) -> None:
        """`message` is no longer in flight."""
        message.receipt = None
        if message.group_id is not None and self.queue.fifo:
            left = self.group_in_flight.get(message.group_id, 0) - 1
            if left > 0:
                self.group_in_flight[message.group_id] = left
            else:
                self.group_in_flight.pop(message.group_id, None)

    def release_due(self, now: float) -> None:
        """Messages whose delay or visibility timeout has run out become visible."""
        woke = False
        while self.timers and self.timers[0][0] <= now:
            _, generation, message_id = heapq.heappop(self.timers)
            message = self.messages.get(message_id)
            if message is None or message.generation != generation:
                continue
            if message.in_flight:
                self._landed(message)
            if not self.queue.fifo:
                self.ready.append(message_id)
            woke = True
        if woke:
            self.wake()

    def next_change(self) -> float | None:
        """When a hidden message next becomes visible (None: none is hidden)."""
        while self.timers:
            when, generation, message_id = self.timers[0]
            message = self.messages.get(message_id)
            if message is not None and message.generation == generation:
                return when
            heapq.heappop(self.timers)
        return None

    def take(self, message: Message, receipt: str, now: float, visibility: float) -> None:
        """`message` received: in flight under `receipt` until now + visibility."""
        message.receive_count += 1
        if message.first_received is None:
            message.first_received = now
        if message.in_flight:
            self._landed(message)
        message.receipt = receipt
        if message.group_id is not None and self.queue.fifo:
            self.group_in_flight[message.group_id] = (
                self.group_in_flight.get(message.group_id, 0) + 1
            )
        self._hide(message, now + visibility)

    def change_visibility(self, message: Message, now: float, visibility: float) -> None:
        self._hide(message, now + visibility)
        if visibility == 0:
            self.release_due(now)

    # -- choosing what a receive gets ----------------------------------------------------------

    def candidates(self, now: float) -> Iterator[Message]:
        """Visible messages in the order a receive takes them: any order for a standard
        queue; for FIFO, each group's messages in order, skipping groups with a message in
        flight. Taking a message (`take`) while iterating is expected."""
        self.release_due(now)
        if not self.queue.fifo:
            while self.ready:
                message_id = self.ready.popleft()
                message = self.messages.get(message_id)
                if message is None or message.in_flight or message.visible_at > now:
                    continue
                yield message
            return
        for group_id in list(self.groups):
            if self.group_in_flight.get(group_id):
                continue
            for message_id in list(self.groups.get(group_id) or ()):
                message = self.messages.get(message_id)
                if message is None:
                    continue
                if message.in_flight or message.visible_at > now:
                    break
                yield message
                if message.message_id in self.messages and not message.in_flight:
                    break  # skipped (not taken): later ones of the group must wait

    def put_back(self, message: Message) -> None:
        """A standard queue's candidate that was not taken after all."""
        if not self.queue.fifo:
            self.ready.appendleft(message.message_id)

    # -- counts -----------------------------------------------------------------------------

    def counts(self, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed)."""
        self.release_due(now)
        visible = flight = delayed = 0
        for message in self.messages.values():
            if message.in_flight:
                flight += 1
            elif message.visible_at > now:
                delayed += 1
            else:
                visible += 1
        return visible, flight, delayed

    # -- deduplication ------------------------------------------------------------------------

    def duplicate(self, key: str, now: float) -> tuple[str, int] | None:
        found = self.dedup.get(key)
        if found is None or found[2] <= now:
            return None
        return found[0], found[1]

    def remember(self, key: str, message_id: str, sequence: int, expires: float) -> None:
        self.dedup[key] = (message_id, sequence, expires)
        self.dedup_order.append((expires, key))

    def expired_dedup(self, now: float, limit: int) -> list[str]:
        """Up to `limit` deduplication keys whose interval is over, forgotten."""
        out: list[str] = []
        while self.dedup_order and self.dedup_order[0][0] <= now and len(out) < limit:
            expires, key = self.dedup_order.popleft()
            found = self.dedup.get(key)
            if found is not None and found[2] == expires:
                del self.dedup[key]
                out.append(key)
        return out

    # -- long polling ---------------------------------------------------------------------------

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
