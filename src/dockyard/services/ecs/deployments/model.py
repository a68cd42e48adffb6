"""ECS services as records: a service, its deployments (each also a service deployment with
a service revision), its task sets and events, their statuses and ARNs."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.ids import arn, new_uuid
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import cluster_name

log = logging.getLogger(__name__)

KIND = "ecs.service"
MAX_EVENTS = 100
MAX_HISTORY = 20  # finished deployments kept for the service deployments API


class TaskSetStatus(StrEnum):
    """A task set's status."""

    PRIMARY = "PRIMARY"
    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"


class ServiceStatus(StrEnum):
    """A service's status."""

    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"
    INACTIVE = "INACTIVE"


class SchedulingStrategy(StrEnum):
    REPLICA = "REPLICA"
    DAEMON = "DAEMON"


class DeploymentStatus(StrEnum):
    PRIMARY = "PRIMARY"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class RolloutState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ServiceDeploymentStatus(StrEnum):
    """The status the service deployments API shows."""

    PENDING = "PENDING"
    SUCCESSFUL = "SUCCESSFUL"
    STOPPED = "STOPPED"
    STOP_REQUESTED = "STOP_REQUESTED"
    IN_PROGRESS = "IN_PROGRESS"
    ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"


def new_numeric_id() -> str:
    return str(secrets.randbelow(9 * 10**18) + 10**18)


@dataclass(slots=True)
class Deployment:
    """One deployment of a service (ECS `Deployment`), which is also a service deployment
    with a service revision (the service deployments API)."""

    id: str  # ecs-svc/<19 digits>
    status: str
    task_definition_arn: str
    launch_type: str
    created_at: float
    updated_at: float
    revision_arn: str
    deployment_arn: str
    network_configuration: dict[str, Any] | None = None
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    capacity_provider_strategy: list[dict[str, Any]] = field(default_factory=list)
    platform_version: str | None = None
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    failed_tasks: int = 0
    rollout_state: str = RolloutState.IN_PROGRESS
    rollout_state_reason: str = ""
    # The service deployments API's view.
    sd_status: str = ServiceDeploymentStatus.IN_PROGRESS
    sd_status_reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stopped_at: float | None = None
    source_revisions: list[dict[str, Any]] = field(default_factory=list)
    deployment_configuration: dict[str, Any] = field(default_factory=dict)
    rollback: dict[str, Any] | None = None  # {reason, startedAt, serviceRevisionArn}
    circuit_breaker_threshold: int = 0
    rollback_of: str | None = None  # the failed deployment this one rolls back

    @property
    def live(self) -> bool:
        return self.status != DeploymentStatus.INACTIVE

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        return cls(**data)


@dataclass(slots=True)
class ServiceEvent:
    id: str
    created_at: float
    message: str


@dataclass(slots=True)
class TaskSet:
    """A task set of an EXTERNAL service."""

    id: str  # ecs-svc/<19 digits>
    arn: str
    task_definition_arn: str
    launch_type: str
    created_at: float
    updated_at: float
    status: str = "ACTIVE"  # PRIMARY | ACTIVE | DRAINING
    external_id: str | None = None
    started_by: str | None = None
    scale_value: float = 100.0
    scale_unit: str = "PERCENT"
    network_configuration: dict[str, Any] | None = None
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    service_registries: list[dict[str, Any]] = field(default_factory=list)
    platform_version: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    running_count: int = 0
    pending_count: int = 0
    stability_status: str = "STABILIZING"
    # The access key that created it: its tasks run under that key's task policy.
    policy_key: str | None = None
    stability_status_at: float = 0.0


