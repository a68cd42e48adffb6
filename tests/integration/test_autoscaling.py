"""Application Auto Scaling through boto3: a step policy fired by a CloudWatch alarm on a
custom metric scales a real ECS service; target tracking creates AWS's alarms."""

from __future__ import annotations

import os
import sys
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tasks need root for namespaces")


def service(ecs: Any, name: str, count: int = 1) -> str:
    taskdef = ecs.register_task_definition(
        family=f"svc-{uuid.uuid4().hex[:6]}", networkMode="host",
        containerDefinitions=[{"name": "app", "image": "process:/tmp", "essential": True,
                               "memory": 32, "entryPoint": [sys.executable, "-c"],
                               "command": ["import time; time.sleep(600)"]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(cluster="default", serviceName=name, taskDefinition=taskdef,
                       desiredCount=count, launchType="EC2")  # fmt: skip
    return f"service/default/{name}"


def test_step_policy_fires_from_custom_metric_alarm(fresh_server: Any) -> None:
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    ecs = make_client("ecs", server.endpoint)
    aas = make_client("application-autoscaling", server.endpoint)
    cw = make_client("cloudwatch", server.endpoint)
    resource = service(ecs, "worker")
    ids = {"ServiceNamespace": "ecs", "ResourceId": resource,
           "ScalableDimension": "ecs:service:DesiredCount"}  # fmt: skip
    aas.register_scalable_target(**ids, MinCapacity=1, MaxCapacity=4)
    policy = aas.put_scaling_policy(
        **ids, PolicyName="queue-up", PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity", "Cooldown": 600,
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 100,
                                 "ScalingAdjustment": 1},
                                {"MetricIntervalLowerBound": 100, "ScalingAdjustment": 2}],
        },
    )["PolicyARN"]  # fmt: skip
    cw.put_metric_alarm(
        AlarmName="queue-deep", Namespace="Jobs", MetricName="Backlog", Statistic="Maximum",
        Period=60, EvaluationPeriods=1, Threshold=50, AlarmActions=[policy],
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    deadline = time.monotonic() + 30
    desired = 1
    while time.monotonic() < deadline and desired != 3:
        cw.put_metric_data(Namespace="Jobs", MetricData=[{"MetricName": "Backlog", "Value": 400}])
        desired = ecs.describe_services(services=["worker"])["services"][0]["desiredCount"]
        time.sleep(0.2)
    assert desired == 3  # 400 - 50 = 350 above the threshold: the +2 step
    activities = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=resource)
    [activity] = activities["ScalingActivities"]
    assert activity["Description"] == "Setting desired count to 3."
    assert activity["StatusCode"] == "Successful"
    assert "monitor alarm queue-deep in state ALARM triggered policy queue-up" in activity["Cause"]
    # The cooldown holds further steps back even though the alarm stays in ALARM.
    time.sleep(2)
    assert ecs.describe_services(services=["worker"])["services"][0]["desiredCount"] == 3


def test_target_tracking_creates_alarms_and_min_max_hold(fresh_server: Any) -> None:
    server = fresh_server("--runtime", "process")
    ecs = make_client("ecs", server.endpoint)
    aas = make_client("application-autoscaling", server.endpoint)
    cw = make_client("cloudwatch", server.endpoint)
    resource = service(ecs, "web", count=1)
    ids = {"ServiceNamespace": "ecs", "ResourceId": resource,
           "ScalableDimension": "ecs:service:DesiredCount"}  # fmt: skip
    aas.register_scalable_target(**ids, MinCapacity=2, MaxCapacity=5)
    # Registering with a minimum above the current count scales out to the minimum.
    assert ecs.describe_services(services=["web"])["services"][0]["desiredCount"] == 2
    out = aas.put_scaling_policy(
        **ids, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 60, "ScaleInCooldown": 60,
        },
    )  # fmt: skip
    names = sorted(a["AlarmName"] for a in out["Alarms"])
    assert names[0].startswith(f"TargetTracking-{resource}-AlarmHigh-")
    assert names[1].startswith(f"TargetTracking-{resource}-AlarmLow-")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    high = alarms[names[0]]
    assert (high["Namespace"], high["MetricName"], high["Threshold"]) == (
        "AWS/ECS",
        "CPUUtilization",
        50.0,
    )
    assert {d["Name"]: d["Value"] for d in high["Dimensions"]} == {
        "ClusterName": "default",
        "ServiceName": "web",
    }
    assert high["EvaluationPeriods"] == 3 and high["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarms[names[1]]["Threshold"] == 45.0
    assert alarms[names[1]]["EvaluationPeriods"] == 15
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["cpu50"]
    aas.delete_scaling_policy(**ids, PolicyName="cpu50")
    assert cw.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    with pytest.raises(ClientError) as err:
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/default/nope",
                                     ScalableDimension="ecs:service:DesiredCount",
                                     MinCapacity=1, MaxCapacity=2)  # fmt: skip
    assert err.value.response["Error"]["Code"] == "ValidationException"
    aas.deregister_scalable_target(**ids)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
