"""EC2 Auto Scaling operations on groups (wire ↔ typed calls): create, update, delete,
describe, capacity, tags, processes and target groups / traffic sources."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import groups, validation, wire
from dockyard.services.ec2autoscaling.errors import ValidationError
from dockyard.services.ec2autoscaling.model import Group, Process, Tag, TerminationPolicy
from dockyard.services.ec2autoscaling.paging import page
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

# Parameters of CreateAutoScalingGroup / UpdateAutoScalingGroup that Dockyard does not act
# on: refused by name rather than accepted and ignored. A value listed beside a name is the
# one that asks for nothing (AWS's default), and is accepted.
UNSUPPORTED: dict[str, object] = {
    "LoadBalancerNames": [],  # Classic Load Balancers
    "PlacementGroup": None,
    "LifecycleHookSpecificationList": [],
    "MaxInstanceLifetime": 0,
    "CapacityRebalance": False,
    "DefaultInstanceWarmup": None,
    "DesiredCapacityType": "units",
    "AvailabilityZoneIds": [],
    "InstanceMaintenancePolicy": None,
    "AvailabilityZoneDistribution": None,
    "AvailabilityZoneImpairmentPolicy": None,
    "CapacityReservationSpecification": None,
    "InstanceLifecyclePolicy": None,
    "DeletionProtection": "none",
    "Context": None,
}
MAX_RECORDS = 100
ACCOUNT_LIMIT = groups.MAX_GROUPS


def refuse_unsupported(p: Params) -> None:
    for name, neutral in UNSUPPORTED.items():
        value = p.get(name)
        if value is not None and value != neutral:
            raise ValidationError(f"{name} is not supported by Dockyard's EC2 Auto Scaling.")


def traffic_target_groups(sources: list[dict[str, Any]]) -> list[str]:
    """TrafficSources as target group ARNs: Dockyard's load balancers are ELBv2 ones."""
    out = []
    for source in sources:
        kind = source.get("Type") or "elbv2"
        if kind != "elbv2":
            raise ValidationError(f"Traffic source type {kind} is not supported by Dockyard: "
                                  "use elbv2 target groups.")  # fmt: skip
        out.append(str(source.get("Identifier") or ""))
    return out


def _spec(p: Params, *, creating: bool) -> validation.GroupSpec:
    refuse_unsupported(p)
    if creating and p.get("TrafficSources"):
        p = dict(p)
        p["TargetGroupARNs"] = [*(p.get("TargetGroupARNs") or []),
                                *traffic_target_groups(p["TrafficSources"])]  # fmt: skip
    return validation.group_spec(p, creating=creating)


def max_records(p: Params, default: int = 50, most: int = MAX_RECORDS) -> int:
    value = p.get("MaxRecords")
    if value is None:
        return default
    if not 1 <= int(value) <= most:
        raise ValidationError(f"1 validation error detected: Value '{value}' at 'maxRecords' "
                              f"failed to satisfy constraint: Member must have value less "
                              f"than or equal to {most}")  # fmt: skip
    return int(value)


def _tag_filter(group: Group, filters: list[dict[str, Any]]) -> bool:
    """DescribeAutoScalingGroups' filters: tag-key, tag-value and tag:<key>."""
    for f in filters:
        name, values = str(f.get("Name") or ""), set(f.get("Values") or [])
        if name == "tag-key":
            ok = any(t.key in values for t in group.tags)
        elif name == "tag-value":
            ok = any(t.value in values for t in group.tags)
        elif name.startswith("tag:"):
            ok = any(t.key == name[4:] and t.value in values for t in group.tags)
        else:
            raise ValidationError(f"Filter type {name} is not correct. Allowed Filter types "
                                  "are: tag-key tag-value tag:<key>")  # fmt: skip
        if not ok:
            return False
    return True


def _visible(asg: Ec2AutoScaling, scope: Scope) -> list[Group]:
    return [g for g in asg.groups_of(scope) if not g.deleting or g.instances]


def _tags_by_group(asg: Ec2AutoScaling, scope: Scope, items: list[dict[str, Any]],
                   *, keys_only: bool) -> dict[str, list[Tag]]:  # fmt: skip
    """The tags of a CreateOrUpdateTags / DeleteTags request by group, each group checked to
    exist before anything changes."""
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        resource = item.get("ResourceId")
        if not resource:
            raise ValidationError("ResourceId is required for each tag.")
        by_group[str(resource)].append(item)
    out = {}
    for name, tags in by_group.items():
        asg.group(scope, name)
        if keys_only:
            tags = [{**t, "Value": t.get("Value") or ""} for t in tags]
        out[name] = validation.tags(tags, name)
    return out


