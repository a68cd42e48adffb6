"""ECS tasks: creating and placing them, stopping them, applying what agents report, and
telling agents when their assignments changed."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from dockyard.core.ids import arn, arn_resource, is_arn, new_id, new_uuid
from dockyard.core.scope import Scope
from dockyard.core.taskspec import TaskStatus
from dockyard.placement import (
    Candidate,
    Placement,
    Strategy,
    TaskNeeds,
    check,
    place,
    place_many,
    task_needs,
)
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.events import EventLog
from dockyard.services.ecs.instances.domain import ContainerInstance, Instances
from dockyard.services.ecs.state import EcsDomain
from dockyard.services.ecs.tasks.launch import Launch
from dockyard.services.ecs.tasks.lifecycle import apply_report, request_stop
from dockyard.services.ecs.tasks.model import (
    PENDING_STATUSES,
    LastStatus,
    NetworkAttachment,
    Task,
    TaskContainer,
)
from dockyard.services.ecs.tasks.wire import state_change_event, task_to_wire
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

KIND = "ecs.task"
ZONE_ATTRIBUTE = "ecs.availability-zone"
NO_INSTANCES = "No Container Instances were found in your cluster."
# The host of a task waiting in PROVISIONING for capacity (a provider with managed scaling).
UNPLACED = ""
NO_MANAGED_CAPACITY = (
    "No FARGATE capacity is registered: Dockyard runs FARGATE tasks on the host of its "
    "embedded agent, and that agent is not running."
)


@dataclass(slots=True)
class Usage:
    """What the tasks placed on one instance (and not stopped) take from it."""

    cpu: int = 0
    memory: int = 0
    ports: set[tuple[int, str]] = field(default_factory=set)
    running: int = 0
    pending: int = 0
    count: int = 0


@dataclass(slots=True)
class TaskFilter:
    cluster_arn: str
    family: str | None = None
    group: str | None = None
    started_by: str | None = None
    desired_status: str | None = "RUNNING"
    host_arn: str | None = None
    launch_type: str | None = None

    def matches(self, task: Task) -> bool:
        return (
            task.cluster_arn == self.cluster_arn
            and (self.family is None or task.family == self.family)
            and (self.group is None or task.group == self.group)
            and (self.started_by is None or task.started_by == self.started_by)
            and (self.desired_status is None or task.desired_status == self.desired_status)
            and (self.host_arn is None or self._on_host(task))
            and (self.launch_type is None or task.launch_type == self.launch_type)
        )

    def _on_host(self, task: Task) -> bool:
        # FARGATE tasks run on managed capacity, not on a container instance of the cluster.
        return task.host_arn == self.host_arn and task.launch_type != "FARGATE"


def launch_scope(task: Task) -> Scope:
    parts = task.arn.split(":")
    return Scope(parts[4], parts[3])


def zone_of(instance: ContainerInstance) -> str:
    """The zone of an instance that registered none: the region's first."""
    return f"{instance.arn.split(':')[3]}a"


K = TypeVar("K")


def _unindex(index: dict[K, set[str]], key: K, task_arn: str) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(task_arn)
        if not members:
            del index[key]


def task_arn(scope: Scope, cluster: str, task_id: str) -> str:
    return arn("ecs", scope.region, scope.account_id, f"task/{cluster}/{task_id}")


def container_arn(scope: Scope, cluster: str, task_id: str) -> str:
    resource = f"container/{cluster}/{task_id}/{new_uuid()}"
    return arn("ecs", scope.region, scope.account_id, resource)


