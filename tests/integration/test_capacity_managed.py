"""Cluster auto scaling end to end: an EC2 Auto Scaling group whose instances run `dockyard
agent`, a capacity provider with managed scaling and termination protection, tasks that
wait in PROVISIONING until the group scales out from zero, and the group scaling back in
once they stop.

Written against the contract (the AWS APIs as a user calls them). It needs EC2 instances on
micro-hosts (a root server).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

CLUSTER = "cas"
GROUP = "cas-hosts"
PROVIDER = "cas-provider"
IMAGE_PARAM = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
USER_DATA = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DockyardProcess]:
    # Scaled time: the policy's high alarm needs 3 one-minute datapoints, the low one 15.
    process = DockyardProcess(tmp_path / "server", "--runtime", "process", "--no-local-agent",
                              "--time-scale", "30")  # fmt: skip
    process.start()
    yield process
    process.forget_tasks()
    process.stop()


def clients(server: DockyardProcess) -> dict[str, Any]:
    names = ("ecs", "ec2", "autoscaling", "cloudwatch", "ssm")
    return {n: make_client(n, server.endpoint) for n in names}


def group(c: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = c["autoscaling"].describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP]
    )["AutoScalingGroups"][0]
    return found


def test_managed_scaling_from_zero_and_back(server: DockyardProcess) -> None:
    c = clients(server)
    image = c["ssm"].get_parameter(Name=IMAGE_PARAM)["Parameter"]["Value"]
    c["ec2"].create_launch_template(
        LaunchTemplateName="cas-lt",
        LaunchTemplateData={"ImageId": image, "InstanceType": "t3.small",
                            "UserData": base64.b64encode(USER_DATA.encode()).decode()},
    )  # fmt: skip
    c["autoscaling"].create_auto_scaling_group(
        AutoScalingGroupName=GROUP, LaunchTemplate={"LaunchTemplateName": "cas-lt"},
        MinSize=0, MaxSize=3, DesiredCapacity=0, AvailabilityZones=["us-east-1a"],
        NewInstancesProtectedFromScaleIn=True,
    )  # fmt: skip
    group_arn = group(c)["AutoScalingGroupARN"]
    provider = c["ecs"].create_capacity_provider(
        name=PROVIDER,
        autoScalingGroupProvider={
            "autoScalingGroupArn": group_arn,
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            "managedTerminationProtection": "ENABLED",
        },
    )["capacityProvider"]
    assert provider["autoScalingGroupProvider"]["managedDraining"] == "ENABLED"
    strategy = [{"capacityProvider": PROVIDER, "weight": 1}]
    c["ecs"].create_cluster(clusterName=CLUSTER, capacityProviders=[PROVIDER],
                            defaultCapacityProviderStrategy=strategy)  # fmt: skip

    # ECS's target tracking policy appears on the group.
    def managed_policy() -> list[dict[str, Any]]:
        policies = c["autoscaling"].describe_policies(AutoScalingGroupName=GROUP)
        return [p for p in policies["ScalingPolicies"]
                if p["PolicyName"].startswith("ECSManagedAutoScalingPolicy-")]  # fmt: skip

    (policy,) = wait_for(managed_policy, 30, "the managed scaling policy")
    spec = policy["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]
    assert (spec["Namespace"], spec["MetricName"]) == ("AWS/ECS/ManagedScaling",
                                                      "CapacityProviderReservation")  # fmt: skip
    hooks = c["autoscaling"].describe_lifecycle_hooks(AutoScalingGroupName=GROUP)
    assert [h["LifecycleHookName"] for h in hooks["LifecycleHooks"]] == [
        "ecs-managed-draining-termination-hook"
    ]

    c["ecs"].register_task_definition(
        family="cas-sleeper", networkMode="host",
        containerDefinitions=[{"name": "main", "image": "busybox",
                               "command": ["sleep", "600"], "memory": 64, "cpu": 128}],
    )  # fmt: skip
    tasks = c["ecs"].run_task(cluster=CLUSTER, taskDefinition="cas-sleeper", count=2,
                              capacityProviderStrategy=strategy)  # fmt: skip
    assert tasks["failures"] == []
    arns = [t["taskArn"] for t in tasks["tasks"]]
    assert all(t["lastStatus"] == "PROVISIONING" for t in tasks["tasks"])
    assert all("containerInstanceArn" not in t for t in tasks["tasks"])

    # The group scales out from zero, the instance registers, the tasks run on it.
    def running() -> list[dict[str, Any]]:
        found = c["ecs"].describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
        return found if all(t["lastStatus"] == "RUNNING" for t in found) else []

    placed = wait_for(running, 300, "the tasks running on a new instance", every=1)
    instance_arns = {t["containerInstanceArn"] for t in placed}
    described = c["ecs"].describe_container_instances(
        cluster=CLUSTER, containerInstances=list(instance_arns)
    )
    ec2_ids = {ci["ec2InstanceId"] for ci in described["containerInstances"]}
    assert {ci["capacityProviderName"] for ci in described["containerInstances"]} == {PROVIDER}
    members = {i["InstanceId"]: i for i in group(c)["Instances"]}
    assert ec2_ids <= set(members)
    assert all(members[i]["ProtectedFromScaleIn"] for i in ec2_ids)
    data = c["cloudwatch"].list_metrics(Namespace="AWS/ECS/ManagedScaling")["Metrics"]
    assert {d["Value"] for m in data for d in m["Dimensions"]} >= {PROVIDER, CLUSTER}

    # The tasks stop: protection goes, the group scales in to zero, draining first.
    for arn in arns:
        c["ecs"].stop_task(cluster=CLUSTER, task=arn)
    wait_for(lambda: not any(i["ProtectedFromScaleIn"] for i in group(c)["Instances"]), 60,
             "scale-in protection released", every=1)  # fmt: skip
    wait_for(lambda: group(c)["DesiredCapacity"] == 0 and not group(c)["Instances"], 600,
             "the group scaled in to zero", every=2)  # fmt: skip

    # Removing the provider from the cluster removes its policy.
    c["ecs"].put_cluster_capacity_providers(cluster=CLUSTER, capacityProviders=[],
                                            defaultCapacityProviderStrategy=[])  # fmt: skip
    wait_for(lambda: not managed_policy(), 30, "the managed scaling policy removed")
