"""What EC2 Auto Scaling operations act on, as AWS's Service Authorization Reference lists
them: the group they name (`arn:aws:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:
autoScalingGroupName/<name>`; a group being created, or one that does not exist, is
`...:autoScalingGroup:*:autoScalingGroupName/<name>`), with its tags for
aws:ResourceTag/*; the Describe operations act on `*`. A lifecycle hook's RoleARN and a
group's ServiceLinkedRoleARN are passed to the service (iam:PassRole)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, passrole, table
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import instances
from dockyard.services.ec2autoscaling.model import group_key
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

# Operations that name their group with AutoScalingGroupName.
BY_NAME = (
    "CreateAutoScalingGroup", "UpdateAutoScalingGroup", "DeleteAutoScalingGroup",
    "SetDesiredCapacity", "SuspendProcesses", "ResumeProcesses",
    "AttachLoadBalancerTargetGroups", "DetachLoadBalancerTargetGroups", "AttachTrafficSources",
    "DetachTrafficSources", "SetInstanceProtection", "AttachInstances", "DetachInstances",
    "PutLifecycleHook", "DeleteLifecycleHook", "CompleteLifecycleAction",
    "RecordLifecycleActionHeartbeat", "PutScalingPolicy", "DeletePolicy", "ExecutePolicy",
    "PutScheduledUpdateGroupAction", "BatchPutScheduledUpdateGroupAction",
    "DeleteScheduledAction", "BatchDeleteScheduledAction", "StartInstanceRefresh",
    "CancelInstanceRefresh",
)  # fmt: skip


def access(asg: Ec2AutoScaling) -> AccessFunction:
    def group_arn(req: AccessRequest, name: str) -> str:
        found = asg.groups.get(group_key(Scope(req.account_id, req.region), name))
        if found is not None:
            return found.arn
        return req.arn("autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{name}")

    def by_name(req: AccessRequest) -> Iterable[str]:
        name = req.params.get("AutoScalingGroupName")
        return [group_arn(req, name)] if isinstance(name, str) and name else []

    def by_tags(req: AccessRequest) -> Iterable[str]:
        names = [t.get("ResourceId") for t in req.params.get("Tags") or []]
        return [group_arn(req, n) for n in dict.fromkeys(names) if isinstance(n, str) and n]

    def by_instance(req: AccessRequest) -> Iterable[str]:
        iid = req.params.get("InstanceId")
        if not isinstance(iid, str):
            return []
        owner = instances.owner(asg, Scope(req.account_id, req.region), iid)
        return [owner.arn] if owner is not None else []

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        name = arn.rsplit("autoScalingGroupName/", 1)[-1]
        found = asg.groups.get(group_key(Scope(req.account_id, req.region), name))
        if found is None or found.arn != arn:
            return None
        return {t.key: t.value for t in found.tags}

    resolvers: dict[str, Resolver] = {op: by_name for op in BY_NAME}
    resolvers["CreateOrUpdateTags"] = by_tags
    resolvers["DeleteTags"] = by_tags
    resolvers["SetInstanceHealth"] = by_instance
    resolvers["TerminateInstanceInAutoScalingGroup"] = by_instance
    role = passrole(("ServiceLinkedRoleARN",), "autoscaling.amazonaws.com")
    extra: dict[str, AccessFunction] = {
        "CreateAutoScalingGroup": role,
        "UpdateAutoScalingGroup": role,
        "PutLifecycleHook": passrole(("RoleARN",), "autoscaling.amazonaws.com"),
    }
    return table("autoscaling", resolvers, extra=extra, tags=tags)
