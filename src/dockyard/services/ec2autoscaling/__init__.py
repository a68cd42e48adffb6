"""EC2 Auto Scaling (the `autoscaling` API): groups of EC2 instances launched from a launch
template, kept at capacity, balanced across zones, registered in target groups, with
lifecycle hooks and scaling policies."""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.api.provider import Handler, Provider
from dockyard.core.scaling import AlarmFiring
from dockyard.services.ec2autoscaling import (
    access,
    ops_groups,
    ops_instances,
    ops_refresh,
    ops_scheduled,
    policies,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

__all__ = ["Ec2AutoScaling", "PolicyActions", "provider"]


def provider(asg: Ec2AutoScaling) -> Provider:
    """The front door's `autoscaling` service; the groups launch through `asg.fleet`, so one
    must be given (without EC2 there is nothing to launch)."""
    if asg.fleet is None:
        raise ValueError("EC2 Auto Scaling needs an InstanceFleet (the EC2 service)")
    handlers: dict[str, Handler] = {}
    for module in (ops_groups, ops_instances, ops_scheduled, ops_refresh):
        handlers.update(module.handlers(asg))
    return Provider(service="autoscaling", handlers=handlers,
                    validation_error_code="ValidationError", reset=asg.reset,
                    access=access.access(asg))  # fmt: skip


@dataclass(slots=True)
class PolicyActions:
    """The `AlarmActions` port (core/scaling.py) for CloudWatch alarms whose action is an EC2
    Auto Scaling policy ARN (`...:scalingPolicy:<id>:autoScalingGroupName/<group>:...`)."""

    asg: Ec2AutoScaling

    def invoke(self, account_id: str, region: str, action_arn: str, firing: AlarmFiring) -> bool:
        return policies.invoke(self.asg, account_id, region, action_arn, firing)
