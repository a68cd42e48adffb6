"""EC2 Auto Scaling as the `AutoScalingGroups` port (core/autoscalinggroups.py) that ECS
capacity providers use: the same typed operations the API calls, so a policy, hook or
protection ECS sets is exactly one a client could have set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.core.autoscalinggroups import (
    GroupMember,
    GroupRequestRefused,
    GroupView,
    TrackingPolicy,
)
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import instances, policies
from dockyard.services.ec2autoscaling.model import Group, HookResult, Transition
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling


def view(asg: Ec2AutoScaling, group: Group) -> GroupView:
    members = tuple(
        GroupMember(
            i.instance_id,
            str(i.state),
            i.protected,
            i.instance_type,
            i.hook_name if i.action_token is not None else None,
        )
        for i in sorted(group.instances.values(), key=lambda i: i.instance_id)
        if not i.detach
    )
    return GroupView(
        name=group.name,
        arn=group.arn,
        min_size=group.min_size,
        max_size=group.max_size,
        desired=group.desired,
        protect_new=group.protect_new,
        members=members,
        policy_names=tuple(p.name for p in asg.policies_of(group)),
        hook_names=tuple(sorted(group.hooks)),
    )


def _refused(exc: ServiceError) -> GroupRequestRefused:
    return GroupRequestRefused(exc.code, exc.message)


@dataclass(slots=True)
class ServedGroups:
    asg: Ec2AutoScaling

    def group(self, scope: Scope, name_or_arn: str) -> GroupView | None:
        try:
            found = self.asg.find_group(scope, name_or_arn)
        except ServiceError:
            return None
        if name_or_arn.startswith("arn:") and found.arn != name_or_arn:
            return None  # a group of that name, but not the one the ARN named
        if found.deleting:
            return None
        return view(self.asg, found)

    def put_tracking_policy(self, scope: Scope, group: str, policy: TrackingPolicy) -> str:
        spec: dict[str, Any] = {
            "MetricName": policy.metric_name,
            "Namespace": policy.namespace,
            "Dimensions": [{"Name": k, "Value": v} for k, v in policy.dimensions],
            "Statistic": policy.statistic,
        }
        config: dict[str, Any] = {
            "CustomizedMetricSpecification": spec,
            "TargetValue": policy.target,
            "DisableScaleIn": policy.disable_scale_in,
        }
        params: dict[str, Any] = {"PolicyType": "TargetTrackingScaling",
                                  "TargetTrackingConfiguration": config}  # fmt: skip
        if policy.warmup is not None:
            params["EstimatedInstanceWarmup"] = policy.warmup
        try:
            return policies.put(self.asg, scope, group, policy.name, params).arn
        except ServiceError as exc:
            raise _refused(exc) from None

    def delete_policy(self, scope: Scope, group: str, name: str) -> None:
        try:
            policies.delete(self.asg, scope, group, name)
        except ServiceError:
            return  # the group or the policy is gone already

    def put_lifecycle_hook(self, scope: Scope, group: str, name: str, transition: str,
                           heartbeat_timeout: int, default_result: str) -> None:  # fmt: skip
        try:
            instances.put_hook(self.asg, scope, group, name, Transition(transition),
                               heartbeat_timeout, HookResult(default_result), None, None,
                               None)  # fmt: skip
        except ServiceError as exc:
            raise _refused(exc) from None

    def delete_lifecycle_hook(self, scope: Scope, group: str, name: str) -> None:
        try:
            instances.delete_hook(self.asg, scope, group, name)
        except ServiceError:
            return

    def set_protection(self, scope: Scope, group: str, instance_ids: Sequence[str],
                       protected: bool) -> None:  # fmt: skip
        try:
            instances.set_protection(self.asg, scope, group, list(instance_ids), protected)
        except ServiceError as exc:
            raise _refused(exc) from None

    def complete_lifecycle_action(self, scope: Scope, group: str, hook: str, instance_id: str,
                                  result: str) -> None:  # fmt: skip
        try:
            instances.complete(self.asg, scope, group, hook, result, None, instance_id)
        except ServiceError as exc:
            raise _refused(exc) from None
