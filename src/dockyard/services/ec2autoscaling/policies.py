"""Scaling policies (simple, step, target tracking) and the CloudWatch alarm actions that run
them: the service's `AlarmActions` port. Target tracking policies own the alarms AWS
creates for them (`TargetTracking-<group>-AlarmHigh-<uuid>` and `-AlarmLow-`)."""

from __future__ import annotations

import itertools
import math
from typing import Any

from dockyard.core.ids import arn, new_uuid
from dockyard.core.scaling import AlarmFiring, AlarmSpec
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling.errors import ValidationError
from dockyard.services.ec2autoscaling.model import (
    AdjustmentType,
    Group,
    Policy,
    PolicyType,
    Process,
    policy_arn,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

PREDEFINED: dict[str, tuple[str, str, str]] = {
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average"),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average"),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}


def put(asg: Ec2AutoScaling, scope: Scope, group_name: str, name: str,
        p: dict[str, Any]) -> Policy:  # fmt: skip
    group = asg.group(scope, group_name)
    kind_name = p.get("PolicyType") or "SimpleScaling"
    try:
        kind = PolicyType(kind_name)
    except ValueError as exc:
        raise ValidationError(f"Unsupported PolicyType {kind_name}: SimpleScaling, StepScaling "
                              "or TargetTrackingScaling (PredictiveScaling is not supported by "
                              "Dockyard).") from exc  # fmt: skip
    existing = next((x for x in asg.policies_of(group) if x.name == name), None)
    policy = Policy(existing.arn if existing else policy_arn(scope, group.name, name, new_uuid()),
                    name, group.key, group.name, kind, asg.clock.now(),
                    enabled=bool(p.get("Enabled", True)))  # fmt: skip
    if kind in (PolicyType.SIMPLE, PolicyType.STEP):
        adjustment = p.get("AdjustmentType")
        if adjustment not in {a.value for a in AdjustmentType}:
            raise ValidationError("AdjustmentType must be ChangeInCapacity, ExactCapacity or "
                                  "PercentChangeInCapacity.")  # fmt: skip
        policy.adjustment_type = adjustment
        policy.min_adjustment_magnitude = p.get("MinAdjustmentMagnitude")
        if policy.min_adjustment_magnitude is not None and adjustment != AdjustmentType.PERCENT:
            raise ValidationError("MinAdjustmentMagnitude is only valid with "
                                  "PercentChangeInCapacity.")  # fmt: skip
    if kind == PolicyType.SIMPLE:
        if p.get("ScalingAdjustment") is None:
            raise ValidationError("ScalingAdjustment is required for a SimpleScaling policy.")
        if p.get("StepAdjustments"):
            raise ValidationError("StepAdjustments are not valid for a SimpleScaling policy.")
        policy.scaling_adjustment = int(p["ScalingAdjustment"])
        policy.cooldown = p.get("Cooldown")
    elif kind == PolicyType.STEP:
        steps = p.get("StepAdjustments") or []
        if not steps:
            raise ValidationError("StepAdjustments are required for a StepScaling policy.")
        _check_steps(steps)
        policy.step_adjustments = [dict(s) for s in steps]
        aggregation = p.get("MetricAggregationType") or "Average"
        if aggregation not in ("Minimum", "Maximum", "Average"):
            raise ValidationError(f"Invalid MetricAggregationType {aggregation}: Minimum, "
                                  "Maximum or Average.")  # fmt: skip
        policy.metric_aggregation_type = aggregation
        policy.estimated_warmup = p.get("EstimatedInstanceWarmup")
    elif kind == PolicyType.TARGET_TRACKING:
        config = p.get("TargetTrackingConfiguration")
        if not config:
            raise ValidationError("TargetTrackingConfiguration is required for a "
                                  "TargetTrackingScaling policy.")  # fmt: skip
        predefined = config.get("PredefinedMetricSpecification")
        custom = config.get("CustomizedMetricSpecification")
        if (predefined is None) == (custom is None):
            raise ValidationError("Exactly one of PredefinedMetricSpecification and "
                                  "CustomizedMetricSpecification must be given.")  # fmt: skip
        if predefined is not None:
            if predefined["PredefinedMetricType"] not in PREDEFINED:
                raise ValidationError(f"Unsupported PredefinedMetricType "
                                      f"{predefined['PredefinedMetricType']}.")  # fmt: skip
            if predefined["PredefinedMetricType"] == "ALBRequestCountPerTarget" and not (
                predefined.get("ResourceLabel")
            ):
                raise ValidationError("ResourceLabel is required for ALBRequestCountPerTarget.")
        if custom is not None:
            _check_custom(custom)
        policy.target_tracking = {k: v for k, v in config.items()}
        policy.estimated_warmup = p.get("EstimatedInstanceWarmup")
    # The policy is committed first (a refused write leaves no alarm behind), then its alarms
    # are created; a policy that stops being target tracking loses the ones it had.
    old_alarms = list(existing.alarm_names) if existing else []
    specs = tracking_alarms(group, policy) if kind == PolicyType.TARGET_TRACKING else []
    for spec in specs:
        policy.alarm_names.append(spec.name)
        policy.alarm_arns.append(
            arn("cloudwatch", scope.region, scope.account_id, f"alarm:{spec.name}")
        )
    asg.commit(policies=[policy])
    if asg.alarms is not None:
        for spec in specs:
            asg.alarms.put_alarm(scope.account_id, scope.region, spec)
        if old_alarms:
            asg.alarms.delete_alarms(scope.account_id, scope.region, old_alarms)
    return policy


