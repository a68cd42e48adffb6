"""The output records use botocore's member names for EC2 Auto Scaling (the query serializer
leaves out a member it does not know, so a misspelt one would vanish silently)."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.model import ListShape, Shape, StructureShape

from dockyard.services.ec2autoscaling import instances, policies, wire
from dockyard.services.ec2autoscaling.model import Transition
from tests.unit.services.ec2autoscaling.fakes import SCOPE, add_instance, make_group, world

MODEL = botocore.session.get_session().get_service_model("autoscaling")


def check(value: Any, shape: Shape, path: str) -> None:
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not a member of {shape.name}"
            check(item, shape.members[key], f"{path}.{key}")
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), path
        for n, item in enumerate(value):
            check(item, shape.member, f"{path}[{n}]")
    elif shape.type_name == "string":
        assert isinstance(value, str), f"{path}: {value!r}"
    elif shape.type_name in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: {value!r}"
    elif shape.type_name == "boolean":
        assert isinstance(value, bool), f"{path}: {value!r}"
    elif shape.type_name in ("double", "float") or shape.type_name == "timestamp":
        assert isinstance(value, (int, float)), f"{path}: {value!r}"


def member(operation: str, *names: str) -> Shape:
    shape = MODEL.operation_model(operation).output_shape
    for name in names:
        shape = shape.members[name] if isinstance(shape, StructureShape) else shape
        if isinstance(shape, ListShape):
            shape = shape.member
    return shape


def test_records_match_the_output_shapes() -> None:
    w = world()
    make_group(w, Tags=[{"Key": "team", "Value": "a", "PropagateAtLaunch": True}],
               TargetGroupARNs=None)  # fmt: skip
    instances.put_hook(w.asg, SCOPE, "web", "ready", Transition.LAUNCHING, 60, None,
                       "meta", None, None)  # fmt: skip
    add_instance(w, "web", "i-1", in_service=False)
    group = w.asg.group(SCOPE, "web")
    check(wire.group_to_wire(group), member("DescribeAutoScalingGroups", "AutoScalingGroups"),
          "group")  # fmt: skip
    check(wire.instance_details(group, group.instances["i-1"]),
          member("DescribeAutoScalingInstances", "AutoScalingInstances"), "instance")  # fmt: skip
    for act in w.asg.activities[group.key]:
        check(wire.activity_to_wire(act, group.arn),
              member("DescribeScalingActivities", "Activities"), "activity")  # fmt: skip
    check(wire.hook_to_wire(group, group.hooks["ready"]),
          member("DescribeLifecycleHooks", "LifecycleHooks"), "hook")  # fmt: skip
    simple = policies.put(
        w.asg, SCOPE, "web", "up", {"AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": 1}
    )
    tracking = policies.put(w.asg, SCOPE, "web", "cpu", {
        "PolicyType": "TargetTrackingScaling", "TargetTrackingConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 50.0}})  # fmt: skip
    for policy in (simple, tracking):
        check(wire.policy_to_wire(policy), member("DescribePolicies", "ScalingPolicies"),
              "policy")  # fmt: skip
    assert wire.instance_details(group, group.instances["i-1"])["HealthStatus"] == "HEALTHY"
