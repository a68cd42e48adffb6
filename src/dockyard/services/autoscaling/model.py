"""Application Auto Scaling's domain types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope


def target_key(scope: Scope, namespace: str, resource_id: str, dimension: str) -> str:
    return f"{scope.account_id}/{scope.region}/{namespace}/{dimension}/{resource_id}"


def policy_arn(scope: Scope, namespace: str, resource_id: str, name: str, uid: str) -> str:
    resource = f"scalingPolicy:{uid}:resource/{namespace}/{resource_id}:policyName/{name}"
    return arn("autoscaling", scope.region, scope.account_id, resource)


def scheduled_action_arn(scope: Scope, namespace: str, resource_id: str, name: str,
                         uid: str) -> str:  # fmt: skip
    return arn("autoscaling", scope.region, scope.account_id,
               f"scheduledAction:{uid}:resource/{namespace}/{resource_id}:"
               f"scheduledActionName/{name}")  # fmt: skip


@dataclass(slots=True)
class ScalableTarget:
    key: str
    arn: str
    account_id: str
    region: str
    namespace: str
    resource_id: str
    dimension: str
    min_capacity: int
    max_capacity: int
    created: float
    role_arn: str = ""
    suspended: dict[str, bool] = field(default_factory=dict)
    last_scale_out: float | None = None
    last_scale_out_capacity: int | None = None
    last_scale_in: float | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Policy:
    arn: str
    name: str
    target_key: str
    policy_type: str  # StepScaling | TargetTrackingScaling
    config: dict[str, Any]  # the wire configuration
    created: float
    alarm_names: list[str] = field(default_factory=list)
    alarm_arns: list[str] = field(default_factory=list)
    last_run: float | None = None
    last_proposal: int | None = None  # target tracking: the capacity it last asked for
    last_proposal_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ScheduledAction:
    arn: str
    name: str
    target_key: str
    schedule: str
    created: float
    timezone: str | None = None
    start: float | None = None
    end: float | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    last_run: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Activity:
    id: str
    target_key: str
    description: str
    cause: str
    start: float
    end: float | None
    status: str  # Successful | Failed | InProgress ...
    message: str = ""
    details: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