def handlers(asg: Ec2AutoScaling) -> dict[str, Handler]:
    def create_auto_scaling_group(ctx: RequestContext, p: Params) -> Result:
        spec = _spec(p, creating=True)
        groups.create(asg, scope_of(ctx), p["AutoScalingGroupName"], spec)
        return {}

    def update_auto_scaling_group(ctx: RequestContext, p: Params) -> Result:
        spec = _spec(p, creating=False)
        groups.update(asg, scope_of(ctx), p["AutoScalingGroupName"], spec)
        return {}

    def delete_auto_scaling_group(ctx: RequestContext, p: Params) -> Result:
        groups.delete(asg, scope_of(ctx), p["AutoScalingGroupName"], bool(p.get("ForceDelete")))
        return {}

    def describe_auto_scaling_groups(ctx: RequestContext, p: Params) -> Result:
        found = _visible(asg, scope_of(ctx))
        names = p.get("AutoScalingGroupNames")
        if names:
            wanted = set(names)
            found = [g for g in found if g.name in wanted]
        filters = p.get("Filters") or []
        found = [g for g in found if _tag_filter(g, filters)]
        chunk, token = page(found, lambda g: g.name, p.get("NextToken"), max_records(p))
        records = [wire.group_to_wire(g) for g in chunk]
        if p.get("IncludeInstances") is False:
            for record in records:
                record["Instances"] = []
        out: Result = {"AutoScalingGroups": records}
        if token:
            out["NextToken"] = token
        return out

    def set_desired_capacity(ctx: RequestContext, p: Params) -> Result:
        groups.set_desired(asg, scope_of(ctx), p["AutoScalingGroupName"],
                           int(p["DesiredCapacity"]), bool(p.get("HonorCooldown")))  # fmt: skip
        return {}

    def create_or_update_tags(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        for name, tags in _tags_by_group(asg, scope, p["Tags"], keys_only=False).items():
            groups.put_tags(asg, scope, name, tags)
        return {}

    def delete_tags(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        for name, tags in _tags_by_group(asg, scope, p["Tags"], keys_only=True).items():
            groups.delete_tags(asg, scope, name, [t.key for t in tags])
        return {}

    def describe_tags(ctx: RequestContext, p: Params) -> Result:
        filters: dict[str, set[str]] = {}
        for f in p.get("Filters") or []:
            name = str(f.get("Name") or "")
            if name not in ("auto-scaling-group", "key", "value", "propagate-at-launch"):
                raise ValidationError(f"Filter type {name} is not correct. Allowed Filter types "
                                      "are: auto-scaling-group key value "
                                      "propagate-at-launch")  # fmt: skip
            filters.setdefault(name, set()).update(str(v) for v in f.get("Values") or [])
        rows = []
        for group in _visible(asg, scope_of(ctx)):
            for tag in group.tags:
                fields = {"auto-scaling-group": group.name, "key": tag.key, "value": tag.value,
                          "propagate-at-launch": str(tag.propagate).lower()}  # fmt: skip
                if all(fields[n] in values for n, values in filters.items()):
                    rows.append((group, tag))
        chunk, token = page(rows, lambda r: f"{r[0].name}\x00{r[1].key}", p.get("NextToken"),
                            max_records(p))  # fmt: skip
        out: Result = {"Tags": [wire.tag(g, t.key, t.value, t.propagate) for g, t in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def suspend_processes(ctx: RequestContext, p: Params) -> Result:
        groups.suspend(asg, scope_of(ctx), p["AutoScalingGroupName"],
                       validation.processes(p.get("ScalingProcesses")))  # fmt: skip
        return {}

    def resume_processes(ctx: RequestContext, p: Params) -> Result:
        groups.resume(asg, scope_of(ctx), p["AutoScalingGroupName"],
                      validation.processes(p.get("ScalingProcesses")))  # fmt: skip
        return {}

    def attach_load_balancer_target_groups(ctx: RequestContext, p: Params) -> Result:
        groups.attach_target_groups(asg, scope_of(ctx), p["AutoScalingGroupName"],
                                    list(p["TargetGroupARNs"]))  # fmt: skip
        return {}

    def detach_load_balancer_target_groups(ctx: RequestContext, p: Params) -> Result:
        groups.detach_target_groups(asg, scope_of(ctx), p["AutoScalingGroupName"],
                                    list(p["TargetGroupARNs"]))  # fmt: skip
        return {}

    def attach_traffic_sources(ctx: RequestContext, p: Params) -> Result:
        arns = traffic_target_groups(p["TrafficSources"])
        groups.attach_target_groups(asg, scope_of(ctx), p["AutoScalingGroupName"], arns)
        return {}

    def detach_traffic_sources(ctx: RequestContext, p: Params) -> Result:
        arns = traffic_target_groups(p["TrafficSources"])
        groups.detach_target_groups(asg, scope_of(ctx), p["AutoScalingGroupName"], arns)
        return {}

    def _attachments(group: Group) -> list[tuple[str, str]]:
        """(target group ARN, state) of the group's target groups and the ones it is
        leaving, in AWS's words: Adding until every InService instance is registered, then
        Added, or InService (ELB health checks) once a registered instance serves."""
        serving = [i for i in group.instances.values() if i.state == "InService"]
        if not all(i.registered for i in serving):
            state = "Adding"
        elif group.health_check_type == "ELB" and serving:
            state = "InService"
        else:
            state = "Added"
        out = [(a, state) for a in group.target_groups]
        out += [(a, "Removing") for a in group.released_target_groups]
        return out

    def describe_load_balancer_target_groups(ctx: RequestContext, p: Params) -> Result:
        group = asg.group(scope_of(ctx), p["AutoScalingGroupName"])
        chunk, token = page(_attachments(group), lambda r: r[0], p.get("NextToken"),
                            max_records(p))  # fmt: skip
        out: Result = {"LoadBalancerTargetGroups": [
            {"LoadBalancerTargetGroupARN": a, "State": s} for a, s in chunk]}  # fmt: skip
        if token:
            out["NextToken"] = token
        return out

    def describe_traffic_sources(ctx: RequestContext, p: Params) -> Result:
        group = asg.group(scope_of(ctx), p["AutoScalingGroupName"])
        kind = p.get("TrafficSourceType")
        rows = _attachments(group) if kind in (None, "", "elbv2") else []
        chunk, token = page(rows, lambda r: r[0], p.get("NextToken"), max_records(p))
        out: Result = {"TrafficSources": [
            {"TrafficSource": a, "Identifier": a, "Type": "elbv2", "State": s}
            for a, s in chunk]}  # fmt: skip
        if token:
            out["NextToken"] = token
        return out

    def describe_account_limits(ctx: RequestContext, p: Params) -> Result:
        return {"MaxNumberOfAutoScalingGroups": ACCOUNT_LIMIT,
                "NumberOfAutoScalingGroups": len(asg.groups_of(scope_of(ctx))),
                "MaxNumberOfLaunchConfigurations": 0,
                "NumberOfLaunchConfigurations": 0}  # fmt: skip

    def describe_scaling_process_types(ctx: RequestContext, p: Params) -> Result:
        return {"Processes": [{"ProcessName": x.value} for x in sorted(Process)]}

    def describe_termination_policy_types(ctx: RequestContext, p: Params) -> Result:
        return {"TerminationPolicyTypes": sorted(t.value for t in TerminationPolicy)}

    return {
        "CreateAutoScalingGroup": create_auto_scaling_group,
        "UpdateAutoScalingGroup": update_auto_scaling_group,
        "DeleteAutoScalingGroup": delete_auto_scaling_group,
        "DescribeAutoScalingGroups": describe_auto_scaling_groups,
        "SetDesiredCapacity": set_desired_capacity,
        "CreateOrUpdateTags": create_or_update_tags,
        "DeleteTags": delete_tags,
        "DescribeTags": describe_tags,
        "SuspendProcesses": suspend_processes,
        "ResumeProcesses": resume_processes,
        "AttachLoadBalancerTargetGroups": attach_load_balancer_target_groups,
        "DetachLoadBalancerTargetGroups": detach_load_balancer_target_groups,
        "DescribeLoadBalancerTargetGroups": describe_load_balancer_target_groups,
        "AttachTrafficSources": attach_traffic_sources,
        "DetachTrafficSources": detach_traffic_sources,
        "DescribeTrafficSources": describe_traffic_sources,
        "DescribeAccountLimits": describe_account_limits,
        "DescribeScalingProcessTypes": describe_scaling_process_types,
        "DescribeTerminationPolicyTypes": describe_termination_policy_types,
    }
