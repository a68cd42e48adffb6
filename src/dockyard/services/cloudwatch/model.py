"""CloudWatch's domain types: metrics, their samples, metric alarms and composite alarms."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope

Dimensions = tuple[tuple[str, str], ...]


class AlarmState(enum.StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class TreatMissingData(enum.StrEnum):
    BREACHING = "breaching"
    NOT_BREACHING = "notBreaching"
    IGNORE = "ignore"
    MISSING = "missing"


class Comparison(enum.StrEnum):
    GE = "GreaterThanOrEqualToThreshold"
    GT = "GreaterThanThreshold"
    LT = "LessThanThreshold"
    LE = "LessThanOrEqualToThreshold"


@dataclass(slots=True, frozen=True)
class MetricKey:
    namespace: str
    name: str
    dimensions: Dimensions  # sorted by name

    @classmethod
    def of(cls, namespace: str, name: str, dims: list[dict[str, str]] | None) -> MetricKey:
        pairs = tuple(sorted((d["Name"], d["Value"]) for d in dims or []))
        return cls(namespace, name, pairs)

    def to_wire(self) -> dict[str, Any]:
        return {
            "Namespace": self.namespace,
            "MetricName": self.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
        }


def alarm_arn(scope: Scope, name: str) -> str:
    return arn("cloudwatch", scope.region, scope.account_id, f"alarm:{name}")


@dataclass(slots=True)
class Alarm:
    """A metric alarm or a composite alarm (`rule` set); `params` keep the PutMetricAlarm /
    PutCompositeAlarm input (wire-shaped), the rest is the alarm's live state."""

    arn: str
    name: str
    account_id: str
    region: str
    params: dict[str, Any]
    composite: bool = False
    state: str = AlarmState.INSUFFICIENT_DATA
    state_reason: str = "Unchecked: Initial alarm creation"
    state_reason_data: str | None = None
    state_updated: float = 0.0
    state_transitioned: float = 0.0
    configuration_updated: float = 0.0
    actions_enabled: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    last_evaluated: float = 0.0
    # Set by SetAlarmState: kept until the next evaluation that disagrees.
    forced: bool = False
    managed_by: str | None = None  # "application-autoscaling" for target tracking alarms

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class HistoryItem:
    alarm_name: str
    alarm_type: str  # MetricAlarm | CompositeAlarm
    timestamp: float
    item_type: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
