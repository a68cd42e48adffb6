"""How a service reads CloudWatch alarm states without importing CloudWatch.

ECS deployment alarms (deploymentConfiguration.alarms) fail a deployment, and roll it back,
when one of the named alarms is in ALARM. CloudWatch implements `AlarmStates`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AlarmStatus:
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    window: float  # seconds the alarm looks back (period x evaluation periods)


# Called with (account id, region, alarm name, new state) after every state change.
StateListener = Callable[[str, str, str, str], None]


class AlarmStates(Protocol):
    def alarm_status(self, account_id: str, region: str, name: str) -> AlarmStatus | None:
        """The alarm's state, or None when no alarm has that name."""
        ...

    def watch_states(self, listener: StateListener) -> Callable[[], None]:
        """Call `listener` on every alarm state change; returns the unsubscribe function."""
        ...
