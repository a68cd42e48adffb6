"""Application Auto Scaling operations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core import schedule
from dockyard.core.ids import arn, new_uuid
from dockyard.core.paging import InvalidToken, page
from dockyard.services.autoscaling.errors import (
    InvalidNextTokenException,
    ObjectNotFoundException,
    ValidationException,
)
from dockyard.services.autoscaling.model import (
    Policy,
    ScalableTarget,
    ScheduledAction,
    policy_arn,
    scheduled_action_arn,
    target_key,
)
from dockyard.services.autoscaling.service import PREDEFINED, AutoScaling

SUPPORTED = {("ecs", "ecs:service:DesiredCount")}


def seconds(value: Any) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def _ids(target: ScalableTarget) -> Result:
    return {"ServiceNamespace": target.namespace, "ResourceId": target.resource_id,
            "ScalableDimension": target.dimension}  # fmt: skip


def target_to_wire(t: ScalableTarget) -> Result:
    return {**_ids(t), "MinCapacity": t.min_capacity, "MaxCapacity": t.max_capacity,
            "RoleARN": t.role_arn, "CreationTime": t.created, "ScalableTargetARN": t.arn,
            "SuspendedState": {k: bool(t.suspended.get(k, False)) for k in (
                "DynamicScalingInSuspended", "DynamicScalingOutSuspended",
                "ScheduledScalingSuspended")}}  # fmt: skip


def _selected(target: ScalableTarget | None, scope: Any, p: Params) -> bool:
    """Whether a Describe* request's namespace, resource and dimension filters admit it."""
    if target is None or target.scope != scope or target.namespace != p["ServiceNamespace"]:
        return False
    if p.get("ResourceId") and target.resource_id != p["ResourceId"]:
        return False
    return not (p.get("ScalableDimension") and target.dimension != p["ScalableDimension"])


def _page(items: list[Any], key: Any, p: Params) -> tuple[list[Any], str | None]:
    try:
        return page(items, key, p.get("NextToken"), p.get("MaxResults"), 50)
    except InvalidToken as exc:
        raise InvalidNextTokenException("The NextToken is not valid.") from exc


