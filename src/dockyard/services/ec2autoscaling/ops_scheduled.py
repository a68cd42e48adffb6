"""EC2 Auto Scaling's scheduled actions (wire ↔ typed calls): put, batch put, delete, batch
delete and describe."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.errors import ServiceError
from dockyard.services.ec2autoscaling import scheduled
from dockyard.services.ec2autoscaling.errors import ValidationError
from dockyard.services.ec2autoscaling.model import Group, ScheduledAction
from dockyard.services.ec2autoscaling.ops_groups import max_records
from dockyard.services.ec2autoscaling.paging import page
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

MAX_BATCH = 50


def scheduled_to_wire(action: ScheduledAction) -> Result:
    out: Result = {
        "AutoScalingGroupName": action.group_name,
        "ScheduledActionName": action.name,
        "ScheduledActionARN": action.arn,
    }
    when = scheduled.next_run(action) or action.start
    if when is not None:
        out["Time"] = out["StartTime"] = when
    for field, value in (("EndTime", action.end), ("Recurrence", action.recurrence),
                         ("MinSize", action.min_size), ("MaxSize", action.max_size),
                         ("DesiredCapacity", action.desired),
                         ("TimeZone", action.timezone)):  # fmt: skip
        if value is not None:
            out[field] = value
    return out


def _failure(name: str, exc: ServiceError) -> Result:
    return {"ScheduledActionName": name, "ErrorCode": exc.code, "ErrorMessage": exc.message}


def handlers(asg: Ec2AutoScaling) -> dict[str, Handler]:
    def find(group: Group, name: str) -> ScheduledAction:
        found = next((a for a in asg.scheduled_of(group) if a.name == name), None)
        if found is None:
            raise ValidationError(f"Scheduled Update Group Action name not found - Could not "
                                  f"find scheduled update group action {name} for group "
                                  f"{group.name}")  # fmt: skip
        return found

    def put_scheduled_update_group_action(ctx: RequestContext, p: Params) -> Result:
        action = scheduled.build(asg, scope_of(ctx), p["AutoScalingGroupName"], p)
        asg.commit(scheduled=[action])
        return {}

    def batch_put_scheduled_update_group_action(ctx: RequestContext, p: Params) -> Result:
        scope, name = scope_of(ctx), p["AutoScalingGroupName"]
        asg.group(scope, name)
        items: list[dict[str, Any]] = list(p["ScheduledUpdateGroupActions"])
        if len(items) > MAX_BATCH:
            raise ValidationError(f"At most {MAX_BATCH} scheduled actions can be put at once.")
        built: list[ScheduledAction] = []
        failed: list[Result] = []
        seen: set[str] = set()
        for item in items:
            action_name = str(item["ScheduledActionName"])
            try:
                if action_name in seen:
                    raise ValidationError(f"Scheduled action {action_name} is given twice.")
                seen.add(action_name)
                built.append(scheduled.build(asg, scope, name, item))
            except ServiceError as exc:
                failed.append(_failure(action_name, exc))
        if built:
            asg.commit(scheduled=built)
        return {"FailedScheduledUpdateGroupActions": failed}

    def delete_scheduled_action(ctx: RequestContext, p: Params) -> Result:
        group = asg.group(scope_of(ctx), p["AutoScalingGroupName"])
        asg.commit(deleted_scheduled=[find(group, p["ScheduledActionName"])])
        return {}

    def batch_delete_scheduled_action(ctx: RequestContext, p: Params) -> Result:
        group = asg.group(scope_of(ctx), p["AutoScalingGroupName"])
        names = list(dict.fromkeys(p["ScheduledActionNames"]))
        if len(names) > MAX_BATCH:
            raise ValidationError(f"At most {MAX_BATCH} scheduled actions can be deleted at "
                                  "once.")  # fmt: skip
        gone: list[ScheduledAction] = []
        failed: list[Result] = []
        for action_name in names:
            try:
                gone.append(find(group, action_name))
            except ServiceError as exc:
                failed.append(_failure(action_name, exc))
        if gone:
            asg.commit(deleted_scheduled=gone)
        return {"FailedScheduledActions": failed}

    def describe_scheduled_actions(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        prefix = scope.key("group", "")
        found = [a for a in asg.scheduled.values() if a.group_key.startswith(prefix)]
        if p.get("AutoScalingGroupName"):
            found = [a for a in found if a.group_name == p["AutoScalingGroupName"]]
        if p.get("ScheduledActionNames"):
            wanted = set(p["ScheduledActionNames"])
            found = [a for a in found if a.name in wanted]
        else:  # AWS ignores the time window when names are given
            low = scheduled.seconds(p.get("StartTime"))
            high = scheduled.seconds(p.get("EndTime"))
            found = [a for a in found if _within(scheduled.next_run(a), low, high)]
        chunk, token = page(found, lambda a: f"{a.group_name}\x00{a.name}", p.get("NextToken"),
                            max_records(p))  # fmt: skip
        out: Result = {"ScheduledUpdateGroupActions": [scheduled_to_wire(a) for a in chunk]}
        if token:
            out["NextToken"] = token
        return out

    return {
        "PutScheduledUpdateGroupAction": put_scheduled_update_group_action,
        "BatchPutScheduledUpdateGroupAction": batch_put_scheduled_update_group_action,
        "DeleteScheduledAction": delete_scheduled_action,
        "BatchDeleteScheduledAction": batch_delete_scheduled_action,
        "DescribeScheduledActions": describe_scheduled_actions,
    }


def _within(when: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    if when is None:
        return False
    return (low is None or when >= low) and (high is None or when <= high)
