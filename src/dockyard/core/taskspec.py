"""What the server tells an agent to run, and what the agent reports back.

These types are the vocabulary shared by the server (services/ecs) and agents (agent/,
drivers/). They cross the wire to remote agents as JSON (`to_dict` / `from_dict`), so they
hold plain values only. Times are epoch seconds from `core.clock`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class NetworkMode(StrEnum):
    AWSVPC = "awsvpc"
    BRIDGE = "bridge"
    HOST = "host"
    NONE = "none"


class DependencyCondition(StrEnum):
    START = "START"
    COMPLETE = "COMPLETE"
    SUCCESS = "SUCCESS"
    HEALTHY = "HEALTHY"


@dataclass(slots=True)
class PortMapping:
    container_port: int
    host_port: int | None = None  # None or 0: dynamic (bridge); equals container_port otherwise
    protocol: str = "tcp"


@dataclass(slots=True)
class HealthCheckSpec:
    command: list[str]  # as in the task definition: ["CMD-SHELL", "..."] or ["CMD", ...]
    interval: int = 30
    timeout: int = 5
    retries: int = 3
    start_period: int = 0


@dataclass(slots=True)
class Dependency:
    container_name: str
    condition: DependencyCondition


@dataclass(slots=True)
class LogSpec:
    driver: str  # "awslogs", ...
    options: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ContainerSpec:
    name: str
    image: str
    essential: bool = True
    entry_point: list[str] | None = None
    command: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    environment_files: list[str] = field(default_factory=list)  # local paths
    # environment variable name -> valueFrom (an SSM parameter or a Secrets Manager secret);
    # the server resolves them into `environment` in the copy it hands the agent
    secrets: dict[str, str] = field(default_factory=dict)
    working_directory: str | None = None
    user: str | None = None
    cpu: int = 0  # CPU units (1024 per core)
    memory: int | None = None  # hard limit, MiB
    memory_reservation: int | None = None  # soft limit, MiB
    port_mappings: list[PortMapping] = field(default_factory=list)
    health_check: HealthCheckSpec | None = None
    depends_on: list[Dependency] = field(default_factory=list)
    stop_timeout: int = 30  # seconds between SIGTERM and SIGKILL
    log: LogSpec | None = None
    privileged: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class TaskSpec:
    task_arn: str
    cluster_arn: str
    family: str
    revision: int
    network_mode: NetworkMode
    containers: list[ContainerSpec]
    launch_type: str = "EC2"
    cpu: int | None = None  # task-level CPU units
    memory: int | None = None  # task-level MiB
    account_id: str = ""
    region: str = ""

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSpec:
        containers = []
        for c in data["containers"]:
            c = dict(c)
            c["port_mappings"] = [PortMapping(**p) for p in c.get("port_mappings", [])]
            hc = c.get("health_check")
            c["health_check"] = HealthCheckSpec(**hc) if hc else None
            c["depends_on"] = [
                Dependency(d["container_name"], DependencyCondition(d["condition"]))
                for d in c.get("depends_on", [])
            ]
            log = c.get("log")
            c["log"] = LogSpec(**log) if log else None
            containers.append(ContainerSpec(**c))
        rest = {k: v for k, v in data.items() if k != "containers"}
        rest["network_mode"] = NetworkMode(rest["network_mode"])
        return cls(containers=containers, **rest)


class DesiredStatus(StrEnum):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


@dataclass(slots=True)
class Assignment:
    """One task the server wants on an agent's host, in the state it wants it."""

    spec: TaskSpec
    desired_status: DesiredStatus
    stop_code: str | None = None  # why the server wants it stopped (UserInitiated, ...)
    stopped_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "desired_status": str(self.desired_status),
            "stop_code": self.stop_code,
            "stopped_reason": self.stopped_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assignment:
        return cls(
            spec=TaskSpec.from_dict(data["spec"]),
            desired_status=DesiredStatus(data["desired_status"]),
            stop_code=data.get("stop_code"),
            stopped_reason=data.get("stopped_reason"),
        )


@dataclass(slots=True)
class NetworkBinding:
    container_port: int
    host_port: int
    bind_ip: str = "0.0.0.0"
    protocol: str = "tcp"


@dataclass(slots=True)
class ContainerStatus:
    """As the agent observed it. `status` is PENDING, RUNNING or STOPPED."""

    name: str
    status: str = "PENDING"
    runtime_id: str | None = None
    exit_code: int | None = None
    reason: str | None = None  # e.g. "OutOfMemoryError: Container killed due to memory usage"
    health_status: str = "UNKNOWN"  # HEALTHY | UNHEALTHY | UNKNOWN
    network_bindings: list[NetworkBinding] = field(default_factory=list)
    started_at: float | None = None
    stopped_at: float | None = None


@dataclass(slots=True)
class TaskStatus:
    """An agent's report on one task.

    `status` is the task's last status as the agent sees it: PENDING (pulling, preparing
    the network, starting containers), RUNNING (every essential container started),
    STOPPED (every container stopped and the network torn down).
    """

    task_arn: str
    status: str
    containers: list[ContainerStatus] = field(default_factory=list)
    ip_address: str | None = None  # the task's own address (awsvpc)
    health_status: str = "UNKNOWN"
    stop_code: str | None = None  # TaskFailedToStart, EssentialContainerExited, ...
    stopped_reason: str | None = None
    pull_started_at: float | None = None
    pull_stopped_at: float | None = None
    started_at: float | None = None
    execution_stopped_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskStatus:
        data = dict(data)
        data["containers"] = [
            ContainerStatus(
                **{
                    **c,
                    "network_bindings": [
                        NetworkBinding(**b) for b in c.get("network_bindings", [])
                    ],
                }
            )
            for c in data.get("containers", [])
        ]
        return cls(**data)
