"""ECS tasks: the domain types (a task, its containers, its network attachment)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.taskspec import NetworkBinding, NetworkMode, TaskSpec


class LastStatus(StrEnum):
    """The task lifecycle as ECS documents it, in order."""

    PROVISIONING = "PROVISIONING"
    PENDING = "PENDING"
    ACTIVATING = "ACTIVATING"
    RUNNING = "RUNNING"
    DEACTIVATING = "DEACTIVATING"
    STOPPING = "STOPPING"
    DEPROVISIONING = "DEPROVISIONING"
    STOPPED = "STOPPED"

    @property
    def rank(self) -> int:
        return list(LastStatus).index(self)


class StopCode(StrEnum):
    TASK_FAILED_TO_START = "TaskFailedToStart"
    ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
    USER_INITIATED = "UserInitiated"
    SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"
    SPOT_INTERRUPTION = "SpotInterruption"
    TERMINATION_NOTICE = "TerminationNotice"


PENDING_STATUSES = (LastStatus.PROVISIONING, LastStatus.PENDING, LastStatus.ACTIVATING)


@dataclass(slots=True)
class TaskContainer:
    name: str
    arn: str
    image: str
    essential: bool = True
    runtime_id: str | None = None
    last_status: str = "PENDING"  # PENDING | RUNNING | STOPPED
    exit_code: int | None = None
    reason: str | None = None
    health_status: str = "UNKNOWN"
    network_bindings: list[NetworkBinding] = field(default_factory=list)
    cpu: int = 0
    memory: int | None = None
    memory_reservation: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskContainer:
        bindings = [NetworkBinding(**b) for b in data.get("network_bindings", [])]
        return cls(**{**data, "network_bindings": bindings})


@dataclass(slots=True)
class NetworkAttachment:
    """The task's elastic network interface (awsvpc): its own address."""

    id: str
    subnet_id: str
    eni_id: str
    mac_address: str
    security_groups: list[str] = field(default_factory=list)
    status: str = "PRECREATED"  # PRECREATED | ATTACHED | DELETED
    private_ip: str | None = None


@dataclass(slots=True)
class Task:
    arn: str
    cluster_arn: str
    task_definition_arn: str
    spec: TaskSpec
    # The container instance the task was placed on (for FARGATE: the managed host, which
    # ECS does not show as the task's containerInstanceArn).
    host_arn: str
    launch_type: str
    cpu: int
    memory: int
    group: str
    containers: list[TaskContainer]
    started_by: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    attachment: NetworkAttachment | None = None
    last_status: str = LastStatus.PROVISIONING
    desired_status: str = "RUNNING"
    health_status: str = "UNKNOWN"
    stop_code: str | None = None
    stopped_reason: str | None = None
    connectivity: str | None = None
    created_at: float = 0.0
    pull_started_at: float | None = None
    pull_stopped_at: float | None = None
    started_at: float | None = None
    connectivity_at: float | None = None
    stopping_at: float | None = None
    stopped_at: float | None = None
    execution_stopped_at: float | None = None
    version: int = 1
    availability_zone: str = ""
    capacity_provider_name: str | None = None
    platform_version: str | None = None
    platform_family: str | None = None
    enable_ecs_managed_tags: bool = False
    # Whether the agent has been handed this task (an undelivered task stops at once).
    delivered: bool = False
    # UpdateTaskProtection: a protected task is not stopped by a service's scale-in.
    protected_until: float | None = None

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def is_stopped(self) -> bool:
        return self.last_status == LastStatus.STOPPED

    def host_ports(self) -> set[tuple[int, str]]:
        """Host ports the task holds: its static mappings and the bindings the agent reported."""
        if self.spec.network_mode in (NetworkMode.AWSVPC, NetworkMode.NONE):
            return set()
        ports: set[tuple[int, str]] = set()
        host_mode = self.spec.network_mode == NetworkMode.HOST
        for c in self.spec.containers:
            for m in c.port_mappings:
                port = m.container_port if host_mode else m.host_port
                if port:
                    ports.add((port, m.protocol))
        for tc in self.containers:
            for b in tc.network_bindings:
                ports.add((b.host_port, b.protocol))
        return ports

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        data = dict(data)
        data["spec"] = TaskSpec.from_dict(data["spec"])
        data["containers"] = [TaskContainer.from_dict(c) for c in data["containers"]]
        if data.get("attachment"):
            data["attachment"] = NetworkAttachment(**data["attachment"])
        return cls(**data)
