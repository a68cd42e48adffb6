"""Scheduled actions: PutScheduledUpdateGroupAction's checks, when an action runs next, and
what running it does to its group (the schedules controller calls `run`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dockyard.core import schedule
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import recurrence, validation
from dockyard.services.ec2autoscaling.errors import LimitExceeded, ValidationError
from dockyard.services.ec2autoscaling.model import Process, ScheduledAction, scheduled_arn
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

MAX_PER_GROUP = 125


def seconds(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def check(asg: Ec2AutoScaling, group_name: str, p: dict[str, Any]) -> None:
    """The checks of one action's parameters, in the order AWS answers them."""
    if p.get("Time") is not None and p.get("StartTime") is not None:
        raise ValidationError("Time and StartTime cannot both be specified; use StartTime.")
    if all(p.get(n) is None for n in ("MinSize", "MaxSize", "DesiredCapacity")):
        raise ValidationError("At least one of MinSize, MaxSize, or DesiredCapacity must be "
                              "specified.")  # fmt: skip
    start = seconds(p.get("StartTime", p.get("Time")))
    end = seconds(p.get("EndTime"))
    now = asg.clock.now()
    if start is None and not p.get("Recurrence"):
        raise ValidationError("Either StartTime or Recurrence must be specified.")
    if start is not None and start < now:
        raise ValidationError("Given start time is in the past")
    if end is not None:
        if end < now:
            raise ValidationError("Given end time is in the past")
        if start is not None and end <= start:
            raise ValidationError("Start time must be before end time")
        if not p.get("Recurrence"):
            raise ValidationError("EndTime can only be specified with a Recurrence.")
    if p.get("Recurrence"):
        recurrence.parse(str(p["Recurrence"]))
    if p.get("TimeZone"):
        try:
            schedule.zone_of(str(p["TimeZone"]))
        except schedule.ScheduleError as exc:
            raise ValidationError(f"Invalid time zone {p['TimeZone']}: use an IANA time zone "
                                  "such as Etc/UTC or America/New_York.") from exc  # fmt: skip
    low, high, want = p.get("MinSize"), p.get("MaxSize"), p.get("DesiredCapacity")
    if low is not None and high is not None and int(high) < int(low):
        raise ValidationError(f"Max bound, {high}, must be greater than or equal to min bound, "
                              f"{low}")  # fmt: skip
    if want is not None and low is not None and high is not None:
        validation.bounds(int(low), int(high), int(want))


def build(asg: Ec2AutoScaling, scope: Scope, group_name: str, p: dict[str, Any]
          ) -> ScheduledAction:  # fmt: skip
    """The new record of an action (checked), keeping the ARN of the one it replaces."""
    group = asg.group(scope, group_name)
    check(asg, group_name, p)
    name = str(p["ScheduledActionName"])
    existing = next((a for a in asg.scheduled_of(group) if a.name == name), None)
    if existing is None and len(asg.scheduled_of(group)) >= MAX_PER_GROUP:
        raise LimitExceeded(f"Maximum number of scheduled actions ({MAX_PER_GROUP}) for the "
                            f"AutoScalingGroup {group_name} reached.")  # fmt: skip
    uid = new_uuid()
    return ScheduledAction(
        existing.arn if existing else scheduled_arn(scope, group.name, name, uid), name,
        group.key, group.name, asg.clock.now(), start=seconds(p.get("StartTime", p.get("Time"))),
        end=seconds(p.get("EndTime")), recurrence=p.get("Recurrence") or None,
        timezone=p.get("TimeZone") or None, min_size=p.get("MinSize"),
        max_size=p.get("MaxSize"), desired=p.get("DesiredCapacity"),
    )  # fmt: skip


def next_run(action: ScheduledAction) -> float | None:
    """When the action runs next (it may be past: it runs at once), or None: never again."""
    if not action.recurrence:
        return action.start if action.last_run is None else None
    sched = recurrence.parse(action.recurrence)
    after = action.last_run if action.last_run is not None else action.created
    if action.start is not None:
        after = max(after, action.start - 1)
    due = sched.next_time(after, origin=action.created, tz=action.timezone)
    if due is None or (action.end is not None and due > action.end):
        return None
    return due


def run(asg: Ec2AutoScaling, action: ScheduledAction) -> None:
    """The action's time has come: the group takes its sizes (unless ScheduledActions is
    suspended: then this run is skipped); a one-time action is then deleted."""
    now = asg.clock.now()
    done = ScheduledAction.from_dict(action.to_dict())
    done.last_run = now
    group = asg.groups.get(action.group_key)
    keep = [done] if action.recurrence else []
    gone = [] if action.recurrence else [action]
    if group is None or group.deleting or group.is_suspended(Process.SCHEDULED_ACTIONS):
        asg.commit(scheduled=keep, deleted_scheduled=gone)
        return
    new = group.copy()
    low = action.min_size if action.min_size is not None else group.min_size
    high = action.max_size if action.max_size is not None else group.max_size
    high = max(high, low)
    want = action.desired if action.desired is not None else group.desired
    want = min(max(want, low), high)
    new.min_size, new.max_size = low, high
    if want != group.desired:
        new.capacity_cause = (f"At {asg.stamp(now)} a scheduled action update of "
                              f"AutoScalingGroup constraints to min: {low}, max: {high}, "
                              f"desired: {want} changing the desired capacity from "
                              f"{group.desired} to {want}.")  # fmt: skip
        new.desired = want
    asg.commit([new], scheduled=keep, deleted_scheduled=gone)
