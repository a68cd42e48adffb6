"""ECS services: the domain (a service, its deployments, its events) and its state."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.ids import arn, arn_resource, is_arn, new_uuid
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters import cluster_name
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.events import EventLog
from dockyard.services.ecs.service_events import (
    DeploymentEvent,
    ServiceAction,
    emit_action,
    emit_deployment,
)
from dockyard.services.ecs.state import EcsDomain
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

KIND = "ecs.service"
MAX_EVENTS = 100
MAX_HISTORY = 20  # finished deployments kept for the service deployments API


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


class Services(EcsDomain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_arn: dict[str, EcsService] = {}
        self._watchers: list[Watcher] = []
        self.events: EventLog | None = None  # the ECS event log, set by `Ecs`

    def load(self) -> None:
        self.by_arn = {}
        for key, body in self.store.load(KIND):
            try:
                service = EcsService.from_dict(body)
            except (KeyError, TypeError, ValueError):
                log.exception("skipping an unreadable service record", extra={"arn": key})
                continue
            self.by_arn[key] = service
            if service.status == "INACTIVE" and service.inactive_at is None:
                self.save(service, notify=False)  # a record from before the time was kept

    def reset(self) -> None:
        self.by_arn.clear()

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` with every service saved (the service controller enqueues it)."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def save(self, service: EcsService, notify: bool = True) -> None:
        if service.status == "INACTIVE" and service.inactive_at is None:
            service.inactive_at = self.clock.now()
        put_record(self.store, KIND, service.arn, service, EcsService.from_dict)
        self.by_arn[service.arn] = service
        if notify:
            for watcher in list(self._watchers):
                watcher(service)

    def forget(self, service_arn: str) -> bool:
        """Let an INACTIVE (deleted) service go, from memory and the store at once. False for
        an unknown service or one not INACTIVE."""
        service = self.by_arn.get(service_arn)
        if service is None or service.status != "INACTIVE":
            return False
        self.store.delete(KIND, service_arn)
        del self.by_arn[service_arn]
        return True

    def arn_for(self, scope: Scope, cluster_arn: str, ref: str) -> str:
        if is_arn(ref):
            parts = ref.split(":")
            if len(parts) != 6 or parts[2] != "ecs" or not parts[5].startswith("service/"):
                raise InvalidParameterException(f"Invalid service ARN: {ref}")
            resource = arn_resource(ref).split("/")
            # The older ARN format has no cluster name: service/<name>.
            return service_arn(scope, cluster_name(cluster_arn), resource[-1])
        return service_arn(scope, cluster_name(cluster_arn), ref)

    def find(self, scope: Scope, cluster_arn: str, ref: str) -> EcsService | None:
        service = self.by_arn.get(self.arn_for(scope, cluster_arn, ref))
        if service is None or service.cluster_arn != cluster_arn:
            return None
        return service

    def in_cluster(
        self, cluster_arn: str, statuses: tuple[str, ...] = ("ACTIVE",)
    ) -> list[EcsService]:
        return sorted(
            (
                s
                for s in self.by_arn.values()
                if s.cluster_arn == cluster_arn and s.status in statuses
            ),
            key=lambda s: s.arn,
        )

    def by_group(self, cluster_arn: str, group: str) -> EcsService | None:
        if not group.startswith("service:"):
            return None
        name = group.removeprefix("service:")
        for service in self.by_arn.values():
            same = service.cluster_arn == cluster_arn and service.name == name
            if same and service.status != "INACTIVE":
                return service
        return None

    def set_desired_count(self, service_arn: str, count: int) -> EcsService:
        """Scale a REPLICA service (what Application Auto Scaling calls); the controller
        starts or stops tasks. InvalidParameterException for a service that cannot scale."""
        service = self.by_arn.get(service_arn)
        if service is None or service.status != "ACTIVE":
            raise InvalidParameterException(f"The service {service_arn} is not ACTIVE.")
        if service.scheduling_strategy != SchedulingStrategy.REPLICA or count < 0:
            raise InvalidParameterException(
                f"Only REPLICA services scale to a non-negative count ({service_arn}: {count})."
            )
        if service.desired_count != count:
            service.desired_count = count
            primary = service.primary
            if primary is not None:
                primary.desired_count = count
                primary.updated_at = self.clock.now()
            service.steady = False
            emit_action(
                self.events, service, ServiceAction.SERVICE_DESIRED_COUNT_UPDATED,
                self.clock.now(),
            )  # fmt: skip
            self.save(service)
        return service

    def new_deployment(
        self, service: EcsService, *, task_definition_arn: str, reason: str = ""
    ) -> Deployment:
        """Start a deployment: it becomes PRIMARY; the previous live ones become ACTIVE (a
        deployment in progress is superseded)."""
        now = self.clock.now()
        number = new_numeric_id()
        sources = []
        for d in service.live_deployments():
            d.status = DeploymentStatus.ACTIVE
            d.updated_at = now
            if d.rollout_state == RolloutState.IN_PROGRESS:
                d.sd_status = ServiceDeploymentStatus.STOPPED
                d.sd_status_reason = "Superseded by a newer service deployment."
                d.stopped_at = now
            sources.append(
                {"arn": d.revision_arn, "requestedTaskCount": d.desired_count,
                 "runningTaskCount": d.running_count, "pendingTaskCount": d.pending_count}
            )  # fmt: skip
        deployment = Deployment(
            id=f"ecs-svc/{number}",
            status=DeploymentStatus.PRIMARY,
            task_definition_arn=task_definition_arn,
            launch_type=service.launch_type,
            created_at=now,
            updated_at=now,
            started_at=now,
            revision_arn=revision_arn(service, number),
            deployment_arn=service_deployment_arn(service, number),
            network_configuration=service.network_configuration,
            load_balancers=list(service.load_balancers),
            capacity_provider_strategy=list(service.capacity_provider_strategy),
            platform_version=service.platform_version,
            desired_count=service.desired_count,
            rollout_state_reason=reason or f"ECS deployment ecs-svc/{number} in progress.",
            source_revisions=sources,
            deployment_configuration=dict(service.deployment_configuration),
        )
        service.deployments.insert(0, deployment)
        service.steady = False
        emit_deployment(
            self.events, service, deployment, DeploymentEvent.SERVICE_DEPLOYMENT_IN_PROGRESS, now
        )
        finished = [d for d in service.deployments if not d.live]
        for old in finished[MAX_HISTORY:]:
            service.deployments.remove(old)
        return deployment

    def last_completed(self, service: EcsService, exclude: str) -> Deployment | None:
        for d in service.deployments:
            if d.id != exclude and d.rollout_state == RolloutState.COMPLETED:
                return d
        return None
