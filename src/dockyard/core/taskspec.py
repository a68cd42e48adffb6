"""What the server tells an agent to run, and what the agent reports back.

These types are the vocabulary shared by the server (services/ecs) and agents (agent/,
drivers/). They cross the wire to remote agents as JSON (`to_dict` / `from_dict`), so they
hold plain values only. Times are epoch seconds from `core.clock`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.registryauth import RegistryAuth


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


class VolumeKind(StrEnum):
    HOST = "host"  # host.sourcePath: a directory of the host
    TASK = "task"  # no host: an empty directory the runtime creates and removes with the task
    DOCKER = "docker"  # dockerVolumeConfiguration: a Docker volume


@dataclass(slots=True)
class VolumeSpec:
    name: str
    kind: VolumeKind
    source_path: str | None = None  # HOST
    scope: str = "task"  # DOCKER: task (removed with the task) | shared
    autoprovision: bool = False  # DOCKER, shared scope: create it when missing
    driver: str = "local"
    driver_opts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class MountPoint:
    source_volume: str
    container_path: str
    read_only: bool = False


@dataclass(slots=True)
class VolumeFrom:
    source_container: str
    read_only: bool = False


@dataclass(slots=True)
class Ulimit:
    name: str  # core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, ...
    soft: int
    hard: int


@dataclass(slots=True)
class Tmpfs:
    container_path: str
    size: int  # MiB
    mount_options: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Device:
    host_path: str
    container_path: str | None = None
    permissions: list[str] = field(default_factory=list)  # read, write, mknod


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
    # repositoryCredentials.credentialsParameter (a Secrets Manager secret ARN), and the
    # credentials the server puts in the copy it hands the agent (never stored)
    repository_credentials: str | None = None
    registry_auth: RegistryAuth | None = None
    working_directory: str | None = None
    user: str | None = None
    cpu: int = 0  # CPU units (1024 per core)
    memory: int | None = None  # hard limit, MiB
    memory_reservation: int | None = None  # soft limit, MiB
    port_mappings: list[PortMapping] = field(default_factory=list)
    health_check: HealthCheckSpec | None = None
    depends_on: list[Dependency] = field(default_factory=list)
    stop_timeout: int = 30  # seconds between SIGTERM and SIGKILL
    # seconds the containers depending on this one wait for it to reach their condition
    start_timeout: int | None = None
    log: LogSpec | None = None
    privileged: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    mount_points: list[MountPoint] = field(default_factory=list)
    volumes_from: list[VolumeFrom] = field(default_factory=list)
    ulimits: list[Ulimit] = field(default_factory=list)
    hostname: str | None = None
    extra_hosts: list[tuple[str, str]] = field(default_factory=list)  # (hostname, address)
    dns_servers: list[str] = field(default_factory=list)
    dns_search_domains: list[str] = field(default_factory=list)
    readonly_root_filesystem: bool = False
    interactive: bool = False
    pseudo_terminal: bool = False
    disable_networking: bool = False
    system_controls: dict[str, str] = field(default_factory=dict)
    security_options: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    # linuxParameters
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    init_process_enabled: bool = False
    shared_memory_size: int | None = None  # MiB
    tmpfs: list[Tmpfs] = field(default_factory=list)
    max_swap: int | None = None  # MiB
    swappiness: int | None = None


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
    volumes: list[VolumeSpec] = field(default_factory=list)
    pid_mode: str | None = None  # host | task
    ipc_mode: str | None = None  # host | task | none
    # IAM roles: the task's own (its containers' credentials) and the one the agent acts as
    # for the task (secrets, logs, image pulls).
    task_role_arn: str | None = None
    execution_role_arn: str | None = None

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    def volume(self, name: str) -> VolumeSpec | None:
        return next((v for v in self.volumes if v.name == name), None)

    def mounts_of(self, container: ContainerSpec) -> list[MountPoint]:
        """The container's own mount points, then those it takes from other containers
        (volumesFrom, transitively, read-only when the volumesFrom entry says so)."""
        by_name = {c.name: c for c in self.containers}
        result: list[MountPoint] = []
        seen: set[str] = set()

        def visit(c: ContainerSpec, read_only: bool) -> None:
            if c.name in seen:
                return
            seen.add(c.name)
            taken = {m.container_path for m in result}
            for m in c.mount_points:
                if m.container_path not in taken:
                    result.append(MountPoint(m.source_volume, m.container_path,
                                             m.read_only or read_only))  # fmt: skip
            for vf in c.volumes_from:
                source = by_name.get(vf.source_container)
                if source is not None:
                    visit(source, read_only or vf.read_only)

        visit(container, False)
        return result

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
            c["mount_points"] = [MountPoint(**m) for m in c.get("mount_points", [])]
            c["volumes_from"] = [VolumeFrom(**v) for v in c.get("volumes_from", [])]
            c["ulimits"] = [Ulimit(**u) for u in c.get("ulimits", [])]
            c["extra_hosts"] = [(str(h), str(a)) for h, a in c.get("extra_hosts", [])]
            c["tmpfs"] = [Tmpfs(**t) for t in c.get("tmpfs", [])]
            c["devices"] = [Device(**d) for d in c.get("devices", [])]
            auth = c.get("registry_auth")
            c["registry_auth"] = RegistryAuth(**auth) if auth else None
            containers.append(ContainerSpec(**c))
        rest = {k: v for k, v in data.items() if k != "containers"}
        rest["network_mode"] = NetworkMode(rest["network_mode"])
        rest["volumes"] = [
            VolumeSpec(**{**v, "kind": VolumeKind(v["kind"])}) for v in rest.get("volumes", [])
        ]
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


# Container instance attributes (beyond ECS's own) naming what a runtime can honour. A task
# that uses a member needs the attribute, so a host whose driver cannot honour it is not a
# placement candidate (ATTRIBUTE failure) rather than running the task without it.
FEATURE_PREFIX = "dockyard.capability."
FEATURES = (
    "mountPoints",
    "volumesFrom",
    "ulimits",
    "hostname",
    "extraHosts",
    "dnsServers",
    "dnsSearchDomains",
    "readonlyRootFilesystem",
    "interactive",
    "pseudoTerminal",
    "disableNetworking",
    "systemControls",
    "dockerSecurityOptions",
    "links",
    "linuxParameters.capabilities",
    "linuxParameters.devices",
    "linuxParameters.initProcessEnabled",
    "linuxParameters.sharedMemorySize",
    "linuxParameters.tmpfs",
    "linuxParameters.maxSwap",
    "linuxParameters.swappiness",
    "pidMode",
    "ipcMode",
)


def features(spec: TaskSpec) -> list[str]:
    """The FEATURES a task uses, in FEATURES order."""
    used: set[str] = set()
    if spec.pid_mode:
        used.add("pidMode")
    if spec.ipc_mode:
        used.add("ipcMode")
    for c in spec.containers:
        flags = {
            "mountPoints": bool(c.mount_points),
            "volumesFrom": bool(c.volumes_from),
            "ulimits": bool(c.ulimits),
            "hostname": c.hostname is not None,
            "extraHosts": bool(c.extra_hosts),
            "dnsServers": bool(c.dns_servers),
            "dnsSearchDomains": bool(c.dns_search_domains),
            "readonlyRootFilesystem": c.readonly_root_filesystem,
            "interactive": c.interactive,
            "pseudoTerminal": c.pseudo_terminal,
            "disableNetworking": c.disable_networking,
            "systemControls": bool(c.system_controls),
            "dockerSecurityOptions": bool(c.security_options),
            "links": bool(c.links),
            "linuxParameters.capabilities": bool(c.cap_add or c.cap_drop),
            "linuxParameters.devices": bool(c.devices),
            "linuxParameters.initProcessEnabled": c.init_process_enabled,
            "linuxParameters.sharedMemorySize": c.shared_memory_size is not None,
            "linuxParameters.tmpfs": bool(c.tmpfs),
            "linuxParameters.maxSwap": c.max_swap is not None,
            "linuxParameters.swappiness": c.swappiness is not None,
        }
        used.update(name for name, on in flags.items() if on)
    return [name for name in FEATURES if name in used]
