"""Container resource usage the agents measure and push to the server.

An agent samples each running container (cgroup CPU accounting and memory usage for the
process driver, Docker stats for the docker driver) and reports what a task used; the server
turns that into the `AWS/ECS` CPUUtilization and MemoryUtilization metrics.

A link that can carry stats implements `StatsLink` besides `ServerLink`; the agent only
reports stats through a link that does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(slots=True)
class ContainerStats:
    task_arn: str
    container_name: str
    cpu_units: float  # CPU used since the previous sample, in CPU units (1024 per core)
    memory_mib: float  # memory in use now (without the reclaimable page cache)
    timestamp: float  # clock time of the sample

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerStats:
        return cls(
            task_arn=str(data["task_arn"]),
            container_name=str(data["container_name"]),
            cpu_units=float(data["cpu_units"]),
            memory_mib=float(data["memory_mib"]),
            timestamp=float(data["timestamp"]),
        )


@runtime_checkable
class StatsLink(Protocol):
    async def report_stats(self, instance_arn: str, stats: list[ContainerStats]) -> None:
        """What the containers on `instance_arn` used since the previous report."""
        ...
