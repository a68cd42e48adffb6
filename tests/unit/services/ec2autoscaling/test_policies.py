"""Scaling policies: adjustments as AWS computes them, cooldowns, target tracking alarms, and
the alarm actions that run them."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.core.scaling import AlarmFiring
from dockyard.services.ec2autoscaling import groups, policies, validation
from dockyard.services.ec2autoscaling.model import Policy
from dockyard.store.base import StoreUnavailable
from tests.unit.services.ec2autoscaling.fakes import SCOPE, World, make_group, world

STAMP = "2023-11-14T22:13:20Z"


def put(w: World, name: str, **p: Any) -> Policy:
    return policies.put(w.asg, SCOPE, "web", name, p)


def fire(w: World, policy: Policy, value: float | None = None,
         threshold: float | None = None) -> bool:  # fmt: skip
    firing = AlarmFiring("high", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:high", "ALARM",
                         threshold, value)  # fmt: skip
    return policies.invoke(w.asg, SCOPE.account_id, SCOPE.region, policy.arn, firing)


def desired(w: World) -> int:
    return w.asg.group(SCOPE, "web").desired


def test_a_simple_policy_scales_once_per_cooldown_and_says_why() -> None:
    w = world()
    make_group(w, MaxSize=10)
    policy = put(w, "up", AdjustmentType="ChangeInCapacity", ScalingAdjustment=2, Cooldown=60)
    assert policy.arn.startswith("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:")
    assert policy.arn.endswith(":autoScalingGroupName/web:policyName/up")
    assert fire(w, policy)
    assert desired(w) == 3
    assert w.asg.group(SCOPE, "web").capacity_cause == (
        f"At {STAMP} a monitor alarm high in state ALARM triggered policy up changing the "
        "desired capacity from 1 to 3.")  # fmt: skip
    fire(w, policy)
    assert desired(w) == 3  # in its cooldown
    w.clock.advance(60)
    fire(w, policy)
    assert desired(w) == 5


def test_policies_stay_within_the_groups_bounds_and_suspended_alarms() -> None:
    w = world()
    make_group(w, MaxSize=4)
    policy = put(w, "exact", AdjustmentType="ExactCapacity", ScalingAdjustment=9)
    fire(w, policy)
    assert desired(w) == 4
    w.clock.advance(300)
    policy = put(w, "down", AdjustmentType="ChangeInCapacity", ScalingAdjustment=-1)
    groups.suspend(w.asg, SCOPE, "web", validation.processes(["AlarmNotification"]))
    fire(w, policy)
    assert desired(w) == 4


@pytest.mark.parametrize(
    ("current", "percent", "magnitude", "want"),
    [(10, 27, None, 12), (10, 5, None, 11), (10, -5, None, 9), (10, -67, None, 4),
     (10, 10, 3, 13)],
)  # fmt: skip
def test_percent_change_rounds_as_aws_documents(
    current: int, percent: int, magnitude: int | None, want: int
) -> None:
    policy = Policy("arn", "p", "k", "web", policies.PolicyType.SIMPLE, 0.0,
                    adjustment_type="PercentChangeInCapacity",
                    min_adjustment_magnitude=magnitude)  # fmt: skip
    assert policies.adjusted(policy, percent, current) == want


def test_step_adjustments_pick_the_interval_of_the_breach() -> None:
    w = world()
    make_group(w, MaxSize=20)
    steps = [{"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0,
              "ScalingAdjustment": 1},
             {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 3}]  # fmt: skip
    policy = put(w, "steps", PolicyType="StepScaling", AdjustmentType="ChangeInCapacity",
                 StepAdjustments=steps)  # fmt: skip
    fire(w, policy, value=75.0, threshold=70.0)
    assert desired(w) == 2
    fire(w, policy, value=80.0, threshold=70.0)  # the lower bound is inclusive above it
    assert desired(w) == 5
    with pytest.raises(ServiceError) as err:
        put(w, "gappy", PolicyType="StepScaling", AdjustmentType="ChangeInCapacity",
            StepAdjustments=[
                {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 5.0,
                 "ScalingAdjustment": 1},
                {"MetricIntervalLowerBound": 6.0, "ScalingAdjustment": 2},
            ])  # fmt: skip
    assert err.value.code == "ValidationError"


def test_target_tracking_creates_the_alarms_aws_creates() -> None:
    w = world()
    make_group(w)
    policy = put(w, "cpu", PolicyType="TargetTrackingScaling", TargetTrackingConfiguration={
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
        "TargetValue": 50.0})  # fmt: skip
    high, low = (w.alarms.alarms[n] for n in policy.alarm_names)
    assert high.name.startswith("TargetTracking-web-AlarmHigh-")
    assert low.name.startswith("TargetTracking-web-AlarmLow-")
    assert high.params["Namespace"] == "AWS/EC2" and high.params["MetricName"] == "CPUUtilization"
    assert high.params["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": "web"}]
    assert (high.params["Threshold"], high.params["EvaluationPeriods"]) == (50.0, 3)
    assert (low.params["Threshold"], low.params["EvaluationPeriods"]) == (45.0, 15)
    assert high.params["AlarmActions"] == [policy.arn]
    assert policy.alarm_arns[0] == f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{high.name}"
    policies.delete(w.asg, SCOPE, "web", "cpu")
    assert not w.alarms.alarms


def test_a_refused_policy_write_leaves_no_alarm() -> None:
    w = world()
    make_group(w)
    w.store.failing = True
    with pytest.raises(StoreUnavailable):
        put(w, "cpu", PolicyType="TargetTrackingScaling", TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 50.0})  # fmt: skip
    assert not w.alarms.alarms and not w.asg.policies


@pytest.mark.parametrize(
    "custom",
    [{"MetricName": "Depth"},  # no Namespace
     {"Metrics": [{"Id": "a", "Expression": "m1"}, {"Id": "b", "Expression": "m2"}]}],
)  # fmt: skip
def test_customized_metric_specifications_are_checked(custom: dict[str, Any]) -> None:
    w = world()
    make_group(w)
    with pytest.raises(ServiceError) as err:
        put(w, "q", PolicyType="TargetTrackingScaling", TargetTrackingConfiguration={
            "CustomizedMetricSpecification": custom, "TargetValue": 10.0})  # fmt: skip
    assert err.value.code == "ValidationError"


def test_alarm_actions_of_other_services_are_not_ours() -> None:
    w = world()
    make_group(w)
    firing = AlarmFiring("a", "arn", "ALARM")
    other = (
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:u:resource/ecs/"
        "service/c/s:policyName/p"
    )  # Application Auto Scaling's
    assert not policies.invoke(w.asg, SCOPE.account_id, SCOPE.region, other, firing)
