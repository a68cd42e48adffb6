"""Amazon EventBridge: buses, rules (patterns and schedules), targets, events."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.events import access, ops
from dockyard.services.events.service import Events

__all__ = ["Events", "provider"]


def provider(events: Events) -> Provider:
    return Provider(service="events", handlers=ops.handlers(events),
                    validation_error_code="ValidationException", reset=events.reset,
                    access=access.access(events))  # fmt: skip