@dataclass(slots=True)
class EcsService:
    arn: str
    name: str
    cluster_arn: str
    task_definition_arn: str | None
    desired_count: int
    launch_type: str
    created_at: float
    scheduling_strategy: str = SchedulingStrategy.REPLICA
    deployment_controller: str = "ECS"
    deployment_configuration: dict[str, Any] = field(default_factory=dict)
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    service_registries: list[dict[str, Any]] = field(default_factory=list)
    network_configuration: dict[str, Any] | None = None
    health_check_grace_period: int | None = None
    placement_constraints: list[dict[str, Any]] = field(default_factory=list)
    placement_strategy: list[dict[str, Any]] = field(default_factory=list)
    capacity_provider_strategy: list[dict[str, Any]] = field(default_factory=list)
    platform_version: str | None = None
    role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_by: str | None = None
    enable_ecs_managed_tags: bool = False
    propagate_tags: str = "NONE"
    enable_execute_command: bool = False
    client_token: str | None = None
    status: str = "ACTIVE"  # ACTIVE | DRAINING | INACTIVE
    running_count: int = 0
    pending_count: int = 0
    deployments: list[Deployment] = field(default_factory=list)  # newest first, INACTIVE too
    task_sets: list[TaskSet] = field(default_factory=list)
    events: list[ServiceEvent] = field(default_factory=list)  # newest first
    steady: bool = False
    # Tasks deregistered from their target groups, stopped once draining is over.
    draining_tasks: list[str] = field(default_factory=list)
    # Tasks registered in their target groups: registered once, as ECS does; a target that
    # something else deregisters (an Auto Scaling group taking its instance out) stays out.
    registered_tasks: list[str] = field(default_factory=list)
    # When the service became INACTIVE (clock time): kept for DescribeServices a while after.
    inactive_at: float | None = None
    # The access key that created the service or last set its task definition: its tasks
    # run under that key's task policy (docs/task-policy.md), whoever scales the service.
    policy_key: str | None = None

    @property
    def scope(self) -> Scope:
        parts = self.arn.split(":")
        return Scope(parts[4], parts[3])

    @property
    def group(self) -> str:
        return f"service:{self.name}"

    @property
    def primary(self) -> Deployment | None:
        for d in self.deployments:
            if d.status == DeploymentStatus.PRIMARY:
                return d
        return None

    def live_deployments(self) -> list[Deployment]:
        return [d for d in self.deployments if d.live]

    def deployment(self, deployment_id: str) -> Deployment | None:
        for d in self.deployments:
            if d.id == deployment_id:
                return d
        return None

    def add_event(self, message: str, now: float) -> bool:
        """Record a service event; an event that repeats the latest one is dropped."""
        if self.events and self.events[0].message == message:
            return False
        self.events.insert(0, ServiceEvent(new_uuid(), now, message))
        del self.events[MAX_EVENTS:]
        log.info("%s", message, extra={"arn": self.arn})
        return True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EcsService:
        data = dict(data)
        data["deployments"] = [Deployment.from_dict(d) for d in data.get("deployments", [])]
        data["task_sets"] = [TaskSet(**t) for t in data.get("task_sets", [])]
        data["events"] = [ServiceEvent(**e) for e in data.get("events", [])]
        return cls(**data)


def computed_count(service: EcsService, ts: TaskSet) -> int:
    """A task set's share of the service's desired count (its scale, rounded up)."""
    return math.ceil(service.desired_count * ts.scale_value / 100)


def service_arn(scope: Scope, cluster: str, name: str) -> str:
    return arn("ecs", scope.region, scope.account_id, f"service/{cluster}/{name}")


def revision_arn(service: EcsService, number: str) -> str:
    scope = service.scope
    resource = f"service-revision/{cluster_name(service.cluster_arn)}/{service.name}/{number}"
    return arn("ecs", scope.region, scope.account_id, resource)


def service_deployment_arn(service: EcsService, number: str) -> str:
    scope = service.scope
    resource = f"service-deployment/{cluster_name(service.cluster_arn)}/{service.name}/{number}"
    return arn("ecs", scope.region, scope.account_id, resource)


Watcher = Callable[[EcsService], None]