class Tasks(EcsDomain):
    def __init__(self, *args: Any, instances: Instances, events: EventLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instances = instances
        self.events = events
        self.by_arn: dict[str, Task] = {}
        self._active_on: dict[str, set[str]] = {}  # host ARN -> tasks not STOPPED there
        # A reconcile reads one service's tasks, ListTasks one cluster's: neither scans all.
        self._in_cluster: dict[str, set[str]] = {}  # cluster ARN -> its tasks
        self._in_group: dict[tuple[str, str], set[str]] = {}  # (cluster ARN, group) -> tasks
        self._changes: dict[str, int] = {}  # host ARN -> assignment change counter
        self._signals: dict[str, asyncio.Event] = {}
        # What the tasks waiting for capacity were launched with (placement rules); a task
        # whose launch is not here (after a restart) is placed by what its spec needs.
        self.waiting_launches: dict[str, Launch] = {}

    # -- state ----------------------------------------------------------------------------

    def load(self) -> None:
        self.by_arn = {}
        self._active_on = {}
        self._in_cluster = {}
        self._in_group = {}
        for key, body in self.store.load(KIND):
            try:
                self._index(Task.from_dict(body))
            except (KeyError, TypeError, ValueError):
                log.exception("skipping an unreadable task record", extra={"arn": key})

    def reset(self) -> None:
        self.by_arn.clear()
        self._active_on.clear()
        self._in_cluster.clear()
        self._in_group.clear()
        self.waiting_launches.clear()
        self.events.clear()
        for host in list(self._signals):
            self.notify(host)

    def _index(self, task: Task) -> None:
        self.by_arn[task.arn] = task
        self._in_cluster.setdefault(task.cluster_arn, set()).add(task.arn)
        self._in_group.setdefault((task.cluster_arn, task.group or ""), set()).add(task.arn)
        active = self._active_on.setdefault(task.host_arn, set())
        if task.is_stopped:
            active.discard(task.arn)
        else:
            active.add(task.arn)

    def forget(self, task_arn: str) -> bool:
        """Let a STOPPED task go, from memory and the store at once (as ECS lets stopped
        tasks go after a while). False for an unknown task or one not STOPPED."""
        task = self.by_arn.get(task_arn)
        if task is None or not task.is_stopped:
            return False
        self.store.delete(KIND, task_arn)
        del self.by_arn[task_arn]
        self.waiting_launches.pop(task_arn, None)
        _unindex(self._active_on, task.host_arn, task_arn)
        _unindex(self._in_cluster, task.cluster_arn, task_arn)
        _unindex(self._in_group, (task.cluster_arn, task.group or ""), task_arn)
        return True

    def save(self, task: Task, event: bool = False) -> None:
        put_record(self.store, KIND, task.arn, task, Task.from_dict)
        self._index(task)
        if event:
            self.events.append(
                state_change_event(
                    "ECS Task State Change", task.arn, task_to_wire(task), self.clock.now()
                )
            )

    # -- agents waiting for their assignments --------------------------------------------

    def notify(self, host_arn: str) -> None:
        """The assignments of `host_arn` changed: wake its agent."""
        self._changes[host_arn] = self._changes.get(host_arn, 0) + 1
        signal = self._signals.get(host_arn)
        if signal is not None:
            signal.set()

    def change_count(self, host_arn: str) -> int:
        return self._changes.get(host_arn, 0)

    async def wait_for_change(self, host_arn: str, seen: int, timeout: float) -> None:
        """Return once the assignments of `host_arn` changed after `seen`, or after `timeout`."""
        if self.change_count(host_arn) != seen or timeout <= 0:
            return
        signal = self._signals.setdefault(host_arn, asyncio.Event())
        signal.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await signal.wait()

    def assigned(self, host_arn: str) -> list[Task]:
        """Every task on `host_arn` not yet STOPPED, oldest first."""
        tasks = [self.by_arn[a] for a in self._active_on.get(host_arn, ())]
        return sorted(tasks, key=lambda t: (t.created_at, t.arn))

    def mark_delivered(self, tasks: list[Task]) -> None:
        for task in tasks:
            if not task.delivered:
                task.delivered = True
                self.save(task)

    # -- usage and placement ------------------------------------------------------------

    def usage(self, host_arn: str) -> Usage:
        usage = Usage()
        for task in self.assigned(host_arn):
            usage.cpu += task.cpu
            usage.memory += task.memory
            usage.ports |= task.host_ports()
            usage.count += 1
            if task.last_status == LastStatus.RUNNING:
                usage.running += 1
            elif task.last_status in PENDING_STATUSES:
                usage.pending += 1
        return usage

    def candidate(self, instance: ContainerInstance) -> Candidate:
        usage = Usage()
        groups: dict[str, int] = {}
        for task in self.assigned(instance.arn):
            usage.cpu += task.cpu
            usage.memory += task.memory
            usage.ports |= task.host_ports()
            usage.count += 1
            usage.running += task.last_status == LastStatus.RUNNING
            groups[task.group] = groups.get(task.group, 0) + 1
        reserved = {(p, "tcp") for p in instance.reserved_ports}
        reserved |= {(p, "udp") for p in instance.reserved_udp_ports}
        attributes = instance.attributes
        if ZONE_ATTRIBUTE not in attributes:
            attributes = {**attributes, ZONE_ATTRIBUTE: zone_of(instance)}
        return Candidate(
            id=instance.arn,
            cpu=instance.cpu - usage.cpu,
            memory=instance.memory - usage.memory,
            used_ports=frozenset(reserved | usage.ports),
            attributes=attributes,
            status=instance.status,
            agent_connected=instance.agent_connected,
            network_modes=instance.network_modes,
            task_count=usage.count,
            groups=groups,
            running=usage.running,
            ec2_instance_id=instance.ec2_instance_id,
            agent_version=instance.agent_version,
            registered_at=instance.registered_at,
        )

    def counts(self, cluster_arn: str) -> tuple[int, int]:
        """(running, pending) tasks of a cluster."""
        running = pending = 0
        for member in self._in_cluster.get(cluster_arn, ()):
            task = self.by_arn[member]
            if task.last_status == LastStatus.RUNNING:
                running += 1
            elif task.last_status in PENDING_STATUSES:
                pending += 1
        return running, pending

    def _pool(self, launch: Launch, wait: bool = False) -> list[ContainerInstance]:
        if launch.launch_type == "FARGATE":
            pool = self.instances.managed_capacity()
            if not pool:
                raise InvalidParameterException(NO_MANAGED_CAPACITY)
            return pool
        pool = self.instances.in_cluster(launch.cluster_arn, ("ACTIVE",))
        if launch.capacity_provider_name:  # the hosts that joined that capacity provider
            name = launch.capacity_provider_name
            pool = [i for i in pool if i.capacity_provider_name == name]
            if not pool and not wait:
                raise InvalidParameterException(
                    f"No Container Instances of capacity provider {name} are registered in "
                    "your cluster (dockyard agent --capacity-provider)."
                )
        if not pool and not wait:
            raise InvalidParameterException(NO_INSTANCES)
        return pool

    def run(
        self, launch: Launch, count: int, wait: bool = False
    ) -> tuple[list[Task], list[dict[str, Any]]]:
        """RunTask: place `count` tasks on the cluster's instances (FARGATE: managed capacity).
        With `wait` (a capacity provider with managed scaling) the tasks that fit nowhere
        are created unplaced and wait in PROVISIONING until capacity arrives."""
        candidates = [self.candidate(i) for i in self._pool(launch, wait)]
        placements = place_many(candidates, launch.needs, count, strategies=launch.strategies)
        if wait:
            placements = [p if p.chosen is not None else Placement(None, ()) for p in placements]
        return self._create_placed(launch, placements, wait)

    def start(
        self, launch: Launch, instances: list[ContainerInstance]
    ) -> tuple[list[Task], list[dict[str, Any]]]:
        """StartTask: one task on each named instance that can take it."""
        placements = []
        for instance in instances:
            c = self.candidate(instance)
            rejection = check(c, launch.needs)
            placements.append(
                Placement(c, ()) if rejection is None else Placement(None, (rejection,))
            )
        return self._create_placed(launch, placements)

    def _create_placed(
        self, launch: Launch, placements: list[Placement], wait: bool = False
    ) -> tuple[list[Task], list[dict[str, Any]]]:
        tasks: list[Task] = []
        failures: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for placement in placements:
            if placement.chosen is not None:
                tasks.append(self.create(launch, placement.chosen.id))
                continue
            if wait:
                task = self.create(launch, UNPLACED)
                self.waiting_launches[task.arn] = launch
                tasks.append(task)
                continue
            for r in placement.rejections:
                if (r.candidate_id, r.reason) not in seen:
                    seen.add((r.candidate_id, r.reason))
                    failures.append(
                        {"arn": r.candidate_id, "reason": str(r.reason), "detail": r.detail}
                    )
        return tasks, failures

    def create(self, launch: Launch, host_arn: str) -> Task:
        scope, now = launch.scope, self.clock.now()
        cluster = cluster_name(launch.cluster_arn)
        task_id = new_id()
        spec = copy.deepcopy(launch.spec)
        spec.task_arn = task_arn(scope, cluster, task_id)
        containers = [
            TaskContainer(
                name=c.name,
                arn=container_arn(scope, cluster, task_id),
                image=c.image,
                essential=c.essential,
                cpu=c.cpu,
                memory=c.memory,
                memory_reservation=c.memory_reservation,
            )
            for c in spec.containers
        ]
        attachment = None
        if launch.network is not None:
            attachment = NetworkAttachment(
                id=new_uuid(),
                subnet_id=launch.network.subnets[0],
                eni_id="eni-" + secrets.token_hex(9)[:17],
                mac_address="02:" + ":".join(secrets.token_hex(1) for _ in range(5)),
                security_groups=list(launch.network.security_groups),
            )
        fargate = launch.launch_type == "FARGATE"
        task = Task(
            arn=spec.task_arn,
            cluster_arn=launch.cluster_arn,
            task_definition_arn=launch.task_definition_arn,
            spec=spec,
            host_arn=host_arn,
            launch_type=launch.launch_type,
            cpu=launch.needs.cpu,
            memory=launch.needs.memory,
            group=launch.group,
            containers=containers,
            started_by=launch.started_by,
            tags=dict(launch.tags),
            overrides=copy.deepcopy(launch.overrides),
            attachment=attachment,
            created_at=now,
            availability_zone=self._zone(host_arn, scope),
            capacity_provider_name=launch.capacity_provider_name,
            platform_version="1.4.0" if fargate else None,
            platform_family="Linux" if fargate else None,
            enable_ecs_managed_tags=launch.enable_ecs_managed_tags,
        )
        self.save(task, event=True)
        if host_arn == UNPLACED:
            log.info("task %s waits for capacity", task.arn, extra={"arn": task.arn})
            return task
        self.notify(host_arn)
        log.info("task %s placed on %s", task.arn, host_arn, extra={"arn": task.arn})
        return task

    # -- tasks waiting in PROVISIONING for capacity ---------------------------------------

    def waiting(self, cluster_arn: str) -> list[Task]:
        """The cluster's tasks waiting for capacity, oldest first."""
        found = [
            self.by_arn[a]
            for a in self._in_cluster.get(cluster_arn, ())
            if self.by_arn[a].host_arn == UNPLACED and not self.by_arn[a].is_stopped
        ]
        return sorted(found, key=lambda t: (t.created_at, t.arn))

    def needs_of(self, task: Task) -> tuple[TaskNeeds, tuple[Strategy, ...]]:
        """What a waiting task needs from a host, and its placement strategy."""
        launch = self.waiting_launches.get(task.arn)
        if launch is not None:
            return launch.needs, launch.strategies
        return replace(task_needs(task.spec), group=task.group), ()

    def place_waiting(self, cluster_arn: str, provider: str,
                      pool: list[ContainerInstance]) -> list[Task]:  # fmt: skip
        """Place the waiting tasks of `provider` in the cluster on `pool` (its ACTIVE
        instances), oldest first; those that fit nowhere keep waiting. The tasks placed."""
        placed: list[Task] = []
        candidates = {i.arn: self.candidate(i) for i in pool}
        for task in self.waiting(cluster_arn):
            if task.capacity_provider_name != provider or not candidates:
                continue
            needs, strategies = self.needs_of(task)
            chosen = place(list(candidates.values()), needs, strategies=strategies).chosen
            if chosen is None:
                continue
            task.host_arn = chosen.id
            task.availability_zone = self._zone(chosen.id, launch_scope(task))
            task.version += 1
            _unindex(self._active_on, UNPLACED, task.arn)
            self.save(task, event=True)
            self.waiting_launches.pop(task.arn, None)
            candidates[chosen.id] = chosen.take(needs)
            self.notify(chosen.id)
            log.info("task %s placed on %s", task.arn, chosen.id, extra={"arn": task.arn})
            placed.append(task)
        return placed

    def _zone(self, host_arn: str, scope: Scope) -> str:
        instance = self.instances.by_arn.get(host_arn)
        if instance is None:
            return f"{scope.region}a"
        return instance.attributes.get(ZONE_ATTRIBUTE) or zone_of(instance)

    # -- lookups --------------------------------------------------------------------------

    def arn_for(self, scope: Scope, cluster_arn: str, ref: str) -> str:
        if is_arn(ref):
            parts = ref.split(":")
            if len(parts) != 6 or parts[2] != "ecs" or not parts[5].startswith("task/"):
                raise InvalidParameterException(f"Invalid task ARN: {ref}")
            return ref
        return task_arn(scope, cluster_name(cluster_arn), ref)

    def find(self, scope: Scope, cluster_arn: str, ref: str) -> Task | None:
        """The task `ref` (an id or an ARN, long or short format) names in the cluster."""
        task = self.by_arn.get(self.arn_for(scope, cluster_arn, ref))
        if task is None and is_arn(ref):
            short_id = arn_resource(ref).rsplit("/", 1)[-1]
            task = self.by_arn.get(task_arn(scope, cluster_name(cluster_arn), short_id))
        if task is None or task.cluster_arn != cluster_arn:
            return None
        return task

    def list(self, where: TaskFilter) -> list[Task]:
        if where.group is not None:
            arns = self._in_group.get((where.cluster_arn, where.group), set())
        else:
            arns = self._in_cluster.get(where.cluster_arn, set())
        tasks = (self.by_arn[a] for a in sorted(arns))
        return [t for t in tasks if where.matches(t)]

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self, task: Task, stop_code: str, reason: str | None) -> Task:
        if request_stop(task, stop_code, reason, self.clock.now()):
            self.save(task, event=True)
            self.notify(task.host_arn)
            log.info("task %s stopping (%s)", task.arn, stop_code, extra={"arn": task.arn})
        return task

    def apply(self, host_arn: str, report: TaskStatus) -> Task | None:
        """Apply an agent's report on one of the tasks placed on its host."""
        task = self.by_arn.get(report.task_arn)
        if task is None or task.host_arn != host_arn:
            log.warning(
                "ignoring a report from %s on task %s, which is not placed there",
                host_arn,
                report.task_arn,
                extra={"arn": report.task_arn},
            )
            return None
        changed, event = apply_report(task, report, self.clock.now())
        if changed:
            self.save(task, event=event)
            if task.is_stopped:
                log.info("task %s stopped (%s)", task.arn, task.stop_code, extra={"arn": task.arn})
        return task
