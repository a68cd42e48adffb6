"""What an Auto Scaling group's reconcile does next (pure): `plan(group, observed, health,
now)`, from the group record, what EC2 says of its instances and what the target groups say
of their health.

The steps, each one only when its process is not suspended:
- instances EC2 reports running leave Pending (their launch hooks wait, or they proceed);
  instances in Pending:Proceed go in service and are registered in the target groups
  (AddToLoadBalancer);
- health (HealthCheck): an instance EC2 reports stopped or gone is unhealthy at once (one
  still on its way in goes at once, whatever is suspended, since it never will be); one
  whose status checks fail, or (type ELB) that a target group reports unhealthy, after the
  grace period from its InService time; unhealthy ones are replaced (ReplaceUnhealthy);
- capacity: fewer counted instances than desired launch (Launch) in the zones with the fewest,
  in VPCZoneIdentifier order on ties; more terminate (Terminate) as the termination policies
  choose, never a protected one; a group out of balance by more than one instance launches one
  in its smallest zone first (AZRebalance), and the next scale-in takes one from the largest;
- leaving instances are deregistered, wait for their terminate hooks, are terminated, and
  leave the group once EC2 reports them terminated (detached ones once deregistered);
- lifecycle actions past their timeout complete with their default result.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.core.fleet import InstanceStatus
from dockyard.core.timefmt import iso
from dockyard.services.ec2autoscaling import termination
from dockyard.services.ec2autoscaling.model import (
    Group,
    GroupInstance,
    Health,
    LifecycleState,
    Process,
)

GONE = frozenset({"shutting-down", "terminated", "stopping", "stopped"})
# Target health that counts as out of the target group (drained, or never registered).
OUT = frozenset({"unused"})


@dataclass(frozen=True, slots=True)
class Launch:
    zone: str
    subnet_id: str | None
    cause: str


@dataclass(frozen=True, slots=True)
class Removal:
    instance_id: str
    cause: str


@dataclass(slots=True)
class GroupPlan:
    running: list[str] = field(default_factory=list)  # Pending -> Pending:Wait / :Proceed
    in_service: list[str] = field(default_factory=list)  # Pending:Proceed -> InService
    register: list[tuple[str, str]] = field(default_factory=list)  # (instance, target group)
    deregister: list[tuple[str, str]] = field(default_factory=list)
    unhealthy: list[Removal] = field(default_factory=list)  # mark Unhealthy (with the reason)
    replace: list[Removal] = field(default_factory=list)  # unhealthy: take out of service
    scale_in: list[Removal] = field(default_factory=list)
    launch: list[Launch] = field(default_factory=list)
    drained: list[str] = field(default_factory=list)  # out of every target group
    terminate: list[str] = field(default_factory=list)  # Terminating:Proceed: ask EC2
    gone: list[str] = field(default_factory=list)  # terminated (or detached): leaves
    released: list[str] = field(default_factory=list)  # left target groups now empty of ours
    expire_actions: bool = False
    delete_group: bool = False  # a deleted group whose instances are all gone
    again_after: float | None = None  # seconds until the plan may differ without a change

    def empty(self) -> bool:
        return not (self.running or self.in_service or self.register or self.deregister
                    or self.unhealthy or self.replace or self.scale_in or self.launch
                    or self.drained or self.terminate or self.gone or self.expire_actions
                    or self.delete_group)  # fmt: skip


def _stamp(now: float) -> str:
    return iso(now, "s")


def _sooner(current: float | None, seconds: float) -> float:
    seconds = max(0.0, seconds)
    return seconds if current is None else min(current, seconds)


def _health_reason(group: Group, inst: GroupInstance, status: InstanceStatus | None,
                   health: Mapping[tuple[str, str], str], now: float,
                   plan: GroupPlan) -> str | None:  # fmt: skip
    """Why an InService instance is unhealthy now, in AWS's words, or None."""
    if status is None or status.state in GONE:
        return "an EC2 health check indicating it has been terminated or stopped"
    since = inst.in_service_at if inst.in_service_at is not None else inst.launched
    grace_left = since + group.grace_period - now
    if grace_left > 0:
        plan.again_after = _sooner(plan.again_after, grace_left)
        return None
    if status.healthy is False:
        return "an EC2 instance status checks failure"
    if group.health_check_type == "ELB" and any(
        health.get((inst.instance_id, tg)) == "unhealthy" for tg in group.target_groups
    ):
        return "an ELB system health check failure"
    return None


