"""What ECS lets go, decided purely: records and the time in, the ARNs to forget out.

ECS keeps what is finished only for a while: stopped tasks (at least an hour), deleted
(INACTIVE) services, deregistered (INACTIVE) container instances, and task definition
revisions being deleted (DELETE_IN_PROGRESS, until nothing active references them). The
figures are in `Policy`; docs/retention.md says where each comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

HOUR = 3600.0
BATCH = 500  # records let go per sweep at most (each is a store write on the event loop)


@dataclass(frozen=True, slots=True)
class Policy:
    """How long (clock seconds) each kind is kept after it entered its final state."""

    stopped_task: float = HOUR
    inactive_service: float = HOUR
    deregistered_instance: float = HOUR
    deleting_taskdef: float = HOUR  # and only once nothing references the revision
    batch: int = BATCH


@dataclass(frozen=True, slots=True)
class Finished:
    """A record in its final state, since `since` (None: not known, kept)."""

    arn: str
    since: float | None


@dataclass(frozen=True, slots=True)
class Host:
    """A deregistered container instance."""

    arn: str
    since: float | None  # deregistered at
    assigned_tasks: int  # tasks not yet STOPPED still placed there
    last_contact: float | None  # its agent's last call (a deregistered agent still polls)


@dataclass(frozen=True, slots=True)
class Observed:
    stopped_tasks: Sequence[Finished] = ()
    inactive_services: Sequence[Finished] = ()
    deregistered_instances: Sequence[Host] = ()
    deleting_taskdefs: Sequence[Finished] = ()  # since: deleteRequestedAt
    # Revisions an active task, a live deployment, a task set or a service not INACTIVE uses.
    taskdefs_in_use: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    tasks: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    taskdefs: tuple[str, ...] = ()
    more: bool = False  # the batch was full: more is due now

    @property
    def total(self) -> int:
        return len(self.tasks) + len(self.services) + len(self.instances) + len(self.taskdefs)


def _due(records: Sequence[Finished], now: float, keep: float) -> list[Finished]:
    due = [r for r in records if r.since is not None and now - r.since >= keep]
    return sorted(due, key=lambda r: (r.since, r.arn))


def plan(observed: Observed, now: float, policy: Policy = Policy()) -> RetentionPlan:
    tasks = _due(observed.stopped_tasks, now, policy.stopped_task)
    services = _due(observed.inactive_services, now, policy.inactive_service)
    hosts = [
        Finished(h.arn, h.since if h.last_contact is None else max(h.since, h.last_contact))
        for h in observed.deregistered_instances
        if h.since is not None and h.assigned_tasks == 0
    ]
    instances = _due(hosts, now, policy.deregistered_instance)
    unused = [r for r in observed.deleting_taskdefs if r.arn not in observed.taskdefs_in_use]
    taskdefs = _due(unused, now, policy.deleting_taskdef)

    room = max(policy.batch, 1)

    def take(due: list[Finished]) -> tuple[str, ...]:
        nonlocal room
        taken = tuple(r.arn for r in due[:room])
        room -= len(taken)
        return taken

    decided = RetentionPlan(take(tasks), take(services), take(instances), take(taskdefs))
    if len(tasks) + len(services) + len(instances) + len(taskdefs) > decided.total:
        decided = replace(decided, more=True)
    return decided
