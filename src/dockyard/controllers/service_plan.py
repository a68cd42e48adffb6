"""The service scheduler's decisions, as a pure function: what the service wants and what is
observed in, what to start, stop, register and report out.

The rules are ECS's rolling update rules:
- `minimumHealthyPercent` of the desired count (rounded up) must stay healthy: a task is
  healthy when it is RUNNING, its essential containers with health checks are HEALTHY and, with
  load balancers, its targets are `healthy`;
- at most `maximumPercent` of the desired count (rounded down) tasks may exist (not STOPPED;
  STOPPING and draining tasks count);
- tasks of older deployments and tasks on DRAINING container instances are replaced by tasks
  of the PRIMARY deployment within those limits;
- a task that turns unhealthy after `healthCheckGracePeriodSeconds` is stopped and replaced;
- the deployment circuit breaker trips when failed tasks reach 0.5 x desired (3 to 200).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from dockyard.services.ecs.deployments.model import RolloutState
from dockyard.services.ecs.instances.domain import InstanceStatus

RUNNING = "RUNNING"
PENDING_STATUSES = ("PROVISIONING", "PENDING", "ACTIVATING")
STOPPED = "STOPPED"

# Why the scheduler stops a task; failures count towards the circuit breaker.
REASON_SCALE = "Scaling activity initiated by (deployment {deployment})"
REASON_CONTAINER_HEALTH = "Task failed container health checks"
REASON_ELB_HEALTH = "Task failed ELB health checks"
REASON_DRAINING = "Container instance is being drained"
FAILURE_PREFIX = "Task failed"
UNCHECKED_SETTLE = 40.0
# A deployment whose tasks keep failing starts new ones less and less often.
THROTTLE_AFTER = 3
THROTTLE_BASE = 5.0
THROTTLE_MAX = 300.0
RECHECK = 1.0  # seconds between looks at a service that is not steady


@dataclass(frozen=True, slots=True)
class TaskView:
    arn: str
    deployment_id: str | None
    host_arn: str
    last_status: str
    desired_status: str = RUNNING
    health: str = "UNKNOWN"  # the task's container health (HEALTHY/UNHEALTHY/UNKNOWN)
    has_health_check: bool = False
    started_at: float | None = None
    created_at: float = 0.0
    protected_until: float | None = None
    # None: no load balancer; else the worst target health over the service's target groups.
    target_health: str | None = None
    draining_lb: bool = False  # deregistered, waiting for draining to end
    lb_registered: bool = False  # registered in its target groups once already
    failed: bool = False  # stopped (or stopping) as a failure
    stopped_at: float | None = None

    @property
    def stopped(self) -> bool:
        return self.last_status == STOPPED

    @property
    def live(self) -> bool:
        """Wanted running, and not being drained from its load balancers."""
        return self.desired_status == RUNNING and not self.stopped and not self.draining_lb


@dataclass(frozen=True, slots=True)
class DeploymentView:
    id: str
    primary: bool
    rollout_state: str = "IN_PROGRESS"
    desired_count: int = 0


@dataclass(frozen=True, slots=True)
class HostView:
    arn: str
    status: str = "ACTIVE"  # ACTIVE | DRAINING | ...
    connected: bool = True
    # DAEMON: the host satisfies the service's memberOf placement constraints.
    eligible: bool = True


@dataclass(frozen=True, slots=True)
class Desired:
    name: str
    desired_count: int
    deployments: tuple[DeploymentView, ...]  # PRIMARY first
    min_percent: int = 100
    max_percent: int = 200
    daemon: bool = False
    circuit_breaker: bool = False
    rollback: bool = False
    can_roll_back: bool = False  # a COMPLETED deployment exists to go back to
    grace_period: float = 0.0
    # A task with no health check (and no load balancer) counts as healthy once it has been
    # RUNNING this long (ECS waits 40 seconds).
    settle: float = UNCHECKED_SETTLE
    load_balanced: bool = False
    active: bool = True  # False once the service is being deleted
    was_steady: bool = False


@dataclass(frozen=True, slots=True)
class Observed:
    tasks: tuple[TaskView, ...]
    hosts: tuple[HostView, ...] = ()


@dataclass(frozen=True, slots=True)
class Start:
    deployment_id: str
    count: int
    host_arn: str | None = None  # DAEMON: this instance


@dataclass(frozen=True, slots=True)
class Stop:
    task_arn: str
    reason: str
    failure: bool = False


@dataclass(slots=True)
class DeploymentCounts:
    running: int = 0
    pending: int = 0
    failed: int = 0


@dataclass(slots=True)
class Plan:
    start: list[Start] = field(default_factory=list)
    stop: list[Stop] = field(default_factory=list)
    deregister: list[str] = field(default_factory=list)  # load-balanced tasks to drain first
    register: list[str] = field(default_factory=list)  # RUNNING tasks to add to target groups
    counts: dict[str, DeploymentCounts] = field(default_factory=dict)
    running: int = 0
    pending: int = 0
    completed: str | None = None  # the PRIMARY deployment finished its rollout
    retire: list[str] = field(default_factory=list)  # deployments with no tasks left: INACTIVE
    tripped: str | None = None  # the circuit breaker tripped on this deployment
    steady: bool = False
    impaired: bool = False  # the PRIMARY deployment's tasks keep failing to start
    events: list[str] = field(default_factory=list)
    unhealthy: list[tuple[str, str]] = field(default_factory=list)  # (task arn, reason)
    requeue_after: float | None = None


StopFn = Callable[..., None]

IMPAIRED = "(service {name}) is unable to consistently start tasks successfully."


def min_healthy(desired: int, percent: int) -> int:
    return math.ceil(desired * percent / 100)


def max_tasks(desired: int, percent: int) -> int:
    return math.floor(desired * percent / 100)


def failure_threshold(desired: int) -> int:
    return min(200, max(3, math.ceil(0.5 * desired)))


def is_healthy(task: TaskView, d: Desired, now: float) -> bool:
    if task.last_status != RUNNING or not task.live:
        return False
    if task.has_health_check and task.health != "HEALTHY":
        return False
    if d.load_balanced:
        return task.target_health == "healthy"
    if not task.has_health_check:
        return task.started_at is not None and now >= task.started_at + d.settle
    return True


def in_grace(task: TaskView, grace: float, now: float) -> bool:
    return task.started_at is None or now < task.started_at + grace


def unhealthy_reason(task: TaskView, d: Desired, now: float) -> str | None:
    """Why a RUNNING task must be replaced, once its grace period is over."""
    if task.last_status != RUNNING or not task.live or in_grace(task, d.grace_period, now):
        return None
    if task.has_health_check and task.health == "UNHEALTHY":
        return REASON_CONTAINER_HEALTH
    if d.load_balanced and task.target_health == "unhealthy":
        return REASON_ELB_HEALTH
    return None


def protected(task: TaskView, now: float) -> bool:
    return task.protected_until is not None and task.protected_until > now


def _stop_order(task: TaskView) -> tuple[int, float]:
    """Which tasks go first: not yet running, then the newest."""
    return (0 if task.last_status != RUNNING else 1, -(task.started_at or task.created_at))


def plan(desired: Desired, observed: Observed, now: float) -> Plan:
    out = Plan()
    primary = desired.deployments[0] if desired.deployments else None
    hosts = {h.arn: h for h in observed.hosts}
    draining_hosts = {h.arn for h in observed.hosts if h.status == InstanceStatus.DRAINING}
    tasks = list(observed.tasks)
    _count(desired, tasks, out)

    stopping: set[str] = set()

    def stop(task: TaskView, reason: str, failure: bool = False) -> None:
        if task.arn in stopping:
            return
        stopping.add(task.arn)
        if desired.load_balanced and task.target_health not in (None, "unused"):
            out.deregister.append(task.arn)
        else:
            out.stop.append(Stop(task.arn, reason, failure))

    # Tasks whose draining from their load balancers is over are stopped now.
    for task in tasks:
        drained = task.draining_lb and task.target_health in (None, "unused")
        if drained and not task.stopped and task.desired_status == RUNNING:
            why = (REASON_DRAINING if task.host_arn in draining_hosts
                   else REASON_SCALE.format(deployment=task.deployment_id))  # fmt: skip
            out.stop.append(Stop(task.arn, why))
            stopping.add(task.arn)

    # RUNNING tasks not yet in their target groups are registered.
    if desired.load_balanced:
        out.register = [
            t.arn
            for t in tasks
            if t.live
            and t.last_status == RUNNING
            and t.target_health in (None, "unused")
            and not t.lb_registered
        ]

    # Unhealthy tasks are replaced (they are failures for the circuit breaker).
    for task in tasks:
        reason = unhealthy_reason(task, desired, now)
        if reason is not None:
            out.unhealthy.append((task.arn, reason))
            stop(task, reason, failure=True)

    live = [t for t in tasks if t.live and t.arn not in stopping]
    if primary is None or not desired.active:
        for task in live:
            stop(task, "Service is being deleted" if not desired.active else REASON_SCALE)
        out.steady = not [t for t in tasks if not t.stopped]
        return _finish(desired, tasks, out, stopping, now)

    # The circuit breaker.
    counts = out.counts.get(primary.id, DeploymentCounts())
    if (
        desired.circuit_breaker
        and primary.rollout_state == RolloutState.IN_PROGRESS
        and counts.failed >= failure_threshold(desired.desired_count)
    ):
        out.tripped = primary.id
        if desired.rollback and desired.can_roll_back:
            return _finish(desired, tasks, out, stopping, now)
    frozen = primary.rollout_state == RolloutState.FAILED or out.tripped is not None

    if desired.daemon:
        _plan_daemon(desired, primary, live, hosts, stopping, stop, out, frozen, now)
    else:
        _plan_replica(
            desired, primary, live, draining_hosts, tasks, stopping, stop, out, frozen, now
        )
    return _finish(desired, tasks, out, stopping, now)


def _count(desired: Desired, tasks: list[TaskView], out: Plan) -> None:
    for d in desired.deployments:
        out.counts[d.id] = DeploymentCounts()
    for task in tasks:
        c = out.counts.get(task.deployment_id or "")
        if task.last_status == RUNNING:
            out.running += 1
        elif task.last_status in PENDING_STATUSES:
            out.pending += 1
        if c is None:
            continue
        if task.failed:
            c.failed += 1
        if task.last_status == RUNNING:
            c.running += 1
        elif task.last_status in PENDING_STATUSES:
            c.pending += 1


def _plan_replica(
    desired: Desired,
    primary: DeploymentView,
    live: list[TaskView],
    draining_hosts: set[str],
    tasks: list[TaskView],
    stopping: set[str],
    stop: StopFn,
    out: Plan,
    frozen: bool,
    now: float,
) -> None:
    target = desired.desired_count
    keepers = [
        t for t in live if t.deployment_id == primary.id and t.host_arn not in draining_hosts
    ]
    retiring = [t for t in live if t not in keepers]

    # Scale in: too many tasks of the PRIMARY deployment (protected ones stay).
    if len(keepers) > target:
        extra = len(keepers) - target
        for task in sorted(keepers, key=_stop_order):
            if extra == 0:
                break
            if protected(task, now):
                continue
            stop(task, REASON_SCALE.format(deployment=primary.id))
            keepers.remove(task)
            extra -= 1

    if frozen:
        return  # a FAILED deployment launches nothing more and replaces nothing

    # Start: as many as are missing, within maximumPercent.
    ceiling = max_tasks(target, desired.max_percent)
    existing = len([t for t in tasks if not t.stopped])
    missing = target - len(keepers)
    room = ceiling - existing
    starts = max(0, min(missing, room))
    wait = throttle(primary.id, tasks, now)
    if starts and wait > 0:
        out.events.append(IMPAIRED.format(name=desired.name))
        out.impaired = True
        out.requeue_after = wait
    elif starts:
        out.start.append(Start(primary.id, starts))

    # Stop retiring tasks (older deployments, draining instances), keeping minimumHealthyPercent.
    floor = min_healthy(target, desired.min_percent)
    healthy = [
        t for t in keepers + retiring if is_healthy(t, desired, now) and t.arn not in stopping
    ]
    allowance = len(healthy) - floor
    old_reason = REASON_SCALE.format(deployment=primary.id)
    for task in sorted(
        retiring, key=lambda t: (is_healthy(t, desired, now), t.host_arn not in draining_hosts)
    ):
        if protected(task, now):
            continue
        reason = REASON_DRAINING if task.host_arn in draining_hosts else old_reason
        if not is_healthy(task, desired, now):
            stop(task, reason)
        elif allowance > 0:
            stop(task, reason)
            allowance -= 1


def throttle(deployment_id: str, tasks: list[TaskView], now: float) -> float:
    """Seconds to hold back new tasks of a deployment whose tasks keep failing."""
    failed = [t for t in tasks if t.deployment_id == deployment_id and t.failed]
    if len(failed) < THROTTLE_AFTER:
        return 0.0
    last = max((t.stopped_at or t.created_at) for t in failed)
    delay = min(THROTTLE_MAX, THROTTLE_BASE * float(2 ** min(16, len(failed) - THROTTLE_AFTER)))
    return max(0.0, last + delay - now)


def _plan_daemon(
    desired: Desired,
    primary: DeploymentView,
    live: list[TaskView],
    hosts: dict[str, HostView],
    stopping: set[str],
    stop: StopFn,
    out: Plan,
    frozen: bool,
    now: float,
) -> None:
    eligible = [
        h
        for h in hosts.values()
        if h.status == InstanceStatus.ACTIVE and h.connected and h.eligible
    ]
    floor = min_healthy(len(eligible), desired.min_percent)
    healthy = [t for t in live if is_healthy(t, desired, now)]
    allowance = len(healthy) - floor
    reason = REASON_SCALE.format(deployment=primary.id)
    by_host: dict[str, list[TaskView]] = {}
    for task in live:
        by_host.setdefault(task.host_arn, []).append(task)
    for host_arn, on_host in by_host.items():
        host = hosts.get(host_arn)
        if host is None or host.status != InstanceStatus.ACTIVE:
            for task in on_host:
                if not protected(task, now):
                    stop(task, REASON_DRAINING)
            continue
        keep = [t for t in on_host if t.deployment_id == primary.id]
        extra = sorted(keep, key=_stop_order)[1:] + [t for t in on_host if t not in keep]
        for task in extra:
            if protected(task, now):
                continue
            if not is_healthy(task, desired, now):
                stop(task, reason)
            elif allowance > 0:
                stop(task, reason)
                allowance -= 1
    if frozen:
        return
    for host in eligible:
        busy = [t for t in by_host.get(host.arn, []) if t.arn not in stopping]
        if any(t.deployment_id == primary.id for t in busy):
            continue
        if busy:
            continue  # an older task still holds the host; it goes first (maximumPercent 100)
        out.start.append(Start(primary.id, 1, host.arn))


def _finish(
    desired: Desired, tasks: list[TaskView], out: Plan, stopping: set[str], now: float
) -> Plan:
    primary = desired.deployments[0] if desired.deployments else None
    # Deployments with nothing left running are retired.
    for d in desired.deployments[1:]:
        if not [t for t in tasks if t.deployment_id == d.id and not t.stopped]:
            out.retire.append(d.id)
    if primary is None or not desired.active:
        return out
    others = [
        t for t in tasks if not t.stopped and (t.deployment_id != primary.id or t.arn in stopping)
    ]
    primary_tasks = [t for t in tasks if not t.stopped and t.deployment_id == primary.id]
    target = len(primary_tasks) if desired.daemon else desired.desired_count
    settled = (
        not out.start
        and not out.stop
        and not out.deregister
        and not others
        and len(primary_tasks) == target
        and all(is_healthy(t, desired, now) for t in primary_tasks)
        and out.tripped is None
    )
    if settled and primary.rollout_state == RolloutState.IN_PROGRESS:
        out.completed = primary.id
    out.steady = settled and primary.rollout_state != RolloutState.FAILED
    if out.steady and not desired.was_steady:
        out.events.append(f"(service {desired.name}) has reached a steady state.")
    if not out.steady:
        soon = _next_check(desired, tasks, now)
        out.requeue_after = min(soon, out.requeue_after or soon)
    return out


def _next_check(desired: Desired, tasks: list[TaskView], now: float) -> float:
    """When to look again without being told (health and grace periods change with time):
    soon while anything is in motion, at the latest when a grace period ends."""
    ends = [
        t.started_at + wait - now
        for t in tasks
        for wait in (desired.grace_period, desired.settle)
        if t.started_at is not None and t.started_at + wait > now
    ]
    return max(0.05, min([RECHECK, *ends]))
