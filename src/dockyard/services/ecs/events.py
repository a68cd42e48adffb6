"""ECS events (`ECS Task State Change`, `ECS Container Instance State Change`, `ECS Service
Action`, `ECS Deployment State Change`), kept in order for whoever delivers them (the event
bus) and passed to subscribers as they happen."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]
Listener = Callable[[Event], None]


class EventLog:
    """The most recent events (at most `limit`), oldest first, plus live subscribers."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._events: list[Event] = []
        self._listeners: list[Listener] = []
        self.dropped = 0  # how many old events were let go; indexes shift by this much

    def append(self, event: Event) -> None:
        self._events.append(event)
        if len(self._events) > self.limit:
            cut = max(1, self.limit // 10)
            del self._events[:cut]
            self.dropped += cut
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("an ECS event listener failed", extra={"event_id": event.get("id")})

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every new event; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def clear(self) -> None:
        self._events.clear()

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> Event:
        return self._events[index]
