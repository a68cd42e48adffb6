"""Checks of EC2 Auto Scaling requests, in the order and words AWS answers them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.services.ec2autoscaling.errors import ValidationError
from dockyard.services.ec2autoscaling.model import (
    HookResult,
    Process,
    Tag,
    TerminationPolicy,
    Transition,
)

MAX_TAGS = 50
MAX_TARGET_GROUPS = 50


@dataclass(slots=True)
class TemplateRef:
    template_id: str | None
    template_name: str | None
    version: str


@dataclass(slots=True)
class GroupSpec:
    """CreateAutoScalingGroup / UpdateAutoScalingGroup as typed fields; None: not given."""

    template: TemplateRef | None = None
    min_size: int | None = None
    max_size: int | None = None
    desired: int | None = None
    zones: list[str] | None = None
    subnets: list[str] | None = None
    health_check_type: str | None = None
    grace_period: int | None = None
    default_cooldown: int | None = None
    target_groups: list[str] | None = None
    termination_policies: list[str] | None = None
    protect_new: bool | None = None
    tags: list[Tag] = field(default_factory=list)
    service_linked_role: str | None = None


def template_ref(p: dict[str, Any]) -> TemplateRef | None:
    spec = p.get("LaunchTemplate")
    if spec is None:
        return None
    tid, tname = spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName")
    if bool(tid) == bool(tname):
        raise ValidationError("Valid requests must contain either launchTemplateId or "
                              "LaunchTemplateName")  # fmt: skip
    return TemplateRef(tid, tname, spec.get("Version") or "$Default")


def group_spec(p: dict[str, Any], *, creating: bool) -> GroupSpec:
    if p.get("MixedInstancesPolicy") is not None:
        raise ValidationError("MixedInstancesPolicy is not supported by Dockyard: give a "
                              "LaunchTemplate instead.")  # fmt: skip
    if p.get("LaunchConfigurationName"):
        raise ValidationError("Launch configurations are not supported by Dockyard: give a "
                              "LaunchTemplate instead.")  # fmt: skip
    if p.get("InstanceId"):
        raise ValidationError("Creating a group from an instance (InstanceId) is not supported "
                              "by Dockyard: give a LaunchTemplate instead.")  # fmt: skip
    spec = GroupSpec(template=template_ref(p))
    if creating and spec.template is None:
        raise ValidationError("Valid requests must contain either LaunchTemplate, "
                              "LaunchConfigurationName, InstanceId or MixedInstancesPolicy "
                              "parameter.")  # fmt: skip
    spec.min_size = p.get("MinSize")
    spec.max_size = p.get("MaxSize")
    for name in ("MinSize", "MaxSize"):
        if creating and p.get(name) is None:
            lower = name[0].lower() + name[1:]
            raise ValidationError(f"1 validation error detected: Value null at '{lower}' failed "
                                  "to satisfy constraint: Member must not be null")  # fmt: skip
    spec.desired = p.get("DesiredCapacity")
    if p.get("AvailabilityZones"):
        spec.zones = list(dict.fromkeys(p["AvailabilityZones"]))
    if p.get("VPCZoneIdentifier") is not None:
        subnets = [s.strip() for s in str(p["VPCZoneIdentifier"]).split(",") if s.strip()]
        spec.subnets = list(dict.fromkeys(subnets))
    if creating and not spec.zones and not spec.subnets:
        raise ValidationError("At least one Availability Zone or VPC Subnet is required.")
    kind = p.get("HealthCheckType")
    if kind is not None:
        if kind not in ("EC2", "ELB"):
            raise ValidationError(f"Value {kind} at 'healthCheckType' failed to satisfy "
                                  "constraint: Member must be one of [EC2, ELB]")  # fmt: skip
        spec.health_check_type = kind
    spec.grace_period = _non_negative(p, "HealthCheckGracePeriod")
    spec.default_cooldown = _non_negative(p, "DefaultCooldown")
    if p.get("TargetGroupARNs") is not None:
        spec.target_groups = target_group_arns(p["TargetGroupARNs"])
    if p.get("TerminationPolicies") is not None:
        spec.termination_policies = termination_policies(p["TerminationPolicies"])
    if p.get("NewInstancesProtectedFromScaleIn") is not None:
        spec.protect_new = bool(p["NewInstancesProtectedFromScaleIn"])
    if p.get("Tags"):
        spec.tags = tags(p["Tags"], None)
    spec.service_linked_role = p.get("ServiceLinkedRoleARN")
    return spec


def _non_negative(p: dict[str, Any], name: str) -> int | None:
    value = p.get(name)
    if value is None:
        return None
    if int(value) < 0:
        raise ValidationError(f"{name} must be greater than or equal to 0.")
    return int(value)


def bounds(min_size: int, max_size: int, desired: int) -> None:
    if min_size < 0:
        raise ValidationError("MinSize must be greater than or equal to 0.")
    if max_size < min_size:
        raise ValidationError(f"Max bound, {max_size}, must be greater than or equal to min "
                              f"bound, {min_size}")  # fmt: skip
    if not min_size <= desired <= max_size:
        raise ValidationError(f"Desired capacity:{desired} must be between the specified min "
                              f"size:{min_size} and max size:{max_size}")  # fmt: skip


def target_group_arns(arns: Sequence[str]) -> list[str]:
    if len(arns) > MAX_TARGET_GROUPS:
        raise ValidationError(f"At most {MAX_TARGET_GROUPS} target groups can be attached.")
    for value in arns:
        if not value.startswith("arn:aws:elasticloadbalancing:") or ":targetgroup/" not in value:
            raise ValidationError(f"Invalid target group ARN: {value}")
    return list(dict.fromkeys(arns))


def termination_policies(names: Sequence[str]) -> list[str]:
    known = {p.value for p in TerminationPolicy}
    for name in names:
        if name not in known and not name.startswith("arn:aws:lambda:"):
            raise ValidationError(f"Termination policy '{name}' is not valid. Valid values are "
                                  f"{', '.join(p.value for p in TerminationPolicy)}.")  # fmt: skip
        if name.startswith("arn:aws:lambda:"):
            raise ValidationError("Custom termination policies (Lambda functions) are not "
                                  "supported by Dockyard.")  # fmt: skip
    return list(names) or ["Default"]


def tags(items: Sequence[dict[str, Any]], group: str | None) -> list[Tag]:
    """Tags of a request; each names its group (ResourceId) unless `group` is given."""
    if len(items) > MAX_TAGS:
        raise ValidationError(f"The number of tags must not exceed {MAX_TAGS}.")
    out: list[Tag] = []
    for item in items:
        key = item.get("Key")
        if not key:
            raise ValidationError("Tag key cannot be empty.")
        if key.lower().startswith("aws:"):
            raise ValidationError("Tag keys starting with 'aws:' are reserved for internal use")
        if group is not None:
            resource = item.get("ResourceId")
            if item.get("ResourceType", "auto-scaling-group") != "auto-scaling-group":
                raise ValidationError("ResourceType must be auto-scaling-group.")
            if resource and resource != group:
                raise ValidationError("Tags of one request must name the same group.")
        out.append(Tag(str(key), str(item.get("Value") or ""),
                       bool(item.get("PropagateAtLaunch", False))))  # fmt: skip
    return out


def processes(names: Sequence[str] | None) -> list[Process]:
    if not names:
        return list(Process)
    out = []
    for name in names:
        try:
            out.append(Process(name))
        except ValueError as exc:
            raise ValidationError(
                f"Process names must be among {', '.join(p.value for p in Process)}: {name}"
            ) from exc
    return out


def hook_fields(p: dict[str, Any], existing: bool) -> tuple[Transition | None, int | None,
                                                            HookResult | None]:  # fmt: skip
    transition = p.get("LifecycleTransition")
    if transition is None and not existing:
        raise ValidationError("A lifecycle transition is required for a new lifecycle hook.")
    kind = None
    if transition is not None:
        try:
            kind = Transition(transition)
        except ValueError as exc:
            raise ValidationError(f"Invalid Lifecycle Transition: {transition}. Valid values "
                                  f"are autoscaling:EC2_INSTANCE_LAUNCHING, "
                                  f"autoscaling:EC2_INSTANCE_TERMINATING") from exc  # fmt: skip
    timeout = p.get("HeartbeatTimeout")
    if timeout is not None and not 30 <= int(timeout) <= 7200:
        raise ValidationError(f"Heartbeat timeout {timeout} must be between 30 and 7200 "
                              "seconds.")  # fmt: skip
    result = p.get("DefaultResult")
    chosen = None
    if result is not None:
        if result not in ("CONTINUE", "ABANDON"):
            raise ValidationError(f"Valid values for DefaultResult are CONTINUE and ABANDON; "
                                  f"got {result}.")  # fmt: skip
        chosen = HookResult(result)
    return kind, None if timeout is None else int(timeout), chosen
