"""AWS/ECS service metrics measured from real tasks, and target tracking that acts on them.

Tasks burn CPU through the process driver; the agent measures them (cgroup CPU accounting),
the server publishes CPUUtilization and MemoryUtilization per ClusterName and ServiceName
each minute, and a target tracking policy at 50 % CPU scales the service out and back in.
On a 60x clock a minute is one second.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.integration.conftest import make_client
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tasks need root for namespaces")

T = TypeVar("T")

# While the flag file exists: 50 ms of CPU time, then a 50 ms rest. Alone on a core that is
# half a core (200 % of the 256 units reserved); on a host busy enough that the 50 ms of CPU
# take 300 ms to get, still more than 50 %. Counted in CPU time, not wall time, so a loaded
# host lowers the figure only that far.
BURN = """
import os, sys, time
flag = sys.argv[1]
while True:
    if os.path.exists(flag):
        end = time.process_time() + 0.05
        while time.process_time() < end:
            pass
        time.sleep(0.05)
    else:
        time.sleep(0.1)
"""


def burning_service(ecs: Any, name: str, flag: Path) -> str:
    taskdef = ecs.register_task_definition(
        family=f"burn-{uuid.uuid4().hex[:6]}", networkMode="host", cpu="256", memory="128",
        containerDefinitions=[{"name": "burn", "image": "process:/tmp", "essential": True,
                               "entryPoint": [sys.executable, "-c", BURN],
                               "command": [str(flag)]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(cluster="default", serviceName=name, taskDefinition=taskdef,
                       desiredCount=1, launchType="EC2")  # fmt: skip
    return f"service/default/{name}"


def ecs_metric(cw: Any, name: str, service: str, stat: str = "Average") -> list[float]:
    now = dt.datetime.now(dt.UTC)
    got = cw.get_metric_statistics(
        Namespace="AWS/ECS", MetricName=name, Period=60, Statistics=[stat],
        Dimensions=[{"Name": "ClusterName", "Value": "default"},
                    {"Name": "ServiceName", "Value": service}],
        StartTime=now - dt.timedelta(hours=2), EndTime=now + dt.timedelta(hours=2),
    )  # fmt: skip
    points = sorted(got["Datapoints"], key=lambda p: p["Timestamp"])
    return [float(p[stat]) for p in points]


def test_target_tracking_on_measured_cpu_scales_out_and_in(
    fresh_server: Any, tmp_path: Path
) -> None:
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    ecs = make_client("ecs", server.endpoint)
    aas = make_client("application-autoscaling", server.endpoint)
    cw = make_client("cloudwatch", server.endpoint)
    flag = tmp_path / "burn"
    flag.touch()
    resource = burning_service(ecs, "cruncher", flag)
    ids = {"ServiceNamespace": "ecs", "ResourceId": resource,
           "ScalableDimension": "ecs:service:DesiredCount"}  # fmt: skip
    aas.register_scalable_target(**ids, MinCapacity=1, MaxCapacity=3)
    aas.put_scaling_policy(
        **ids, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0, "ScaleOutCooldown": 60, "ScaleInCooldown": 0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        },
    )  # fmt: skip

    def desired() -> int:
        return int(ecs.describe_services(services=["cruncher"])["services"][0]["desiredCount"])

    wait_for(lambda: desired() >= 2, 20, "the service to scale out", every=0.25)
    assert desired() >= 2, ecs_metric(cw, "CPUUtilization", "cruncher")
    cpu = ecs_metric(cw, "CPUUtilization", "cruncher")
    assert max(cpu) > 50
    memory = ecs_metric(cw, "MemoryUtilization", "cruncher")
    assert memory and all(0 < m < 100 for m in memory)
    assert ecs_metric(cw, "CPUUtilization", "cruncher", "SampleCount")[0] >= 1

    flag.unlink()  # the load stops
    wait_for(lambda: desired() == 1, 35, "the service to scale in", every=0.25)
    assert desired() == 1, ecs_metric(cw, "CPUUtilization", "cruncher")
    assert ecs_metric(cw, "CPUUtilization", "cruncher")[-1] < 45

    activities = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=resource)
    listed = activities["ScalingActivities"]
    descriptions = [a["Description"] for a in listed]
    assert "Setting desired count to 1." in descriptions
    assert any(d in descriptions for d in ("Setting desired count to 2.",
                                           "Setting desired count to 3."))  # fmt: skip
    assert all(a["StatusCode"] == "Successful" for a in listed)
    assert any("AlarmHigh" in a["Cause"] for a in listed)
    assert any("AlarmLow" in a["Cause"] for a in listed)
