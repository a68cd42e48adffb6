"""EC2 Auto Scaling: its state (groups, policies, activities), the unit of work that commits
it, and the events it puts on the bus.

Ports (set by the composition root): `fleet` launches and terminates EC2 instances,
`target_groups` registers them with load balancers, `alarms` creates the CloudWatch alarms of
target tracking policies, `events` takes the EventBridge events (queued through a mailbox,
never delivered inside the operation that caused them). The service is also an
`AlarmActions` port (`policies.invoke`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.eventbus import EventSink, Mailbox
from dockyard.core.fleet import InstanceFleet
from dockyard.core.ids import new_uuid
from dockyard.core.loadbalancing import TargetGroups
from dockyard.core.scaling import ManagedAlarms
from dockyard.core.scope import Scope
from dockyard.core.timefmt import iso
from dockyard.services.ec2autoscaling.errors import ValidationError
from dockyard.services.ec2autoscaling.model import (
    Activity,
    ActivityStatus,
    Group,
    Policy,
    ScheduledAction,
    group_key,
)
from dockyard.store.base import Store

log = logging.getLogger(__name__)

GROUP_KIND = "ec2autoscaling.group"
POLICY_KIND = "ec2autoscaling.policy"
ACTIVITY_KIND = "ec2autoscaling.activity"
SCHEDULED_KIND = "ec2autoscaling.scheduled"
MAX_ACTIVITIES = 200  # per group, the newest kept


class Ec2AutoScaling:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        fleet: InstanceFleet | None = None,
        target_groups: TargetGroups | None = None,
        alarms: ManagedAlarms | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.fleet = fleet
        self.target_groups = target_groups
        self.alarms = alarms
        self.groups: dict[str, Group] = {}  # by group key
        self.policies: dict[str, Policy] = {}  # by ARN
        self.activities: dict[str, list[Activity]] = {}  # by group key, oldest first
        self.scheduled: dict[str, ScheduledAction] = {}  # by ARN
        self.seq = 0  # of the newest activity
        self.changed_hooks: list[Callable[[str], None]] = []  # a group key that changed
        self.scheduled_hooks: list[Callable[[str], None]] = []  # a scheduled action ARN
        self.outbox: Mailbox[dict[str, Any]] = Mailbox(
            "ec2autoscaling-events", events.emit if events is not None else lambda _e: None
        )

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(GROUP_KIND):
            self.groups[key] = Group.from_dict(body)
        for key, body in self.store.load(POLICY_KIND):
            self.policies[key] = Policy.from_dict(body)
        for key, body in self.store.load(SCHEDULED_KIND):
            self.scheduled[key] = ScheduledAction.from_dict(body)
        for _key, body in self.store.load(ACTIVITY_KIND):
            act = Activity.from_dict(body)
            self.activities.setdefault(act.group_key, []).append(act)
        for acts in self.activities.values():
            acts.sort(key=_activity_order)
        self.seq = max((a.seq for acts in self.activities.values() for a in acts), default=0)

    def reset(self) -> None:
        self.groups.clear()
        self.policies.clear()
        self.activities.clear()
        self.scheduled.clear()

    # -- reading ---------------------------------------------------------------------------

    def group(self, scope: Scope, name: str) -> Group:
        found = self.groups.get(group_key(scope, name))
        if found is None or (found.deleting and not self.instances_left(found)):
            raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {name} "
                                  "not found")  # fmt: skip
        return found

    def find_group(self, scope: Scope, name_or_arn: str) -> Group:
        if name_or_arn.startswith("arn:"):
            name = name_or_arn.rsplit("autoScalingGroupName/", 1)[-1]
            return self.group(scope, name)
        return self.group(scope, name_or_arn)

    @staticmethod
    def instances_left(group: Group) -> bool:
        return bool(group.instances)

    def groups_of(self, scope: Scope) -> list[Group]:
        prefix = scope.key("group", "")
        return sorted((g for k, g in self.groups.items() if k.startswith(prefix)),
                      key=lambda g: g.name)  # fmt: skip

    def scheduled_of(self, group: Group) -> list[ScheduledAction]:
        return sorted((a for a in self.scheduled.values() if a.group_key == group.key),
                      key=lambda a: a.name)  # fmt: skip

    def policies_of(self, group: Group) -> list[Policy]:
        return sorted((p for p in self.policies.values() if p.group_key == group.key),
                      key=lambda p: p.name)  # fmt: skip

    # -- the unit of work --------------------------------------------------------------------

    def commit(
        self,
        groups: Iterable[Group] = (),
        *,
        activities: Iterable[Activity] = (),
        policies: Iterable[Policy] = (),
        deleted_groups: Iterable[Group] = (),
        deleted_policies: Iterable[Policy] = (),
        events: Iterable[dict[str, Any]] = (),
        scheduled: Iterable[ScheduledAction] = (),
        deleted_scheduled: Iterable[ScheduledAction] = (),
    ) -> None:
        """Write every change in one transaction, then apply it to memory, then queue its
        events and wake the controller. A refused write changes nothing."""
        groups, activities, policies = list(groups), list(activities), list(policies)
        deleted_groups, deleted_policies = list(deleted_groups), list(deleted_policies)
        scheduled, deleted_scheduled = list(scheduled), list(deleted_scheduled)
        # A deleted group's scheduled actions go with it.
        gone_groups = {g.key for g in deleted_groups}
        deleted_scheduled += [a for a in self.scheduled.values() if a.group_key in gone_groups
                              and a not in deleted_scheduled]  # fmt: skip
        # Each group keeps its newest MAX_ACTIVITIES activities: the oldest known ones go to
        # make room for the new ones of this change.
        trimmed: list[Activity] = []
        for key in dict.fromkeys(a.group_key for a in activities):
            ours = {a.id for a in activities if a.group_key == key}
            known = [a for a in self.activities.get(key, []) if a.id not in ours]
            excess = len(known) + len(ours) - MAX_ACTIVITIES
            if excess > 0:
                trimmed.extend(known[:excess])
        puts = [(GROUP_KIND, g.key, g.to_dict()) for g in groups]
        puts += [(POLICY_KIND, p.arn, p.to_dict()) for p in policies]
        puts += [(ACTIVITY_KIND, _activity_key(a), a.to_dict()) for a in activities]
        puts += [(SCHEDULED_KIND, a.arn, a.to_dict()) for a in scheduled]
        deletes = [(GROUP_KIND, g.key) for g in deleted_groups]
        deletes += [(POLICY_KIND, p.arn) for p in deleted_policies]
        deletes += [(ACTIVITY_KIND, _activity_key(a)) for a in trimmed]
        deletes += [(SCHEDULED_KIND, a.arn) for a in deleted_scheduled]
        for g in deleted_groups:
            deletes += [(ACTIVITY_KIND, _activity_key(a)) for a in self.activities.get(g.key, [])]
        self.store.write(puts, deletes)
        for g in groups:
            self.groups[g.key] = g
        for p in policies:
            self.policies[p.arn] = p
        for p in deleted_policies:
            self.policies.pop(p.arn, None)
        for action in scheduled:
            self.scheduled[action.arn] = action
        for action in deleted_scheduled:
            self.scheduled.pop(action.arn, None)
        gone = {a.id for a in trimmed}
        for act in activities:
            acts = [a for a in self.activities.get(act.group_key, []) if a.id not in gone]
            for i, a in enumerate(acts):
                if a.id == act.id:
                    acts[i] = act
                    break
            else:
                acts.append(act)
            acts.sort(key=_activity_order)  # as `load` orders them
            self.activities[act.group_key] = acts
        for g in deleted_groups:
            self.groups.pop(g.key, None)
            self.activities.pop(g.key, None)
        for event in events:
            self.outbox.put(event)
        for key in {g.key for g in groups} | {g.key for g in deleted_groups}:
            for hook in self.changed_hooks:
                hook(key)
        for arn in {a.arn for a in scheduled} | {a.arn for a in deleted_scheduled}:
            for scheduled_hook in self.scheduled_hooks:
                scheduled_hook(arn)

    # -- activities and events ------------------------------------------------------------

    def stamp(self, now: float | None = None) -> str:
        return iso(self.clock.now() if now is None else now, "s")

    def activity(self, group: Group, description: str, cause: str,
                 status: str = "InProgress") -> Activity:  # fmt: skip
        self.seq += 1
        return Activity(new_uuid(), group.key, group.name, description, cause,
                        self.clock.now(), ActivityStatus(status), seq=self.seq)  # fmt: skip

    def event(self, group: Group, detail_type: str, detail: dict[str, Any],
              resources: Iterable[str] = ()) -> dict[str, Any]:  # fmt: skip
        return {
            "version": "0",
            "id": new_uuid(),
            "detail-type": detail_type,
            "source": "aws.autoscaling",
            "account": group.account_id,
            "time": iso(self.clock.now(), "s"),
            "region": group.region,
            "resources": [group.arn, *resources],
            "detail": detail,
        }


def _activity_order(a: Activity) -> tuple[float, int]:
    return (a.start, a.seq)


def _activity_key(a: Activity) -> str:
    return f"{a.group_key}/{a.start:017.6f}-{a.id}"
