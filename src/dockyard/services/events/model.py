"""EventBridge's domain types: event buses, rules (with their targets), connections and API
destinations."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope

DEFAULT_BUS = "default"


class RuleState(enum.StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


def bus_arn(scope: Scope, name: str) -> str:
    return arn("events", scope.region, scope.account_id, f"event-bus/{name}")


def rule_arn(scope: Scope, bus: str, name: str) -> str:
    path = f"rule/{name}" if bus == DEFAULT_BUS else f"rule/{bus}/{name}"
    return arn("events", scope.region, scope.account_id, path)


@dataclass(slots=True)
class EventBus:
    arn: str
    name: str
    account_id: str
    region: str
    created: float
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Rule:
    arn: str
    name: str
    bus: str
    account_id: str
    region: str
    created: float
    event_pattern: str | None = None
    schedule_expression: str | None = None
    state: str = RuleState.ENABLED
    description: str | None = None
    role_arn: str | None = None
    managed_by: str | None = None
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # Id -> wire Target
    tags: dict[str, str] = field(default_factory=dict)
    last_fired: float | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def enabled(self) -> bool:
        return self.state != RuleState.DISABLED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Connection:
    arn: str
    name: str
    account_id: str
    region: str
    authorization_type: str
    auth_parameters: dict[str, Any]
    created: float
    description: str | None = None
    state: str = "AUTHORIZED"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ApiDestination:
    arn: str
    name: str
    account_id: str
    region: str
    connection_arn: str
    endpoint: str
    method: str
    created: float
    description: str | None = None
    rate_limit: int = 300
    state: str = "ACTIVE"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