def _zone_counts(group: Group, counted: list[GroupInstance]) -> Counter[str]:
    counts: Counter[str] = Counter({z: 0 for z in group.zones})
    counts.update(i.zone for i in counted)
    return counts


def _subnet_of(group: Group, zone: str) -> str | None:
    return next((s for s in group.subnets if group.subnet_zones.get(s) == zone), None)


def _launches(group: Group, counts: Counter[str], n: int, cause: str) -> list[Launch]:
    out = []
    order = {z: i for i, z in enumerate(group.zones)}
    for _ in range(n):
        zone = min(group.zones, key=lambda z: (counts[z], order[z]))
        counts[zone] += 1
        out.append(Launch(zone, _subnet_of(group, zone), cause))
    return out


def plan(group: Group, observed: Mapping[str, InstanceStatus],
         health: Mapping[tuple[str, str], str], now: float) -> GroupPlan:  # fmt: skip
    """`observed`: EC2's view of the group's instances (a missing id: EC2 does not know it);
    `health`: target health by (instance id, target group ARN) for the group's target groups
    and the ones it left."""
    out = GroupPlan()
    stamp = _stamp(now)
    suspended = group.is_suspended
    leaving_tgs = [*group.target_groups, *group.released_target_groups]

    # Lifecycle: EC2's progress, waits that ran out, instances that may go in service.
    for inst in sorted(group.instances.values(), key=lambda i: i.instance_id):
        status = observed.get(inst.instance_id)
        if inst.action_token is not None:
            deadlines = [d for d in (inst.action_deadline, inst.action_global_deadline) if d]
            if deadlines and now >= min(deadlines):
                out.expire_actions = True
            elif deadlines:
                out.again_after = _sooner(out.again_after, min(deadlines) - now)
        if inst.state == LifecycleState.PENDING and status is not None:
            if status.state == "running":
                out.running.append(inst.instance_id)
        elif inst.state == LifecycleState.PENDING_PROCEED:
            out.in_service.append(inst.instance_id)

    # Target groups: InService instances in, leaving instances out.
    for inst in sorted(group.instances.values(), key=lambda i: i.instance_id):
        iid = inst.instance_id
        if inst.state == LifecycleState.IN_SERVICE and not suspended(Process.ADD_TO_LOAD_BALANCER):
            out.register += [(iid, tg) for tg in group.target_groups
                             if health.get((iid, tg), "unused") in OUT]  # fmt: skip
        if inst.state in (LifecycleState.IN_SERVICE, LifecycleState.PENDING_PROCEED):
            out.deregister += [(iid, tg) for tg in group.released_target_groups
                               if health.get((iid, tg), "unused") not in OUT]  # fmt: skip
        if inst.state in (LifecycleState.TERMINATING, LifecycleState.DETACHING):
            registered = [tg for tg in leaving_tgs if health.get((iid, tg), "unused") not in OUT]
            out.deregister += [(iid, tg) for tg in registered
                               if health.get((iid, tg)) != "draining"]  # fmt: skip
            if not registered:
                if inst.state == LifecycleState.DETACHING:
                    out.gone.append(iid)
                else:
                    out.drained.append(iid)
        if inst.state == LifecycleState.TERMINATING_PROCEED:
            status = observed.get(iid)
            if status is None or status.state == "terminated":
                out.gone.append(iid)
            else:
                out.terminate.append(iid)

    out.released = [
        tg
        for tg in group.released_target_groups
        if all(health.get((i, tg), "unused") in OUT for i in group.instances)
    ]
    if group.deleting:
        out.delete_group = not group.instances
        return out

    # Health, and the replacement of unhealthy instances.
    replacing: set[str] = set()
    for inst in sorted(group.counted(), key=lambda i: i.instance_id):
        if inst.state != LifecycleState.IN_SERVICE:
            # An instance EC2 stopped or lost before it came into service never will: it
            # goes, whatever is suspended, and is replaced as any launch would be.
            status = observed.get(inst.instance_id)
            if status is None or status.state in GONE:
                replacing.add(inst.instance_id)
                out.replace.append(Removal(inst.instance_id, (
                    f"At {stamp} an instance was taken out of service in response to an EC2 "
                    "health check indicating it has been terminated or stopped.")))  # fmt: skip
            continue
        if inst.health == Health.HEALTHY and not suspended(Process.HEALTH_CHECK):
            reason = _health_reason(group, inst, observed.get(inst.instance_id), health, now, out)
            if reason is not None:
                out.unhealthy.append(Removal(inst.instance_id, reason))
                if not suspended(Process.REPLACE_UNHEALTHY):
                    replacing.add(inst.instance_id)
                    out.replace.append(Removal(inst.instance_id, (
                        f"At {stamp} an instance was taken out of service in response to "
                        f"{reason}.")))  # fmt: skip
        elif inst.health == Health.UNHEALTHY and not suspended(Process.REPLACE_UNHEALTHY):
            replacing.add(inst.instance_id)
            out.replace.append(Removal(inst.instance_id, (
                f"At {stamp} an instance was taken out of service in response to a user "
                "health-check.")))  # fmt: skip

    # Capacity: launch the difference, or choose what scale-in takes.
    counted = [i for i in group.counted() if i.instance_id not in replacing]
    have = len(counted)
    counts = _zone_counts(group, counted)
    prefix = f"{group.capacity_cause}  " if group.capacity_cause else ""
    if have < group.desired and not suspended(Process.LAUNCH) and group.zones:
        cause = (f"{prefix}At {stamp} an instance was started in response to a difference "
                 f"between desired and actual capacity, increasing the capacity from {have} to "
                 f"{group.desired}.")  # fmt: skip
        out.launch = _launches(group, counts, group.desired - have, cause)
    elif have > group.desired and not suspended(Process.TERMINATE):
        settled = all(i.state == LifecycleState.IN_SERVICE for i in counted)
        if settled:  # a rebalancing launch (or any launch) goes in service first
            chosen = termination.choose(group, counted, have - group.desired, now)
            for inst in chosen:
                out.scale_in.append(Removal(inst.instance_id, (
                    f"{prefix}At {stamp} an instance was taken out of service in response to a "
                    f"difference between desired and actual capacity, shrinking the capacity "
                    f"from {have} to {group.desired}.  At {stamp} instance {inst.instance_id} "
                    "was selected for termination.")))  # fmt: skip
    elif (have == group.desired and have > 0 and len(group.zones) > 1
          and not suspended(Process.AZ_REBALANCE) and not suspended(Process.LAUNCH)
          and not suspended(Process.TERMINATE)
          and all(i.state == LifecycleState.IN_SERVICE for i in counted)):  # fmt: skip
        # Rebalancing may go over the maximum by 10% (at least one instance) meanwhile.
        ceiling = group.max_size + max(1, math.floor(group.max_size * 0.1))
        if max(counts.values()) - min(counts.values()) > 1 and have + 1 <= ceiling:
            out.launch = _launches(group, counts, 1, (
                f"At {stamp} an instance was launched in an attempt to balance the group "
                "across Availability Zones."))  # fmt: skip
    return out