def _check_custom(custom: dict[str, Any]) -> None:
    if custom.get("Metrics"):
        if custom.get("MetricName") or custom.get("Namespace"):
            raise ValidationError("CustomizedMetricSpecification takes either Metrics or "
                                  "MetricName with Namespace, not both.")  # fmt: skip
        returned = [m for m in custom["Metrics"] if m.get("ReturnData", True)]
        if len(returned) != 1:
            raise ValidationError("Exactly one of the Metrics of a CustomizedMetricSpecification "
                                  "must return data (ReturnData).")  # fmt: skip
        for m in custom["Metrics"]:
            if not m.get("Expression") and not m.get("MetricStat"):
                raise ValidationError(f"Metric {m.get('Id')} must have either an Expression or "
                                      "a MetricStat.")  # fmt: skip
        return
    for name in ("MetricName", "Namespace"):
        if not custom.get(name):
            raise ValidationError(f"{name} is required in CustomizedMetricSpecification unless "
                                  "Metrics is given.")  # fmt: skip


def _check_steps(steps: list[dict[str, Any]]) -> None:
    ranges = sorted(
        (s.get("MetricIntervalLowerBound", -math.inf), s.get("MetricIntervalUpperBound", math.inf))
        for s in steps
    )
    for lo, hi in ranges:
        if lo >= hi:
            raise ValidationError("Step adjustment lower bound must be less than its upper bound.")
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        if hi != lo:
            raise ValidationError("Step adjustments must not overlap and must leave no gaps.")


def delete(asg: Ec2AutoScaling, scope: Scope, group_name: str, name: str) -> None:
    group = asg.group(scope, group_name)
    policy = next((x for x in asg.policies_of(group) if x.name == name or x.arn == name), None)
    if policy is None:
        raise ValidationError(f"Policy {name} does not exist for group {group_name}.")
    asg.commit(deleted_policies=[policy])
    if policy.alarm_names and asg.alarms is not None:
        asg.alarms.delete_alarms(scope.account_id, scope.region, policy.alarm_names)


def adjusted(policy: Policy, adjustment: int, current: int) -> int:
    kind = policy.adjustment_type
    if kind == AdjustmentType.EXACT:
        return adjustment
    if kind == AdjustmentType.CHANGE:
        return current + adjustment
    change = current * adjustment / 100.0
    if 0 < change < 1:
        step = 1
    elif -1 < change < 0:
        step = -1
    else:
        step = int(change)  # toward zero
    magnitude = policy.min_adjustment_magnitude
    if magnitude and abs(step) < magnitude:
        step = magnitude if step > 0 else -magnitude
    return current + step


def step_adjustment(policy: Policy, delta: float) -> int | None:
    for step in policy.step_adjustments:
        lo = step.get("MetricIntervalLowerBound", -math.inf)
        hi = step.get("MetricIntervalUpperBound", math.inf)
        # Above the threshold the lower bound is inclusive and the upper one exclusive;
        # below it, the other way round (as AWS documents step adjustments).
        inside = lo <= delta < hi if delta >= 0 else lo < delta <= hi
        if inside:
            return int(step["ScalingAdjustment"])
    return None


def wanted(policy: Policy, group: Group, current: int, firing: AlarmFiring | None) -> int | None:
    if policy.policy_type == PolicyType.SIMPLE:
        return adjusted(policy, policy.scaling_adjustment or 0, current)
    if policy.policy_type == PolicyType.STEP:
        if firing is None or firing.value is None:
            return None
        step = step_adjustment(policy, float(firing.value) - float(firing.threshold or 0.0))
        return None if step is None else adjusted(policy, step, current)
    config = policy.target_tracking or {}
    if firing is None or firing.value is None or not config.get("TargetValue"):
        return None
    want = math.ceil(current * float(firing.value) / float(config["TargetValue"]) - 1e-9)
    if current == 0 and float(firing.value) > 0:
        want = 1
    if want < current and config.get("DisableScaleIn"):
        return None
    return want


