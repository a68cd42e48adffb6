"""What placement decides over: candidate instances, a task's needs, and why a candidate failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from dockyard.placement.expressions import FactValue
from dockyard.placement.rules import Constraint

# (port, protocol), protocol "tcp" or "udp"
Port = tuple[int, str]


class Reason(StrEnum):
    """ECS's failure reasons for a container instance that cannot take a task."""

    CPU = "RESOURCE:CPU"
    MEMORY = "RESOURCE:MEMORY"
    PORTS = "RESOURCE:PORTS"
    ATTRIBUTE = "ATTRIBUTE"
    AGENT = "AGENT"
    MISSING = "MISSING"
    INACTIVE = "INACTIVE"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A container instance as placement sees it: what it has left, not what it registered."""

    id: str  # the container instance ARN
    cpu: int  # remaining CPU units
    memory: int  # remaining MiB
    used_ports: frozenset[Port] = frozenset()
    attributes: Mapping[str, str | None] = field(default_factory=dict)
    status: str = "ACTIVE"
    agent_connected: bool = True
    # None: every network mode; otherwise the modes this host can give a task.
    network_modes: frozenset[str] | None = None
    task_count: int = 0  # tasks placed there and not stopped
    groups: Mapping[str, int] = field(default_factory=dict)  # task group -> tasks not stopped
    running: int = 0  # tasks RUNNING there (the query language's runningTasksCount)
    ec2_instance_id: str = ""
    agent_version: str = ""
    registered_at: float = 0.0

    def take(self, needs: TaskNeeds) -> Candidate:
        """The candidate after `needs` is placed on it."""
        groups = dict(self.groups)
        groups[needs.group] = groups.get(needs.group, 0) + 1
        return replace(
            self,
            cpu=self.cpu - needs.cpu,
            memory=self.memory - needs.memory,
            used_ports=self.used_ports | frozenset(needs.ports),
            task_count=self.task_count + 1,
            groups=groups,
        )

    def facts(self) -> dict[str, FactValue]:
        """What the cluster query language can ask about this instance."""
        result: dict[str, FactValue] = {f"attribute:{k}": v for k, v in self.attributes.items()}
        result.update(self.static_facts())
        result["agentConnected"] = "true" if self.agent_connected else "false"
        result["runningTasksCount"] = str(self.running)
        groups = frozenset(g for g, n in self.groups.items() if n > 0)
        if groups:
            result["task:group"] = groups
        return result

    def static_facts(self) -> dict[str, FactValue]:
        result: dict[str, FactValue] = {"registeredAt": repr(self.registered_at)}
        if self.ec2_instance_id:
            result["ec2InstanceId"] = self.ec2_instance_id
        if self.agent_version:
            result["agentVersion"] = self.agent_version
        return result


@dataclass(frozen=True, slots=True)
class Requirement:
    """An attribute a host must have: `name` present, and equal to `value` when given."""

    name: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class TaskNeeds:
    cpu: int
    memory: int
    ports: tuple[Port, ...] = ()  # host ports the task binds (static ones only)
    network_mode: str = "bridge"
    requirements: tuple[Requirement, ...] = ()
    group: str = ""  # the task group (`service:NAME`, `family:NAME` or the RunTask group)
    constraints: tuple[Constraint, ...] = ()  # placement constraints, binding


@dataclass(frozen=True, slots=True)
class Rejection:
    candidate_id: str
    reason: Reason
    detail: str
    stage: int  # how far along the filter chain the candidate got (higher: closer to fitting)


@dataclass(frozen=True, slots=True)
class Placement:
    """The chosen candidate, or none; and every candidate that could not take the task."""

    chosen: Candidate | None
    rejections: tuple[Rejection, ...] = ()

    @property
    def reason(self) -> Reason | None:
        """The most relevant rejection reason: that of the candidate that came closest."""
        if self.chosen is not None or not self.rejections:
            return None
        return max(self.rejections, key=lambda r: r.stage).reason
