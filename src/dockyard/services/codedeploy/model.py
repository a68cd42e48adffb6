"""CodeDeploy's domain types: applications, deployment configs, deployment groups and
deployments (with their one ECS target: lifecycle events and task sets)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class ComputePlatform(StrEnum):
    SERVER = "Server"
    LAMBDA = "Lambda"
    ECS = "ECS"


class DeploymentStatus(StrEnum):
    CREATED = "Created"
    QUEUED = "Queued"
    IN_PROGRESS = "InProgress"
    BAKING = "Baking"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"
    READY = "Ready"


FINISHED = (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.STOPPED)


class EventStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    UNKNOWN = "Unknown"


class TargetStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    UNKNOWN = "Unknown"
    READY = "Ready"


class Phase(StrEnum):
    """Where the controller is in an ECS blue/green deployment."""

    START = "START"  # nothing done yet
    INSTALL = "INSTALL"  # the replacement (green) task set starts and turns healthy
    TEST_TRAFFIC = "TEST_TRAFFIC"  # the test listener is pointed at green
    READY_WAIT = "READY_WAIT"  # waiting for ContinueDeployment (STOP_DEPLOYMENT)
    SHIFTING = "SHIFTING"  # production traffic moves blue -> green step by step
    TERMINATION_WAIT = "TERMINATION_WAIT"  # green serves all; blue kept for the wait
    ROLLING_BACK = "ROLLING_BACK"  # traffic back to blue, green task set deleted
    DONE = "DONE"


# ECS lifecycle events, in order (AppSpec hook names).
ECS_EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)


@dataclass(slots=True)
class Application:
    id: str
    name: str
    account_id: str
    region: str
    compute_platform: str
    created: float
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class DeploymentConfig:
    id: str
    name: str
    compute_platform: str
    created: float
    traffic_routing: dict[str, Any] | None = None  # the wire TrafficRoutingConfig
    minimum_healthy_hosts: dict[str, Any] | None = None
    account_id: str | None = None  # None: predefined, in every account and region
    region: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class DeploymentGroup:
    id: str
    name: str
    application_name: str
    account_id: str
    region: str
    compute_platform: str
    deployment_config_name: str
    service_role_arn: str
    ecs_services: list[dict[str, str]]  # [{serviceName, clusterName}]
    load_balancer_info: dict[str, Any]
    blue_green: dict[str, Any]
    deployment_style: dict[str, str]
    auto_rollback: dict[str, Any] = field(default_factory=dict)
    alarm_configuration: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    last_successful: dict[str, Any] | None = None
    last_attempted: dict[str, Any] | None = None
    target_revision: dict[str, Any] | None = None

    @property
    def pair(self) -> dict[str, Any]:
        pairs = self.load_balancer_info.get("targetGroupPairInfoList") or [{}]
        return dict(pairs[0])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class LifecycleEvent:
    name: str
    status: str = EventStatus.PENDING
    start: float | None = None
    end: float | None = None


@dataclass(slots=True)
class EcsAppSpec:
    """What an ECS AppSpec's TargetService says."""

    task_definition: str
    container_name: str
    container_port: int
    platform_version: str | None = None
    network_configuration: dict[str, Any] | None = None


@dataclass(slots=True)
class Deployment:
    id: str
    account_id: str
    region: str
    application_name: str
    group_name: str
    config_name: str
    revision: dict[str, Any]
    appspec: EcsAppSpec
    created: float
    cluster: str  # cluster name
    service: str  # service name
    service_arn: str
    traffic_routing: dict[str, Any]
    blue_green: dict[str, Any]
    load_balancer_info: dict[str, Any]
    deployment_style: dict[str, str]
    auto_rollback: dict[str, Any] = field(default_factory=dict)
    alarm_configuration: dict[str, Any] = field(default_factory=dict)
    previous_revision: dict[str, Any] | None = None
    description: str | None = None
    creator: str = "user"
    status: str = DeploymentStatus.CREATED
    start: float | None = None
    complete: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    rollback_info: dict[str, str] = field(default_factory=dict)
    events: list[LifecycleEvent] = field(default_factory=list)
    target_status: str = TargetStatus.PENDING
    target_updated: float = 0.0
    # The controller's progress.
    phase: str = Phase.START
    phase_since: float = 0.0
    blue_task_set: str | None = None  # task set ids
    green_task_set: str | None = None
    blue_target_group: str | None = None  # ARNs
    green_target_group: str | None = None
    green_weight: int = 0  # percent of production traffic on green
    termination_wait_started: bool = False
    continue_requested: bool = False
    skip_termination_wait: bool = False
    stop_requested: str | None = None  # MANUAL_STOP | ALARM_ACTIVE | ECS_UPDATE_ERROR
    stop_message: str | None = None
    stop_rollback: bool = False
    rolled_back: bool = False
    task_sets_info: list[dict[str, Any]] = field(default_factory=list)  # ECSTaskSet shapes

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.id}"

    @property
    def target_id(self) -> str:
        return f"{self.cluster}:{self.service}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def event(self, name: str) -> LifecycleEvent:
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        data = dict(data)
        data["appspec"] = EcsAppSpec(**data["appspec"])
        data["events"] = [LifecycleEvent(**e) for e in data.get("events", [])]
        return cls(**data)
