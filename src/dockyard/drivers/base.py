"""What the agent asks of a container runtime: the `Driver` protocol and its vocabulary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.core.taskspec import ContainerSpec, NetworkBinding, NetworkMode, TaskSpec

OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"


class DriverError(Exception):
    """A runtime failure with the reason ECS would report (`CannotPullContainerError: ...`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Capabilities:
    name: str  # "process" | "docker"
    network_modes: list[NetworkMode]
    cgroups: bool
    netns: bool
    engine_health: bool  # the runtime itself runs container health checks
    attributes: dict[str, str | None] = field(default_factory=dict)  # advertised as ECS attrs


@dataclass(slots=True)
class TaskNetwork:
    task_arn: str
    mode: NetworkMode
    ip_address: str | None = None  # the task's own address (awsvpc, bridge)
    netns: str | None = None  # path of the network namespace (process driver)


@dataclass(slots=True)
class StartedContainer:
    runtime_id: str
    network_bindings: list[NetworkBinding] = field(default_factory=list)
    ip_address: str | None = None


@dataclass(slots=True)
class ExitInfo:
    exit_code: int | None
    reason: str | None = None
    oom: bool = False


@dataclass(slots=True)
class LogLine:
    timestamp_ms: int
    stream: str  # "stdout" | "stderr"
    message: str
    cursor: int  # opaque position after this line; pass back to `logs(since=...)`


@dataclass(slots=True)
class AdoptedContainer:
    """A container found on the host that a previous agent started."""

    runtime_id: str
    task_arn: str
    container_name: str
    running: bool
    exit: ExitInfo | None = None  # set when not running
    network_bindings: list[NetworkBinding] = field(default_factory=list)


class Driver(Protocol):
    def capabilities(self) -> Capabilities: ...

    async def prepare_task(self, spec: TaskSpec) -> TaskNetwork:
        """Create the task's network (namespace, address). Idempotent per task."""
        ...

    async def ensure_image(self, spec: TaskSpec, container: ContainerSpec) -> None:
        """Make the image available; raises DriverError(`CannotPullContainerError: ...`)."""
        ...

    async def start_container(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> StartedContainer:
        """Start one container; raises DriverError with the reason when it cannot."""
        ...

    async def wait(self, runtime_id: str) -> ExitInfo:
        """Return once the container has exited."""
        ...

    async def stop(self, runtime_id: str, timeout: float) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns when it has exited."""
        ...

    async def exec_health_check(self, runtime_id: str, command: list[str], timeout: float) -> bool:
        """Run a health check command (CMD / CMD-SHELL form) in the container's context."""
        ...

    async def engine_health(self, runtime_id: str) -> str:
        """HEALTHY | UNHEALTHY | UNKNOWN as the runtime sees it (when engine_health)."""
        ...

    def logs(self, runtime_id: str, since: int = 0) -> AsyncIterator[LogLine]:
        """Lines of stdout/stderr from cursor `since`, following until the container ends."""
        ...

    async def remove_container(self, runtime_id: str) -> None:
        """Forget a stopped container and its files."""
        ...

    async def cleanup_task(self, task_arn: str) -> None:
        """Tear down the task's network (namespace, address, published ports)."""
        ...

    async def adopt(self) -> list[AdoptedContainer]:
        """Containers started by an earlier agent on this host, re-attached."""
        ...

    async def close(self) -> None:
        """Release agent-side resources (proxies, clients); containers keep running."""
        ...


@dataclass(slots=True)
class Usage:
    """A container's resource usage as the runtime counts it, at one moment."""

    cpu_ns: int  # CPU time used since the container started (nanoseconds, every core)
    memory_bytes: int  # memory in use now, without reclaimable page cache
    measured_at: float  # time.monotonic() of the reading (wall time, not the task clock)


class UsageDriver(Protocol):
    """A driver that can measure its containers (both built-in drivers can)."""

    async def usage(self, runtime_id: str) -> Usage | None:
        """The container's usage now; None when it is not running or cannot be measured."""
        ...
