"""The EC2 Auto Scaling group controller: keeps each group as its record says.

Level-triggered: a reconcile reads the group, what EC2 says of its instances
(`InstanceFleet.describe`) and what its target groups say of their health (`TargetGroups`),
asks the pure `asg_plan.plan` what to do, and applies it through the service's own
transitions (`services/ec2autoscaling/lifecycle.py`): one commit of the group's new record
with its activities and events, then the calls to EC2 that commit allows (terminating
instances already recorded as Terminating:Proceed), then launches, each recorded as soon as
EC2 answers. A launch EC2 refuses is recorded as a failed activity and the group's launches
back off (`launch_failures`: 10 s, doubling, at most 5 minutes) until one goes in service.

Anything that may matter enqueues the group: each commit of it, and a periodic look (often
while instances are on their way in or out, since EC2's progress is observed, not pushed).
Time is the injected clock's, so `--time-scale` speeds up grace periods, timeouts and
back-offs alike.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dockyard.controllers.asg_plan import GroupPlan, Launch, plan
from dockyard.controllers.runtime import Runtime
from dockyard.core.clock import Clock
from dockyard.core.fleet import FleetError, InstanceFleet, InstanceStatus, LaunchRequest
from dockyard.core.loadbalancing import Target, TargetGroups
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import groups, lifecycle, refresh
from dockyard.services.ec2autoscaling.model import (
    ACTIVE_REFRESH,
    COUNTED,
    ActivityStatus,
    Group,
    GroupInstance,
    Health,
    LifecycleState,
    RefreshStatus,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

log = logging.getLogger(__name__)

RESYNC = 30.0  # a steady group is looked at this often
POLL = 1.0  # while instances are on their way in or out
BACKOFF_FIRST = 10.0
BACKOFF_MAX = 300.0
GROUP_TAG = "aws:autoscaling:groupName"

# The port of a target group (where an instance target receives traffic), or None when it
# does not exist: the composition root reads it from the ELBv2 service.
TargetPort = Callable[[Scope, str], "int | None"]

_MOVING = frozenset({LifecycleState.PENDING, LifecycleState.PENDING_PROCEED,
                     LifecycleState.TERMINATING, LifecycleState.TERMINATING_PROCEED,
                     LifecycleState.DETACHING})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Launched:
    """What EC2 answered to one launch request, to record."""

    ids: list[str]
    zone: str
    subnet: str | None
    template_id: str
    template_name: str
    version: str
    instance_type: str | None
    cause: str


def _records_change(decided: GroupPlan) -> bool:
    """Whether applying the plan changes the group's record (launching and terminating
    are recorded by themselves)."""
    return bool(decided.running or decided.in_service or decided.register or decided.unhealthy
                or decided.replace or decided.scale_in or decided.drained or decided.gone
                or decided.released or decided.expire_actions)  # fmt: skip


def backoff(failures: int) -> float:
    """Seconds to wait before launching again after `failures` failed launches in a row."""
    if failures <= 0:
        return 0.0
    return float(min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** (failures - 1)))


class AsgController:
    def __init__(
        self,
        asg: Ec2AutoScaling,
        clock: Clock,
        fleet: InstanceFleet,
        *,
        target_groups: TargetGroups | None = None,
        target_port: TargetPort | None = None,
        resync: float = RESYNC,
        poll: float = POLL,
        workers: int = 1,
    ) -> None:
        self.asg = asg
        self.clock = clock
        self.fleet = fleet
        self.target_groups = target_groups
        self.target_port = target_port
        self.resync = resync
        self.poll = poll
        self.runtime = Runtime("ec2-autoscaling", self.reconcile, clock, workers=workers)
        self._hook: Callable[[str], None] = self.runtime.enqueue

    # -- wiring ---------------------------------------------------------------------------

    def start(self) -> None:
        self.asg.changed_hooks.append(self._hook)
        self.runtime.start()
        for key in list(self.asg.groups):  # after a restart each group picks up where it was
            self.runtime.enqueue(key)

    async def stop(self) -> None:
        if self._hook in self.asg.changed_hooks:
            self.asg.changed_hooks.remove(self._hook)
        await self.runtime.stop()

    # -- observing ------------------------------------------------------------------------

    def _target(self, group: Group, tg: str, inst: GroupInstance,
                status: InstanceStatus | None) -> Target | None:  # fmt: skip
        port = self.target_port(group.scope, tg) if self.target_port is not None else None
        if port is None:
            return None
        return Target(inst.instance_id, port, status.private_ip if status is not None else "")

    def _health(self, group: Group, observed: Mapping[str, InstanceStatus]
                ) -> dict[tuple[str, str], str]:  # fmt: skip
        out: dict[tuple[str, str], str] = {}
        if self.target_groups is None:
            return out
        for inst in group.instances.values():
            for tg in dict.fromkeys([*group.target_groups, *group.released_target_groups]):
                target = self._target(group, tg, inst, observed.get(inst.instance_id))
                if target is not None:
                    out[(inst.instance_id, tg)] = self.target_groups.health(
                        group.account_id, group.region, tg, target
                    )
        return out

    # -- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        group = self.asg.groups.get(key)
        if group is None:
            return None
        scope = group.scope
        now = self.clock.now()
        observed = {s.instance_id: s for s in self.fleet.describe(scope, list(group.instances))}
        decided = plan(group, observed, self._health(group, observed), now)
        if decided.delete_group:
            self.asg.commit(deleted_groups=[group])
            log.info("ec2-autoscaling: group %s deleted", group.name)
            return None
        group = self._apply(group, decided, observed)
        refresh_wait = None
        if not (decided.launch or decided.scale_in or decided.replace):
            refresh_wait = self._refresh(key)
        if decided.terminate:
            await self.fleet.terminate(scope, decided.terminate)
        again = decided.again_after
        if refresh_wait is not None:
            again = refresh_wait if again is None else min(again, refresh_wait)
        if decided.launch:
            wait = self._launch_wait(group, now)
            if wait > 0:
                again = wait if again is None else min(again, wait)
            else:
                await self._launch(group, decided.launch)
        return self._next_look(self.asg.groups.get(key), again)

    def _apply(self, old: Group, decided: GroupPlan,
               observed: Mapping[str, InstanceStatus]) -> Group:  # fmt: skip
        """Everything of the plan that changes the record, committed at once; the target
        group calls go first (they are idempotent and the next plan sees their effect)."""
        registered = self._targets(old, decided, observed)
        if not _records_change(decided):
            return old
        asg, group, change = self.asg, old.copy(), lifecycle.Change()
        if decided.expire_actions:
            change.add(lifecycle.expire(asg, group))
        for iid in decided.running:
            inst = group.instances[iid]
            if inst.state == LifecycleState.PENDING:
                change.add(lifecycle.running(asg, group, inst))
        for iid in decided.in_service:
            inst = group.instances[iid]
            if inst.state == LifecycleState.PENDING_PROCEED:
                change.add(lifecycle.in_service(asg, group, inst))
        for inst in group.instances.values():
            if inst.state != LifecycleState.IN_SERVICE:
                inst.registered = False
            elif inst.instance_id in registered:
                inst.registered = True
        for removal in decided.unhealthy:
            group.instances[removal.instance_id].health = Health.UNHEALTHY
        for removal in [*decided.replace, *decided.scale_in]:
            inst = group.instances[removal.instance_id]
            if inst.state in COUNTED:
                change.add(lifecycle.begin_terminate(asg, group, inst, removal.cause))
        for iid in decided.drained:
            leaving = group.instances.get(iid)
            if leaving is not None and leaving.state == LifecycleState.TERMINATING:
                change.add(lifecycle.drained(asg, group, leaving))
        for iid in decided.gone:
            left = group.instances.get(iid)
            if left is not None:
                change.add(lifecycle.gone(asg, group, left))
        released = set(decided.released)
        group.released_target_groups = [
            a for a in group.released_target_groups if a not in released
        ]
        asg.commit([group], activities=change.activities, events=change.events)
        return asg.groups.get(group.key, group)

    def _refresh(self, key: str) -> float | None:
        """Move the group's instance refresh along; seconds until it should be looked at."""
        current = self.asg.groups.get(key)
        active = current.active_refresh() if current is not None else None
        if current is None or active is None or current.deleting:
            return None
        now = self.clock.now()
        decided = refresh.step(current, active, now, self._serving(current))
        group = current.copy()
        ongoing = group.active_refresh()
        assert ongoing is not None
        before = (ongoing.status, ongoing.percentage, ongoing.status_reason)
        change = lifecycle.Change()
        stamp = self.asg.stamp(now)
        for iid in decided.take:
            cause = (f"At {stamp} an instance was taken out of service in response to an "
                     f"instance refresh.  At {stamp} instance {iid} was selected for "
                     "termination.")  # fmt: skip
            change.add(lifecycle.begin_terminate(self.asg, group, group.instances[iid], cause))
            ongoing.replaced.append(iid)
        ongoing.percentage = decided.percentage
        if decided.checkpoint is not None:
            ongoing.checkpoint_done, ongoing.checkpoint_at = decided.checkpoint, now
            ongoing.status_reason = decided.reason
        elif decided.take:
            ongoing.status_reason = ""
        if decided.status is not None:
            ongoing.status = decided.status
            if decided.reason:
                ongoing.status_reason = decided.reason
            if decided.status in (RefreshStatus.SUCCESSFUL, RefreshStatus.CANCELLED):
                ongoing.end = now
            if decided.status == RefreshStatus.SUCCESSFUL and ongoing.template_id:
                # The desired configuration becomes the group's, as AWS does on success.
                group.template_id, group.template_name = (
                    ongoing.template_id,
                    (ongoing.template_name),
                )
                group.template_version = ongoing.template_version or "$Default"
        after = (ongoing.status, ongoing.percentage, ongoing.status_reason)
        if decided.take or before != after:
            self.asg.commit([group], activities=change.activities, events=change.events)
        if ongoing.status not in ACTIVE_REFRESH:
            return None
        return decided.again_after if decided.again_after is not None else self.poll

    def _serving(self, group: Group) -> frozenset[str] | None:
        """For a group of health check type ELB with target groups: the instances healthy in
        every one of them (what an instance refresh waits for); None otherwise."""
        if group.health_check_type != "ELB" or not group.target_groups:
            return None
        if self.target_groups is None:
            return None
        statuses = self.fleet.describe(group.scope, list(group.instances))
        observed = {s.instance_id: s for s in statuses}
        health = self._health(group, observed)
        return frozenset(
            iid
            for iid in group.instances
            if all(health.get((iid, tg)) == "healthy" for tg in group.target_groups)
        )

    def _targets(self, group: Group, decided: GroupPlan,
                 observed: Mapping[str, InstanceStatus]) -> set[str]:  # fmt: skip
        """Register and deregister as the plan says; the instances registered."""
        registering: set[str] = set()
        if self.target_groups is None:
            return registering
        for iid, tg in decided.register:
            inst = group.instances[iid]
            target = self._target(group, tg, inst, observed.get(iid))
            if target is not None:
                self.target_groups.register(group.account_id, group.region, tg, target)
                registering.add(iid)
        for iid, tg in decided.deregister:
            inst = group.instances[iid]
            target = self._target(group, tg, inst, observed.get(iid))
            if target is not None:
                self.target_groups.deregister(group.account_id, group.region, tg, target)
        return registering

    # -- launching ------------------------------------------------------------------------

    def _launch_wait(self, group: Group, now: float) -> float:
        """Seconds left of the back-off after the group's last failed launch."""
        if group.launch_failures <= 0:
            return 0.0
        failed = [a for a in self.asg.activities.get(group.key, [])
                  if a.status == ActivityStatus.FAILED]  # fmt: skip
        if not failed:
            return 0.0
        last = max(a.end if a.end is not None else a.start for a in failed)
        return max(0.0, last + backoff(group.launch_failures) - now)

    async def _launch(self, group: Group, launches: Sequence[Launch]) -> None:
        """Launch, one EC2 request per subnet, and record each batch as EC2 answers it; a
        refusal is recorded as a failed activity and ends this round (back-off). The group
        is read again after each call to EC2: operations may have changed it meanwhile."""
        key, scope = group.key, group.scope
        per_subnet = Counter((item.zone, item.subnet_id) for item in launches)
        causes = {(item.zone, item.subnet_id): item.cause for item in launches}
        for (zone, subnet), count in per_subnet.items():
            current = self.asg.groups.get(key)
            if current is None or current.deleting:
                return
            tags = {t.key: t.value for t in current.tags if t.propagate}
            tags[GROUP_TAG] = current.name
            ongoing = current.active_refresh()
            tid, tname, version = (
                current.template_id,
                current.template_name,
                (current.template_version),
            )
            if ongoing is not None and ongoing.template_id:  # replacements are of the new one
                tid, tname = ongoing.template_id, ongoing.template_name
                version = ongoing.template_version or "$Default"
            try:
                template = self.fleet.template(scope, tid, tname, version)
                ids = await self.fleet.launch(scope, LaunchRequest(
                    template_id=template.template_id, version=str(template.version),
                    subnet_id=subnet, availability_zone=None if subnet else zone,
                    count=count, tags=tags))  # fmt: skip
            except FleetError as exc:
                log.info("ec2-autoscaling: group %s could not launch in %s: %s", current.name,
                         zone, exc)  # fmt: skip
                latest = self.asg.groups.get(key)
                if latest is None:
                    return
                failed = latest.copy()
                message = groups.launch_error_message(exc)
                change = lifecycle.launch_failed(self.asg, failed, zone, subnet or "", message)
                self.asg.commit([failed], activities=change.activities, events=change.events)
                return
            launched = Launched(ids, zone, subnet, template.template_id, template.template_name,
                                str(template.version), template.instance_type,
                                causes[(zone, subnet)])  # fmt: skip
            await self._record_launch(scope, key, launched)

    async def _record_launch(self, scope: Scope, key: str, launched: Launched) -> None:
        latest = self.asg.groups.get(key)
        if latest is None or latest.deleting:
            # Deleted while EC2 launched them: they were never the group's.
            await self.fleet.terminate(scope, launched.ids)
            return
        group = latest.copy()
        statuses = {s.instance_id: s for s in self.fleet.describe(group.scope, launched.ids)}
        change = lifecycle.Change()
        now = self.clock.now()
        for iid in launched.ids:
            status = statuses.get(iid)
            before = len(group.counted())
            inst = GroupInstance(
                iid, status.availability_zone if status else launched.zone,
                status.subnet_id if status else (launched.subnet or ""),
                (status.instance_type if status else None) or launched.instance_type or "",
                launched.template_id, launched.template_name, launched.version,
                LifecycleState.PENDING,
                status.launch_time if status and status.launch_time else now,
            )  # fmt: skip
            change.add(lifecycle.launched(self.asg, group, inst, before))
            change.activities[-1].cause = launched.cause
        try:
            self.asg.commit([group], activities=change.activities, events=change.events)
        except Exception:
            # Not recorded, so not the group's: EC2 must not keep them running unowned.
            log.warning("ec2-autoscaling: group %s could not record instances %s; "
                        "terminating them", group.name, launched.ids)  # fmt: skip
            await self.fleet.terminate(group.scope, launched.ids)
            raise

    def _next_look(self, group: Group | None, again: float | None) -> float | None:
        if group is None:
            return None
        wait = self.resync
        if any(i.state in _MOVING for i in group.instances.values()) or group.deleting:
            wait = self.poll
        deadline = lifecycle.next_deadline(group)
        if deadline is not None:
            wait = min(wait, max(0.0, deadline - self.clock.now()))
        if again is not None:
            wait = min(wait, again)
        return wait
