"""Ports between Application Auto Scaling, CloudWatch alarms and the services it scales.

- `ScalableTargets`: a service whose capacity can be scaled (ECS implements it for
  `ecs:service:DesiredCount`, resource id `service/<cluster>/<service>`).
- `AlarmActions`: what a CloudWatch alarm invokes when its action ARN is a scaling policy.
- `ManagedAlarms`: the alarms Application Auto Scaling creates for target tracking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Capacity:
    desired: int
    running: int


class ScalableTargets(Protocol):
    def capacity(
        self, account_id: str, region: str, namespace: str, resource_id: str, dimension: str
    ) -> Capacity | None:
        """The target's current capacity, or None when it does not exist."""
        ...

    def set_capacity(
        self,
        account_id: str,
        region: str,
        namespace: str,
        resource_id: str,
        dimension: str,
        desired: int,
    ) -> None:
        """Set the desired capacity (raises ValueError with a reason when it cannot)."""
        ...


@dataclass(frozen=True, slots=True)
class AlarmFiring:
    """An alarm invoking an action: which alarm, its state and the breaching value."""

    alarm_name: str
    alarm_arn: str
    state: str  # ALARM | OK | INSUFFICIENT_DATA
    threshold: float | None = None
    value: float | None = None  # the most recent datapoint evaluated
    comparison: str | None = None
    # Invoked again while the alarm stays in its state (scaling policies act each time;
    # notifications, such as SNS topics, go out once per state change).
    repeat: bool = False


class AlarmActions(Protocol):
    def invoke(self, account_id: str, region: str, action_arn: str, firing: AlarmFiring) -> bool:
        """Run the action if it is one of ours; False when the ARN is not handled here."""
        ...


@dataclass(slots=True)
class AlarmSpec:
    """A metric alarm as PutMetricAlarm takes it (wire-shaped parameters)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


class ManagedAlarms(Protocol):
    def put_alarm(self, account_id: str, region: str, spec: AlarmSpec) -> str:
        """Create or replace a metric alarm; its ARN."""
        ...

    def delete_alarms(self, account_id: str, region: str, names: list[str]) -> None: ...
