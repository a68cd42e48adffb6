"""How parts of Dockyard put events on the event bus without importing EventBridge.

The EventBridge service implements `EventSink`; the composition root feeds it the ECS
state-change events and CloudWatch alarm state changes. An event is a dict shaped as
EventBridge delivers it (`version`, `id`, `detail-type`, `source`, `account`, `time`,
`region`, `resources`, `detail`).
"""

from __future__ import annotations

from typing import Any, Protocol

Event = dict[str, Any]


class EventSink(Protocol):
    def emit(self, event: Event) -> None:
        """Put an AWS service event on the default bus of its account and region."""
        ...
