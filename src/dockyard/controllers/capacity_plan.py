"""The pure plan of one capacity provider in one cluster (cluster auto scaling).

Managed scaling publishes `CapacityProviderReservation = M / N * 100` each minute, where
N is the number of instances of the group that are running (in service, or launching: the
group's capacity counts them, and its target tracking policy scales from that capacity) and
M the number the provider needs:

- with tasks waiting in PROVISIONING: N plus the instances they need, by ECS's documented
  estimate: the waiting tasks are grouped by identical requirements (CPU, memory, static
  host ports), each group is bin-packed onto instances the size of the provider's
  instances, the largest count is taken, and it is kept within minimumScalingStepSize and
  maximumScalingStepSize. While an instance of the group is still on its way (launching,
  or not yet registered with the cluster), nothing more is asked for: the tasks wait for
  it, as ECS's instance warm-up does. With no instance of known size, the estimate is the
  minimum step;
- otherwise: the instances running at least one task that is not a daemon task.

Special cases, as ECS: N = 0 and M > 0 gives 200 (scale from zero), M = N = 0 gives 100.

Managed termination protection: instances running non-daemon tasks are protected from
scale-in, idle ones are not. Managed draining: an instance waiting on ECS's terminate hook
has its container instance set DRAINING, and once its non-daemon tasks are gone its
lifecycle action is completed with CONTINUE.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

IN_SERVICE = "InService"
LAUNCHING = frozenset({"Pending", "Pending:Wait", "Pending:Proceed"})
TERMINATING_WAIT = "Terminating:Wait"
PROVISIONING_TIMEOUT = 30 * 60.0  # seconds a task may wait for capacity


@dataclass(frozen=True, slots=True)
class Settings:
    target_capacity: int = 100
    min_step: int = 1
    max_step: int = 10000
    scaling: bool = True
    termination_protection: bool = False
    draining: bool = False
    draining_hook: str = "ecs-managed-draining-termination-hook"


@dataclass(frozen=True, slots=True)
class Host:
    """One instance of the group, with what ECS knows of it."""

    instance_id: str
    lifecycle_state: str
    protected: bool = False
    waiting_hook: str | None = None
    # The container instance it registered as, in this cluster (None: not registered).
    container_instance: str | None = None
    status: str = "ACTIVE"  # the container instance's
    cpu: int = 0  # registered CPU units and MiB
    memory: int = 0
    tasks: int = 0  # tasks not stopped, daemon tasks left out
    all_tasks: int = 0


@dataclass(frozen=True, slots=True)
class Waiting:
    """A task waiting in PROVISIONING for capacity."""

    arn: str
    cpu: int
    memory: int
    static_ports: int  # host ports it binds statically: at most one such task per instance
    since: float


@dataclass(frozen=True, slots=True)
class Observed:
    settings: Settings
    hosts: tuple[Host, ...] = ()
    waiting: tuple[Waiting, ...] = ()


@dataclass(slots=True)
class Plan:
    m: int = 0
    n: int = 0
    reservation: float = 100.0
    protect: list[str] = field(default_factory=list)  # EC2 instance ids
    unprotect: list[str] = field(default_factory=list)
    drain: list[str] = field(default_factory=list)  # container instance ARNs
    complete: list[str] = field(default_factory=list)  # EC2 instance ids: CONTINUE
    expire: list[str] = field(default_factory=list)  # waiting task ARNs past the timeout


def reservation(m: int, n: int) -> float:
    if n == 0:
        return 100.0 if m == 0 else 200.0
    return m / n * 100.0


def per_instance(task: Waiting, cpu: int, memory: int) -> int:
    """How many such tasks one empty instance of this size takes (0: none)."""
    fits = []
    if task.cpu > 0:
        fits.append(cpu // task.cpu)
    if task.memory > 0:
        fits.append(memory // task.memory)
    if task.static_ports:
        fits.append(1)
    return min(fits) if fits else 1


def instances_needed(waiting: tuple[Waiting, ...], size: tuple[int, int] | None,
                     min_step: int, max_step: int) -> int:  # fmt: skip
    """The instances to add for the waiting tasks (ECS's estimate, within the steps)."""
    if not waiting:
        return 0
    if size is None:
        return min_step
    groups = Counter((t.cpu, t.memory, t.static_ports) for t in waiting)
    counts = []
    for (cpu, memory, ports), count in groups.items():
        each = per_instance(Waiting("", cpu, memory, ports, 0.0), *size)
        if each > 0:  # a task larger than an instance: more instances would not help
            counts.append(math.ceil(count / each))
    if not counts:
        return 0
    return max(min_step, min(max_step, max(counts)))


def instance_size(hosts: tuple[Host, ...]) -> tuple[int, int] | None:
    """The size the estimate packs onto: the smallest registered instance of the group."""
    known = [(h.cpu, h.memory) for h in hosts if h.container_instance and h.cpu and h.memory]
    return min(known) if known else None


def plan(observed: Observed, now: float) -> Plan:
    s = observed.settings
    out = Plan()
    running = [h for h in observed.hosts if h.lifecycle_state == IN_SERVICE]
    coming = [
        h
        for h in observed.hosts
        if h.lifecycle_state in LAUNCHING
        or (h.lifecycle_state == IN_SERVICE and h.container_instance is None)
    ]
    out.n = len(running) + sum(1 for h in observed.hosts if h.lifecycle_state in LAUNCHING)
    waiting = tuple(w for w in observed.waiting if now - w.since < PROVISIONING_TIMEOUT)
    out.expire = sorted(w.arn for w in observed.waiting if now - w.since >= PROVISIONING_TIMEOUT)
    if waiting and coming:
        out.m = max(out.n, 1)
    elif waiting:
        size = instance_size(tuple(running))
        out.m = out.n + instances_needed(waiting, size, s.min_step, s.max_step)
    else:
        out.m = sum(1 for h in running if h.tasks > 0)
    out.reservation = reservation(out.m, out.n)
    for h in sorted(observed.hosts, key=lambda h: h.instance_id):
        if s.termination_protection and h.lifecycle_state == IN_SERVICE and h.container_instance:
            if h.tasks > 0 and not h.protected:
                out.protect.append(h.instance_id)
            elif h.tasks == 0 and h.protected:
                out.unprotect.append(h.instance_id)
        if (
            s.draining
            and h.lifecycle_state == TERMINATING_WAIT
            and h.waiting_hook == (s.draining_hook)
        ):
            if h.container_instance is not None and h.status == "ACTIVE":
                out.drain.append(h.container_instance)
            if h.tasks == 0:
                out.complete.append(h.instance_id)
    return out