def execute(asg: Ec2AutoScaling, group: Group, policy: Policy, firing: AlarmFiring | None,
            cause: str, honor_cooldown: bool) -> bool:  # fmt: skip
    """Scale the group as the policy says; whether the desired capacity changed."""
    current = group.desired
    want = wanted(policy, group, current, firing)
    if want is None:
        return False
    want = max(group.min_size, min(group.max_size, want))
    now = asg.clock.now()
    if honor_cooldown and policy.policy_type == PolicyType.SIMPLE:
        cooldown = policy.cooldown if policy.cooldown is not None else group.default_cooldown
        if group.last_scaled is not None and now - group.last_scaled < cooldown:
            return False
    if want == current:
        return False
    new = group.copy()
    new.desired = want
    new.last_scaled = now
    new.capacity_cause = f"{cause} changing the desired capacity from {current} to {want}."
    run = Policy.from_dict(policy.to_dict())
    run.last_run = now
    asg.commit([new], policies=[run])
    return True


def invoke(asg: Ec2AutoScaling, account_id: str, region: str, action_arn: str,
           firing: AlarmFiring) -> bool:  # fmt: skip
    """The `AlarmActions` port: a CloudWatch alarm whose action is one of our policy ARNs."""
    if ":autoScalingGroupName/" not in action_arn or ":scalingPolicy:" not in action_arn:
        return False
    policy = asg.policies.get(action_arn)
    if policy is None or not policy.enabled or firing.state != "ALARM":
        return True
    group = asg.groups.get(policy.group_key)
    if group is None or group.deleting or group.is_suspended(Process.ALARM_NOTIFICATION):
        return True
    cause = (f"At {asg.stamp()} a monitor alarm {firing.alarm_name} in state ALARM triggered "
             f"policy {policy.name}")  # fmt: skip
    execute(asg, group, policy, firing, cause, honor_cooldown=True)
    return True


def tracking_alarms(group: Group, policy: Policy) -> list[AlarmSpec]:
    config = policy.target_tracking or {}
    metric = tracking_metric(group, config)
    value = float(config["TargetValue"])
    uid = new_uuid()
    base = f"TargetTracking-{group.name}"
    description = f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.arn}."
    common = {**metric, "AlarmActions": [policy.arn], "ActionsEnabled": True,
              "AlarmDescription": description}  # fmt: skip
    specs = [AlarmSpec(f"{base}-AlarmHigh-{uid}", {
        **common, "EvaluationPeriods": 3, "DatapointsToAlarm": 3, "Threshold": value,
        "ComparisonOperator": "GreaterThanThreshold"})]  # fmt: skip
    if not config.get("DisableScaleIn"):
        specs.append(AlarmSpec(f"{base}-AlarmLow-{uid}", {
            **common, "EvaluationPeriods": 15, "DatapointsToAlarm": 15,
            "Threshold": value * 0.9, "ComparisonOperator": "LessThanThreshold"}))  # fmt: skip
    return specs


def tracking_metric(group: Group, config: dict[str, Any]) -> dict[str, Any]:
    predefined = config.get("PredefinedMetricSpecification")
    if predefined is not None:
        namespace, name, stat = PREDEFINED[predefined["PredefinedMetricType"]]
        if namespace == "AWS/EC2":
            dims = [{"Name": "AutoScalingGroupName", "Value": group.name}]
        else:
            label = predefined.get("ResourceLabel", "")
            dims = [{"Name": "TargetGroup",
                     "Value": "targetgroup/" + label.split("/targetgroup/", 1)[-1]}]  # fmt: skip
        return {"Namespace": namespace, "MetricName": name, "Statistic": stat, "Period": 60,
                "Dimensions": dims}  # fmt: skip
    custom = config["CustomizedMetricSpecification"]
    if custom.get("Metrics"):
        metrics = []
        for m in custom["Metrics"]:
            item: dict[str, Any] = {"Id": m["Id"], "ReturnData": m.get("ReturnData", True)}
            for key in ("Expression", "Label"):
                if key in m:
                    item[key] = m[key]
            if "MetricStat" in m:
                stat_ = {"Metric": m["MetricStat"]["Metric"], "Stat": m["MetricStat"]["Stat"],
                         "Period": 60}  # fmt: skip
                if m["MetricStat"].get("Unit"):
                    stat_["Unit"] = m["MetricStat"]["Unit"]
                item["MetricStat"] = stat_
            metrics.append(item)
        return {"Metrics": metrics}
    out = {"Namespace": custom["Namespace"], "MetricName": custom["MetricName"],
           "Statistic": custom.get("Statistic") or "Average", "Period": 60,
           "Dimensions": custom.get("Dimensions") or []}  # fmt: skip
    if custom.get("Unit"):
        out["Unit"] = custom["Unit"]
    return out
