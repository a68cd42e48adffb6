"""ECS events (`ECS Task State Change`, `ECS Container Instance State Change`, `ECS Service
Action`, `ECS Deployment State Change`), kept in order for whoever delivers them (the event
bus) and queued for subscribers.

`append` never calls a subscriber: each subscriber has a mailbox of its own (a bounded FIFO
drained by its own asyncio task), so EventBridge delivery, service discovery, the service
controller... react after the ECS operation that caused the event has finished, in the order
the events happened, and a reaction that runs more ECS operations (an EventBridge rule that
runs tasks) never re-enters ECS in the middle of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from dockyard.core.eventbus import MAILBOX_LIMIT, Mailbox

log = logging.getLogger(__name__)

Event = dict[str, Any]
Listener = Callable[[Event], None]


class EventLog:
    """The most recent events (at most `limit`), oldest first, plus queued subscribers."""

    def __init__(self, limit: int = 10_000, queue_limit: int = MAILBOX_LIMIT) -> None:
        self.limit = limit
        self.queue_limit = queue_limit
        self._events: list[Event] = []
        self._mailboxes: list[Mailbox[Event]] = []
        self.dropped = 0  # how many old events were let go; indexes shift by this much

    def append(self, event: Event) -> None:
        """Record the event and queue it for every subscriber (none of them runs now)."""
        self._events.append(event)
        if len(self._events) > self.limit:
            cut = max(1, self.limit // 10)
            del self._events[:cut]
            self.dropped += cut
        for mailbox in self._mailboxes:
            mailbox.put(event)

    def subscribe(self, listener: Listener, name: str = "") -> Callable[[], None]:
        """Call `listener` with every new event, in order, from a queue of its own; returns the
        unsubscribe function."""
        label = name or getattr(listener, "__qualname__", "listener")
        mailbox: Mailbox[Event] = Mailbox(f"ecs-events:{label}", listener, self.queue_limit)
        self._mailboxes.append(mailbox)

        def unsubscribe() -> None:
            if mailbox in self._mailboxes:
                self._mailboxes.remove(mailbox)
            mailbox.close()

        return unsubscribe

    def pending(self) -> int:
        """Events queued for subscribers and not handled yet."""
        return sum(len(m) for m in self._mailboxes)

    def drain(self) -> int:
        """Hand every queued event to its subscribers now (without an event loop: unit tests)."""
        return sum(m.drain() for m in self._mailboxes)

    def clear(self) -> None:
        self._events.clear()

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> Event:
        return self._events[index]
