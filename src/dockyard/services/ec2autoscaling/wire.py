"""Records as EC2 Auto Scaling's output shapes."""

from __future__ import annotations

import json
from typing import Any

from dockyard.services.ec2autoscaling.model import (
    Activity,
    Group,
    GroupInstance,
    LifecycleHook,
    Policy,
    PolicyType,
)

Result = dict[str, Any]


def template(group: Group) -> Result:
    out: Result = {"Version": group.template_version}
    if group.template_id:
        out["LaunchTemplateId"] = group.template_id
    if group.template_name:
        out["LaunchTemplateName"] = group.template_name
    return out


def _instance_template(inst: GroupInstance) -> Result:
    out: Result = {"Version": inst.template_version}
    if inst.template_id:
        out["LaunchTemplateId"] = inst.template_id
    if inst.template_name:
        out["LaunchTemplateName"] = inst.template_name
    return out


def group_instance(inst: GroupInstance) -> Result:
    out: Result = {"InstanceId": inst.instance_id, "InstanceType": inst.instance_type,
                   "AvailabilityZone": inst.zone, "LifecycleState": inst.state.value,
                   "HealthStatus": inst.health.value,
                   "ProtectedFromScaleIn": inst.protected}  # fmt: skip
    if inst.template_id or inst.template_name:  # an attached instance may have none
        out["LaunchTemplate"] = _instance_template(inst)
    return out


def instance_details(group: Group, inst: GroupInstance) -> Result:
    out = group_instance(inst)
    out["AutoScalingGroupName"] = group.name
    out["HealthStatus"] = inst.health.value.upper()
    return out


def tag(group: Group, key: str, value: str, propagate: bool) -> Result:
    return {"ResourceId": group.name, "ResourceType": "auto-scaling-group", "Key": key,
            "Value": value, "PropagateAtLaunch": propagate}  # fmt: skip


def group_to_wire(group: Group) -> Result:
    out: Result = {
        "AutoScalingGroupName": group.name, "AutoScalingGroupARN": group.arn,
        "LaunchTemplate": template(group), "MinSize": group.min_size,
        "MaxSize": group.max_size, "DesiredCapacity": group.desired,
        "DefaultCooldown": group.default_cooldown, "AvailabilityZones": group.zones,
        "LoadBalancerNames": [], "TargetGroupARNs": group.target_groups,
        "HealthCheckType": group.health_check_type,
        "HealthCheckGracePeriod": group.grace_period,
        "Instances": [group_instance(i) for i in sorted(group.instances.values(),
                                                        key=lambda i: i.instance_id)],
        "CreatedTime": group.created,
        "SuspendedProcesses": [{"ProcessName": k, "SuspensionReason": v}
                               for k, v in sorted(group.suspended.items())],
        "VPCZoneIdentifier": ",".join(group.subnets), "EnabledMetrics": [],
        "Tags": [tag(group, t.key, t.value, t.propagate) for t in group.tags],
        "TerminationPolicies": group.termination_policies,
        "NewInstancesProtectedFromScaleIn": group.protect_new,
        "ServiceLinkedRoleARN": group.service_linked_role,
        "CapacityRebalance": False,
        "TrafficSources": [{"Identifier": a, "Type": "elbv2"} for a in group.target_groups],
    }  # fmt: skip
    if group.deleting:
        out["Status"] = "Delete in progress"
    return out


def activity_to_wire(act: Activity, group_arn: str | None) -> Result:
    out: Result = {
        "ActivityId": act.id, "AutoScalingGroupName": act.group_name,
        "Description": act.description, "Cause": act.cause, "StartTime": act.start,
        "StatusCode": act.status.value, "Progress": act.progress,
        "Details": _details(act.details),
    }  # fmt: skip
    if group_arn:
        out["AutoScalingGroupARN"] = group_arn
    if act.end is not None:
        out["EndTime"] = act.end
    if act.message:
        out["StatusMessage"] = act.message
    return out


def _details(details: dict[str, str]) -> str:
    return json.dumps(details, separators=(",", ":"))


def hook_to_wire(group: Group, hook: LifecycleHook) -> Result:
    out: Result = {"LifecycleHookName": hook.name, "AutoScalingGroupName": group.name,
                   "LifecycleTransition": hook.transition.value,
                   "HeartbeatTimeout": hook.heartbeat_timeout,
                   "GlobalTimeout": hook.global_timeout,
                   "DefaultResult": hook.default_result.value}  # fmt: skip
    if hook.metadata:
        out["NotificationMetadata"] = hook.metadata
    if hook.target_arn:
        out["NotificationTargetARN"] = hook.target_arn
    if hook.role_arn:
        out["RoleARN"] = hook.role_arn
    return out


def policy_to_wire(policy: Policy) -> Result:
    out: Result = {"AutoScalingGroupName": policy.group_name, "PolicyName": policy.name,
                   "PolicyARN": policy.arn, "PolicyType": policy.policy_type.value,
                   "StepAdjustments": policy.step_adjustments,
                   "Alarms": [{"AlarmName": n, "AlarmARN": a}
                              for n, a in zip(policy.alarm_names, policy.alarm_arns,
                                              strict=False)],
                   "Enabled": policy.enabled}  # fmt: skip
    for field, value in (("AdjustmentType", policy.adjustment_type),
                         ("ScalingAdjustment", policy.scaling_adjustment),
                         ("MinAdjustmentMagnitude", policy.min_adjustment_magnitude),
                         ("Cooldown", policy.cooldown),
                         ("MetricAggregationType", policy.metric_aggregation_type),
                         ("EstimatedInstanceWarmup", policy.estimated_warmup)):  # fmt: skip
        if value is not None:
            out[field] = value
    if policy.policy_type == PolicyType.TARGET_TRACKING:
        out["TargetTrackingConfiguration"] = policy.target_tracking
    return out