def handlers(aas: AutoScaling) -> dict[str, Handler]:
    def find_target(ctx: RequestContext, p: Params) -> ScalableTarget:
        key = target_key(scope_of(ctx), p["ServiceNamespace"], p["ResourceId"],
                         p["ScalableDimension"])  # fmt: skip
        target = aas.targets.get(key)
        if target is None:
            raise ObjectNotFoundException(
                f"No scalable target registered for service namespace: {p['ServiceNamespace']}, "
                f"resource ID: {p['ResourceId']}, scalable dimension: {p['ScalableDimension']}"
            )
        return target

    def register_scalable_target(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        ns, dim, rid = p["ServiceNamespace"], p["ScalableDimension"], p["ResourceId"]
        if (ns, dim) not in SUPPORTED:
            raise ValidationException(
                f"Dockyard scales only ECS services (ServiceNamespace ecs, ScalableDimension "
                f"ecs:service:DesiredCount); got {ns} / {dim}."
            )
        if rid.count("/") != 2 or not rid.startswith("service/"):
            raise ValidationException(f"Unsupported resource ID {rid}: expected "
                                      "service/<cluster>/<service>.")  # fmt: skip
        if (
            aas.scalable is None
            or aas.scalable.capacity(scope.account_id, scope.region, ns, rid, dim) is None
        ):
            raise ValidationException(f"ECS service doesn't exist: {rid}")
        key = target_key(scope, ns, rid, dim)
        target = aas.targets.get(key)
        if target is None:
            if "MinCapacity" not in p or "MaxCapacity" not in p:
                raise ValidationException("MinCapacity and MaxCapacity are required to register "
                                          "a new scalable target.")  # fmt: skip
            target = ScalableTarget(
                key, arn("application-autoscaling", scope.region, scope.account_id,
                         f"scalable-target/{new_uuid().replace('-', '')[:28]}"),
                scope.account_id, scope.region, ns, rid, dim, int(p["MinCapacity"]),
                int(p["MaxCapacity"]), aas.clock.now(),
                p.get("RoleARN") or arn("iam", "", scope.account_id,
                    "role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                    "AWSServiceRoleForApplicationAutoScaling_ECSService"),
            )  # fmt: skip
        target.min_capacity = int(p.get("MinCapacity", target.min_capacity))
        target.max_capacity = int(p.get("MaxCapacity", target.max_capacity))
        if target.min_capacity < 0 or target.min_capacity > target.max_capacity:
            raise ValidationException(
                f"Minimum capacity ({target.min_capacity}) cannot be greater than maximum "
                f"capacity ({target.max_capacity})."
            )
        if p.get("SuspendedState"):
            target.suspended.update({k: bool(v) for k, v in p["SuspendedState"].items()})
        aas.save_target(target)
        current = aas.current(target)
        if current is not None and not target.min_capacity <= current <= target.max_capacity:
            aas.scale(target, current, "scalable target registered: capacity kept within "
                      f"{target.min_capacity}-{target.max_capacity}")  # fmt: skip
        return {"ScalableTargetARN": target.arn}

    def describe_scalable_targets(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = sorted((t for t in aas.targets.values() if t.scope == scope
                        and t.namespace == p["ServiceNamespace"]), key=lambda t: t.key)  # fmt: skip
        if p.get("ResourceIds"):
            found = [t for t in found if t.resource_id in p["ResourceIds"]]
        if p.get("ScalableDimension"):
            found = [t for t in found if t.dimension == p["ScalableDimension"]]
        chunk, token = _page(found, lambda t: t.key, p)
        out: Result = {"ScalableTargets": [target_to_wire(t) for t in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def deregister_scalable_target(ctx: RequestContext, p: Params) -> Result:
        aas.delete_target(find_target(ctx, p))
        return {}

    def put_scaling_policy(ctx: RequestContext, p: Params) -> Result:
        target = find_target(ctx, p)
        kind = p.get("PolicyType") or "StepScaling"
        if kind == "StepScaling":
            config = p.get("StepScalingPolicyConfiguration")
            if not config:
                raise ValidationException("StepScalingPolicyConfiguration is required for "
                                          "StepScaling policies.")  # fmt: skip
            if not config.get("StepAdjustments") or not config.get("AdjustmentType"):
                raise ValidationException("StepAdjustments and AdjustmentType are required.")
        elif kind == "TargetTrackingScaling":
            config = p.get("TargetTrackingScalingPolicyConfiguration")
            if not config:
                raise ValidationException("TargetTrackingScalingPolicyConfiguration is required "
                                          "for TargetTrackingScaling policies.")  # fmt: skip
            predefined = config.get("PredefinedMetricSpecification")
            if predefined is None and config.get("CustomizedMetricSpecification") is None:
                raise ValidationException("A target tracking policy needs a predefined or a "
                                          "customized metric specification.")  # fmt: skip
            if predefined is not None and predefined["PredefinedMetricType"] not in PREDEFINED:
                raise ValidationException(f"Unsupported PredefinedMetricType "
                                          f"{predefined['PredefinedMetricType']}.")  # fmt: skip
            if (predefined or {}).get(
                "PredefinedMetricType"
            ) == "ALBRequestCountPerTarget" and not predefined.get("ResourceLabel"):
                raise ValidationException("ResourceLabel is required for ALBRequestCountPerTarget.")
        else:
            raise ValidationException(f"Unsupported PolicyType {kind}: StepScaling or "
                                      "TargetTrackingScaling.")  # fmt: skip
        existing = next((x for x in aas.policies_of(target) if x.name == p["PolicyName"]), None)
        if existing is not None:
            aas.delete_policy(existing)
        policy_arn_ = (
            existing.arn
            if existing is not None
            else policy_arn(
                target.scope, target.namespace, target.resource_id, p["PolicyName"], new_uuid()
            )
        )
        policy = Policy(policy_arn_, p["PolicyName"], target.key, kind, dict(config),
                        aas.clock.now())  # fmt: skip
        if kind == "TargetTrackingScaling" and aas.alarms is not None:
            for spec in aas.tracking_alarms(target, policy):
                alarm_arn = aas.alarms.put_alarm(target.account_id, target.region, spec)
                policy.alarm_names.append(spec.name)
                policy.alarm_arns.append(alarm_arn)
        aas.save_policy(policy)
        out: Result = {"PolicyARN": policy.arn}
        if policy.alarm_names:
            out["Alarms"] = alarms_of(policy)
        return out

    def describe_scaling_policies(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = []
        for policy in sorted(aas.policies.values(), key=lambda x: x.arn):
            target = aas.targets.get(policy.target_key)
            if not _selected(target, scope, p):
                continue
            assert target is not None
            if p.get("PolicyNames") and policy.name not in p["PolicyNames"]:
                continue
            found.append((policy, target))
        chunk, token = _page(found, lambda pt: pt[0].arn, p)
        out: Result = {"ScalingPolicies": [policy_to_wire(x, t) for x, t in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def delete_scaling_policy(ctx: RequestContext, p: Params) -> Result:
        target = find_target(ctx, p)
        policy = next((x for x in aas.policies_of(target) if x.name == p["PolicyName"]), None)
        if policy is None:
            raise ObjectNotFoundException(f"No scaling policy found for service namespace: "
                                          f"{target.namespace}, resource ID: {target.resource_id}"
                                          f", scalable dimension: {target.dimension}, policy "
                                          f"name: {p['PolicyName']}")  # fmt: skip
        aas.delete_policy(policy)
        return {}

    def put_scheduled_action(ctx: RequestContext, p: Params) -> Result:
        target = find_target(ctx, p)
        expr = p.get("Schedule")
        existing = next((a for a in aas.scheduled.values() if a.target_key == target.key
                         and a.name == p["ScheduledActionName"]), None)  # fmt: skip
        if expr is None and existing is None:
            raise ValidationException("Schedule is required for a new scheduled action.")
        expr = expr or (existing.schedule if existing else "")
        try:
            schedule.parse(expr, allow_at=True)
            schedule.zone_of(p.get("Timezone"))
        except schedule.ScheduleError as exc:
            raise ValidationException(f"Invalid schedule {expr}: {exc}") from exc
        action_ = p.get("ScalableTargetAction") or {}
        lo, hi = action_.get("MinCapacity"), action_.get("MaxCapacity")
        if lo is not None and hi is not None and lo > hi:
            raise ValidationException("MinCapacity cannot be greater than MaxCapacity.")
        action = existing or ScheduledAction(
            scheduled_action_arn(target.scope, target.namespace, target.resource_id,
                                 p["ScheduledActionName"], new_uuid()),
            p["ScheduledActionName"], target.key, expr, aas.clock.now())  # fmt: skip
        action.schedule, action.timezone = expr, p.get("Timezone")
        action.start = seconds(p["StartTime"]) if p.get("StartTime") else None
        action.end = seconds(p["EndTime"]) if p.get("EndTime") else None
        action.min_capacity, action.max_capacity = lo, hi
        if existing is not None:
            action.created = aas.clock.now()
            action.last_run = None
        aas.save_scheduled(action)
        return {}

    def describe_scheduled_actions(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = []
        for a in sorted(aas.scheduled.values(), key=lambda x: x.arn):
            t = aas.targets.get(a.target_key)
            if not _selected(t, scope, p):
                continue
            assert t is not None
            if p.get("ScheduledActionNames") and a.name not in p["ScheduledActionNames"]:
                continue
            found.append((a, t))
        chunk, token = _page(found, lambda at: at[0].arn, p)
        out: Result = {"ScheduledActions": [scheduled_to_wire(a, t) for a, t in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def delete_scheduled_action(ctx: RequestContext, p: Params) -> Result:
        target = find_target(ctx, p)
        action = next((a for a in aas.scheduled.values() if a.target_key == target.key
                       and a.name == p["ScheduledActionName"]), None)  # fmt: skip
        if action is None:
            raise ObjectNotFoundException(f"No scheduled action found: "
                                          f"{p['ScheduledActionName']}")  # fmt: skip
        aas.delete_scheduled(action)
        return {}

    def describe_scaling_activities(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = []
        for act in reversed(aas.activities):
            t = aas.targets.get(act.target_key)
            ids = act.target_key.split("/", 4)
            if (ids[0], ids[1]) != (scope.account_id, scope.region) or ids[2] != p[
                "ServiceNamespace"
            ]:
                continue
            if p.get("ResourceId") and ids[4] != p["ResourceId"]:
                continue
            if p.get("ScalableDimension") and ids[3] != p["ScalableDimension"]:
                continue
            found.append((act, ids, t))
        keyed = [(f"{i:08d}", x) for i, x in enumerate(found)]
        chunk, token = _page(keyed, lambda kx: kx[0], p)
        out: Result = {"ScalingActivities": [{
            "ActivityId": a.id, "ServiceNamespace": ids[2], "ResourceId": ids[4],
            "ScalableDimension": ids[3], "Description": a.description, "Cause": a.cause,
            "StartTime": a.start, **({"EndTime": a.end} if a.end is not None else {}),
            "StatusCode": a.status, "StatusMessage": a.message,
        } for _, (a, ids, _t) in chunk]}  # fmt: skip
        if token:
            out["NextToken"] = token
        return out

    return {
        "RegisterScalableTarget": register_scalable_target,
        "DescribeScalableTargets": describe_scalable_targets,
        "DeregisterScalableTarget": deregister_scalable_target,
        "PutScalingPolicy": put_scaling_policy,
        "DescribeScalingPolicies": describe_scaling_policies,
        "DeleteScalingPolicy": delete_scaling_policy,
        "PutScheduledAction": put_scheduled_action,
        "DescribeScheduledActions": describe_scheduled_actions,
        "DeleteScheduledAction": delete_scheduled_action,
        "DescribeScalingActivities": describe_scaling_activities,
    }


def alarms_of(policy: Policy) -> list[Result]:
    return [{"AlarmName": n, "AlarmARN": a} for n, a in zip(policy.alarm_names, policy.alarm_arns,
                                                             strict=False)]  # fmt: skip


def policy_to_wire(policy: Policy, target: ScalableTarget) -> Result:
    out: Result = {"PolicyARN": policy.arn, "PolicyName": policy.name, **_ids(target),
                   "PolicyType": policy.policy_type, "CreationTime": policy.created,
                   "Alarms": alarms_of(policy)}  # fmt: skip
    field = ("StepScalingPolicyConfiguration" if policy.policy_type == "StepScaling"
             else "TargetTrackingScalingPolicyConfiguration")  # fmt: skip
    out[field] = policy.config
    return out


def scheduled_to_wire(a: ScheduledAction, t: ScalableTarget) -> Result:
    out: Result = {"ScheduledActionName": a.name, "ScheduledActionARN": a.arn,
                   "Schedule": a.schedule, **_ids(t), "CreationTime": a.created,
                   "ScalableTargetAction": {}}  # fmt: skip
    if a.min_capacity is not None:
        out["ScalableTargetAction"]["MinCapacity"] = a.min_capacity
    if a.max_capacity is not None:
        out["ScalableTargetAction"]["MaxCapacity"] = a.max_capacity
    if a.timezone:
        out["Timezone"] = a.timezone
    if a.start is not None:
        out["StartTime"] = a.start
    if a.end is not None:
        out["EndTime"] = a.end
    return out
