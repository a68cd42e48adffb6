"""EC2 Auto Scaling operations on instances, lifecycle hooks, scaling policies and scaling
activities (wire ↔ typed calls)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scaling import AlarmFiring
from dockyard.services.ec2autoscaling import instances, policies, validation, wire
from dockyard.services.ec2autoscaling.errors import ScalingActivityInProgress, ValidationError
from dockyard.services.ec2autoscaling.model import (
    Activity,
    ActivityStatus,
    AdjustmentType,
    Group,
    Policy,
    PolicyType,
    Transition,
)
from dockyard.services.ec2autoscaling.ops_groups import max_records
from dockyard.services.ec2autoscaling.paging import page, page_in_order
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

_OPEN = frozenset({ActivityStatus.IN_PROGRESS, ActivityStatus.MID_LIFECYCLE_ACTION,
                   ActivityStatus.WAITING_FOR_ELB_CONNECTION_DRAINING})  # fmt: skip


def activity_order(acts: list[Activity]) -> list[Activity]:
    """As AWS lists them: activities in progress first, then the newest first."""
    return sorted(acts, key=lambda a: (a.status not in _OPEN, -a.start, -a.seq))


def _instant(name: str, value: str) -> float:
    """An ISO 8601 timestamp of a filter (UTC unless it has an offset)."""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"Invalid value {value} for filter {name}: expected an ISO 8601 "
                              "timestamp such as 2000-01-18T08:15:00Z") from exc  # fmt: skip
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def activity_filter(acts: list[Activity], filters: list[dict[str, Any]],
                    by_group: bool) -> list[Activity]:  # fmt: skip
    """DescribeScalingActivities' filters: StartTimeLowerBound, StartTimeUpperBound and
    (with AutoScalingGroupName only) Status."""
    for f in filters:
        name, values = str(f.get("Name") or ""), [str(v) for v in f.get("Values") or []]
        if name in ("StartTimeLowerBound", "StartTimeUpperBound"):
            if len(values) != 1:
                raise ValidationError(f"Filter {name} takes exactly one value.")
            bound = _instant(name, values[0])
            lower = name == "StartTimeLowerBound"
            acts = [a for a in acts if (a.start >= bound if lower else a.start <= bound)]
        elif name == "Status":
            if not by_group:
                raise ValidationError("The Status filter can only be used in combination with "
                                      "the AutoScalingGroupName parameter.")  # fmt: skip
            acts = [a for a in acts if a.status.value in set(values)]
        else:
            raise ValidationError(
                f"Filter type {name} is not correct. Allowed Filter types are: "
                "StartTimeLowerBound StartTimeUpperBound Status"
            )
    return acts


def handlers(asg: Ec2AutoScaling) -> dict[str, Handler]:
    def group_arn(act: Activity) -> str | None:
        group = asg.groups.get(act.group_key)
        return group.arn if group is not None else None

    def act_wire(act: Activity) -> Result:
        return wire.activity_to_wire(act, group_arn(act))

    def find_activity(group: Group, activity_id: str | None) -> Activity | None:
        return next((a for a in asg.activities.get(group.key, []) if a.id == activity_id), None)

    # -- instances ------------------------------------------------------------------------

    def describe_auto_scaling_instances(ctx: RequestContext, p: Params) -> Result:
        rows = [(g, i) for g in asg.groups_of(scope_of(ctx)) for i in g.instances.values()]
        ids = p.get("InstanceIds")
        if ids:
            wanted = set(ids)
            rows = [(g, i) for g, i in rows if i.instance_id in wanted]
        chunk, token = page(rows, lambda r: r[1].instance_id, p.get("NextToken"),
                            max_records(p, 50, 50))  # fmt: skip
        out: Result = {"AutoScalingInstances": [wire.instance_details(g, i) for g, i in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def set_instance_health(ctx: RequestContext, p: Params) -> Result:
        respect = p.get("ShouldRespectGracePeriod")
        instances.set_health(asg, scope_of(ctx), p["InstanceId"], p["HealthStatus"],
                             True if respect is None else bool(respect))  # fmt: skip
        return {}

    def set_instance_protection(ctx: RequestContext, p: Params) -> Result:
        ids, protect = list(p["InstanceIds"]), bool(p["ProtectedFromScaleIn"])
        instances.set_protection(asg, scope_of(ctx), p["AutoScalingGroupName"], ids, protect)
        return {}

    def terminate_instance_in_auto_scaling_group(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        change = instances.terminate(asg, scope, p["InstanceId"],
                                     bool(p["ShouldDecrementDesiredCapacity"]))  # fmt: skip
        if change.activities:
            return {"Activity": act_wire(change.activities[-1])}
        # Already on its way out: the activity that takes it out.
        group = instances.owner(asg, scope, p["InstanceId"])
        inst = group.instances.get(p["InstanceId"]) if group is not None else None
        act = find_activity(group, inst.activity_id) if group and inst else None
        return {"Activity": act_wire(act)} if act is not None else {}

    def attach_instances(ctx: RequestContext, p: Params) -> Result:
        instances.attach(asg, scope_of(ctx), p["AutoScalingGroupName"],
                         list(p.get("InstanceIds") or []))  # fmt: skip
        return {}

    def detach_instances(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        name = p["AutoScalingGroupName"]
        ids = instances.detach(asg, scope, name, list(p.get("InstanceIds") or []),
                               bool(p["ShouldDecrementDesiredCapacity"]))  # fmt: skip
        group = asg.group(scope, name)
        acts = [a for a in (find_activity(group, i) for i in ids) if a is not None]
        return {"Activities": [act_wire(a) for a in acts]}

    # -- lifecycle hooks ------------------------------------------------------------------

    def put_lifecycle_hook(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        group = asg.group(scope, p["AutoScalingGroupName"])
        transition, timeout, result = validation.hook_fields(
            p, existing=p["LifecycleHookName"] in group.hooks
        )
        instances.put_hook(asg, scope, group.name, p["LifecycleHookName"], transition, timeout,
                           result, p.get("NotificationMetadata"), p.get("NotificationTargetARN"),
                           p.get("RoleARN"))  # fmt: skip
        return {}

    def delete_lifecycle_hook(ctx: RequestContext, p: Params) -> Result:
        instances.delete_hook(asg, scope_of(ctx), p["AutoScalingGroupName"],
                              p["LifecycleHookName"])  # fmt: skip
        return {}

    def describe_lifecycle_hooks(ctx: RequestContext, p: Params) -> Result:
        group = asg.group(scope_of(ctx), p["AutoScalingGroupName"])
        hooks = sorted(group.hooks.values(), key=lambda h: h.name)
        names = p.get("LifecycleHookNames")
        if names:
            hooks = [h for h in hooks if h.name in set(names)]
        return {"LifecycleHooks": [wire.hook_to_wire(group, h) for h in hooks]}

    def describe_lifecycle_hook_types(ctx: RequestContext, p: Params) -> Result:
        return {"LifecycleHookTypes": [t.value for t in Transition]}

    def complete_lifecycle_action(ctx: RequestContext, p: Params) -> Result:
        instances.complete(asg, scope_of(ctx), p["AutoScalingGroupName"], p["LifecycleHookName"],
                           p["LifecycleActionResult"], p.get("LifecycleActionToken"),
                           p.get("InstanceId"))  # fmt: skip
        return {}

    def record_lifecycle_action_heartbeat(ctx: RequestContext, p: Params) -> Result:
        instances.record_heartbeat(asg, scope_of(ctx), p["AutoScalingGroupName"],
                                   p["LifecycleHookName"], p.get("LifecycleActionToken"),
                                   p.get("InstanceId"))  # fmt: skip
        return {}

    # -- scaling policies -----------------------------------------------------------------

    def group_of_policy(ctx: RequestContext, p: Params) -> str:
        name = p.get("AutoScalingGroupName")
        if name:
            return str(name)
        policy = asg.policies.get(str(p.get("PolicyName") or ""))
        if policy is None:
            raise ValidationError("AutoScalingGroupName is required unless PolicyName is a "
                                  "policy ARN.")  # fmt: skip
        return policy.group_name

    def find_policy(ctx: RequestContext, p: Params) -> tuple[Group, Policy]:
        group = asg.group(scope_of(ctx), group_of_policy(ctx, p))
        name = p["PolicyName"]
        policy = next((x for x in asg.policies_of(group) if name in (x.name, x.arn)), None)
        if policy is None:
            raise ValidationError(f"No scaling policy found for service namespace: "
                                  f"autoscaling, policy name: {name}")  # fmt: skip
        return group, policy

    def put_scaling_policy(ctx: RequestContext, p: Params) -> Result:
        if p.get("MinAdjustmentStep") is not None:
            raise ValidationError("MinAdjustmentStep is not supported by Dockyard: use "
                                  "MinAdjustmentMagnitude.")  # fmt: skip
        if p.get("PredictiveScalingConfiguration") is not None:
            raise ValidationError("PredictiveScalingConfiguration is not supported by "
                                  "Dockyard.")  # fmt: skip
        policy = policies.put(asg, scope_of(ctx), p["AutoScalingGroupName"], p["PolicyName"], p)
        return {"PolicyARN": policy.arn, "Alarms": wire.policy_to_wire(policy)["Alarms"]}

    def delete_policy(ctx: RequestContext, p: Params) -> Result:
        policies.delete(asg, scope_of(ctx), group_of_policy(ctx, p), p["PolicyName"])
        return {}

    def describe_policies(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = [x for x in asg.policies.values() if x.group_key.startswith(scope.key("group", ""))]
        if p.get("AutoScalingGroupName"):
            found = [x for x in found if x.group_name == p["AutoScalingGroupName"]]
        if p.get("PolicyNames"):
            wanted = set(p["PolicyNames"])
            found = [x for x in found if x.name in wanted or x.arn in wanted]
        if p.get("PolicyTypes"):
            kinds = set(p["PolicyTypes"])
            found = [x for x in found if x.policy_type.value in kinds]
        chunk, token = page(found, lambda x: f"{x.group_name}\x00{x.name}", p.get("NextToken"),
                            max_records(p))  # fmt: skip
        out: Result = {"ScalingPolicies": [wire.policy_to_wire(x) for x in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def execute_policy(ctx: RequestContext, p: Params) -> Result:
        group, policy = find_policy(ctx, p)
        if policy.policy_type == PolicyType.TARGET_TRACKING:
            raise ValidationError("ExecutePolicy is not supported for a TargetTrackingScaling "
                                  "policy.")  # fmt: skip
        firing = None
        if policy.policy_type == PolicyType.STEP:
            if p.get("MetricValue") is None or p.get("BreachThreshold") is None:
                raise ValidationError("MetricValue and BreachThreshold are required for a "
                                      "StepScaling policy.")  # fmt: skip
            firing = AlarmFiring("", "", "ALARM", float(p["BreachThreshold"]),
                                 float(p["MetricValue"]))  # fmt: skip
        honor = bool(p.get("HonorCooldown"))
        if honor and policy.policy_type == PolicyType.SIMPLE and group.last_scaled is not None:
            cooldown = policy.cooldown if policy.cooldown is not None else group.default_cooldown
            if asg.clock.now() - group.last_scaled < cooldown:
                raise ScalingActivityInProgress("Scaling activity is in progress or the group "
                                                "is in its cooldown period.")  # fmt: skip
        if group.deleting:
            raise ScalingActivityInProgress(f"The AutoScalingGroup {group.name} is being "
                                            "deleted.")  # fmt: skip
        cause = f"At {asg.stamp()} a user request executed policy {policy.name}"
        policies.execute(asg, group, policy, firing, cause, honor_cooldown=honor)
        return {}

    def describe_adjustment_types(ctx: RequestContext, p: Params) -> Result:
        return {"AdjustmentTypes": [{"AdjustmentType": a.value} for a in AdjustmentType]}

    # -- scaling activities ---------------------------------------------------------------

    def describe_scaling_activities(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        name = p.get("AutoScalingGroupName")
        if name:
            group = asg.groups.get(scope.key("group", name))
            acts = list(asg.activities.get(group.key, [])) if group is not None else []
        else:
            prefix = scope.key("group", "")
            acts = [a for k, v in asg.activities.items() if k.startswith(prefix) for a in v]
        if p.get("ActivityIds"):
            wanted = set(p["ActivityIds"])
            acts = [a for a in acts if a.id in wanted]
        acts = activity_filter(acts, p.get("Filters") or [], bool(name))
        chunk, token = page_in_order(activity_order(acts), lambda a: a.id, p.get("NextToken"),
                                     max_records(p, 100, 100))  # fmt: skip
        out: Result = {"Activities": [act_wire(a) for a in chunk]}
        if token:
            out["NextToken"] = token
        return out

    return {
        "DescribeAutoScalingInstances": describe_auto_scaling_instances,
        "SetInstanceHealth": set_instance_health,
        "SetInstanceProtection": set_instance_protection,
        "TerminateInstanceInAutoScalingGroup": terminate_instance_in_auto_scaling_group,
        "AttachInstances": attach_instances,
        "DetachInstances": detach_instances,
        "PutLifecycleHook": put_lifecycle_hook,
        "DeleteLifecycleHook": delete_lifecycle_hook,
        "DescribeLifecycleHooks": describe_lifecycle_hooks,
        "DescribeLifecycleHookTypes": describe_lifecycle_hook_types,
        "CompleteLifecycleAction": complete_lifecycle_action,
        "RecordLifecycleActionHeartbeat": record_lifecycle_action_heartbeat,
        "PutScalingPolicy": put_scaling_policy,
        "DeletePolicy": delete_policy,
        "DescribePolicies": describe_policies,
        "ExecutePolicy": execute_policy,
        "DescribeAdjustmentTypes": describe_adjustment_types,
        "DescribeScalingActivities": describe_scaling_activities,
    }
