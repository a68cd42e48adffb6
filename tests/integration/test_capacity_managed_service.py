"""Managed scaling for a service, end to end: a capacity provider at target capacity 100 %
on an Auto Scaling group of micro-hosts. Raising the service to more tasks than fit (one
per instance: each takes host port 8080) puts the excess in PROVISIONING, the group grows
and they run on the new instances; scaling the service down shrinks the group again without
stopping an instance that has tasks (ECS protects busy instances from scale-in).

Written against the contract (boto3 as a user calls it). Needs a root server (micro-hosts).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nsenter") is None, reason="micro-hosts need root"
)

CLUSTER = "grow"
GROUP = "grow-hosts"
PROVIDER = "grow-provider"
IMAGE_PARAM = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
USER_DATA = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DockyardProcess]:
    # Scaled time: the policy's high alarm needs 3 one-minute datapoints, the low one 15.
    process = DockyardProcess(tmp_path / "server", "--runtime", "process", "--no-local-agent",
                              "--time-scale", "30", "--agent-grace", "1800")  # fmt: skip
    process.start()
    c = clients(process)
    try:
        yield process
    finally:
        with contextlib.suppress(Exception):  # the group may not exist (a failed setup)
            c["autoscaling"].delete_auto_scaling_group(AutoScalingGroupName=GROUP,
                                                       ForceDelete=True)  # fmt: skip

        def gone() -> bool:
            reservations = c["ec2"].describe_instances()["Reservations"]
            alive = [i["InstanceId"] for r in reservations for i in r["Instances"]
                     if i["State"]["Name"] != "terminated"]  # fmt: skip
            if alive:
                c["ec2"].terminate_instances(InstanceIds=alive)
            return not alive

        try:
            wait_for(gone, 120, "every instance to terminate", every=0.5)
        finally:
            process.forget_tasks()
            process.stop()


def clients(server: DockyardProcess) -> dict[str, Any]:
    names = ("ecs", "ec2", "autoscaling", "ssm")
    return {n: make_client(n, server.endpoint) for n in names}


def group(c: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = c["autoscaling"].describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP]
    )["AutoScalingGroups"][0]
    return found


def service_tasks(c: dict[str, Any]) -> list[dict[str, Any]]:
    arns = c["ecs"].list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
    if not arns:
        return []
    found: list[dict[str, Any]] = c["ecs"].describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return found


def ec2_of(c: dict[str, Any], container_instances: set[str]) -> dict[str, str]:
    """Container instance ARN -> its EC2 instance id."""
    if not container_instances:
        return {}
    described = c["ecs"].describe_container_instances(
        cluster=CLUSTER, containerInstances=sorted(container_instances)
    )["containerInstances"]
    return {ci["containerInstanceArn"]: ci["ec2InstanceId"] for ci in described}


@pytest.mark.timeout(900)
def test_the_group_grows_for_tasks_that_do_not_fit_and_shrinks_without_a_busy_instance(
    server: DockyardProcess,
) -> None:
    c = clients(server)
    image = c["ssm"].get_parameter(Name=IMAGE_PARAM)["Parameter"]["Value"]
    c["ec2"].create_launch_template(
        LaunchTemplateName="grow-lt",
        LaunchTemplateData={"ImageId": image, "InstanceType": "t3.small",
                            "UserData": base64.b64encode(USER_DATA.encode()).decode()},
    )  # fmt: skip
    c["autoscaling"].create_auto_scaling_group(
        AutoScalingGroupName=GROUP, LaunchTemplate={"LaunchTemplateName": "grow-lt"},
        MinSize=0, MaxSize=4, DesiredCapacity=1, AvailabilityZones=["us-east-1a"],
        NewInstancesProtectedFromScaleIn=True,
    )  # fmt: skip
    group_arn = group(c)["AutoScalingGroupARN"]
    c["ecs"].create_capacity_provider(
        name=PROVIDER,
        autoScalingGroupProvider={
            "autoScalingGroupArn": group_arn,
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            "managedTerminationProtection": "ENABLED",
        },
    )  # fmt: skip
    strategy = [{"capacityProvider": PROVIDER, "weight": 1}]
    c["ecs"].create_cluster(clusterName=CLUSTER, capacityProviders=[PROVIDER],
                            defaultCapacityProviderStrategy=strategy)  # fmt: skip
    # One task per instance: each reserves host port 8080.
    c["ecs"].register_task_definition(
        family="grow-web", networkMode="host",
        containerDefinitions=[{"name": "main", "image": "busybox", "essential": True,
                               "command": ["sleep", "3600"], "memory": 64,
                               "portMappings": [{"containerPort": 8080, "hostPort": 8080}]}],
    )  # fmt: skip

    def registered() -> bool:
        arns = c["ecs"].list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
        return len(arns) == 1

    wait_for(registered, 120, "the group's first instance registered", every=0.5)
    c["ecs"].create_service(cluster=CLUSTER, serviceName="web", taskDefinition="grow-web",
                            desiredCount=1, capacityProviderStrategy=strategy)  # fmt: skip

    def running(n: int) -> list[dict[str, Any]]:
        tasks = [t for t in service_tasks(c) if t["lastStatus"] == "RUNNING"]
        return tasks if len(tasks) == n else []

    wait_for(lambda: running(1), 120, "the service's first task running", every=0.5)

    # Three tasks: two do not fit; they wait in PROVISIONING and the group grows.
    c["ecs"].update_service(cluster=CLUSTER, service="web", desiredCount=3)

    def provisioning() -> list[dict[str, Any]]:
        tasks = [t for t in service_tasks(c) if t["lastStatus"] == "PROVISIONING"]
        return tasks if len(tasks) == 2 else []

    waiting = wait_for(provisioning, 60, "two tasks in PROVISIONING", every=0.2)
    assert all("containerInstanceArn" not in t for t in waiting)
    assert all(t["capacityProviderName"] == PROVIDER for t in waiting)
    wait_for(lambda: group(c)["DesiredCapacity"] >= 3, 300, "the group to grow to 3", every=1)
    three = wait_for(lambda: running(3), 300, "three tasks running", every=1)
    by_instance = ec2_of(c, {t["containerInstanceArn"] for t in three})
    hosts = set(by_instance.values())
    assert len(hosts) == 3  # one task on each instance, two of them new
    members = {i["InstanceId"]: i for i in group(c)["Instances"]}
    assert hosts <= set(members)
    assert all(members[h]["ProtectedFromScaleIn"] for h in hosts)  # busy: protected
    print(f"grew: {sorted(hosts)} for {len(three)} tasks")

    # Back to one task: the idle instances lose protection and the group shrinks.
    c["ecs"].update_service(cluster=CLUSTER, service="web", desiredCount=1)
    (kept,) = wait_for(lambda: running(1) if len(service_tasks(c)) == 1 else [], 120,
                       "the service down to one task", every=0.5)  # fmt: skip
    kept_host = ec2_of(c, {kept["containerInstanceArn"]})[kept["containerInstanceArn"]]

    def shrunk() -> bool:
        g = group(c)
        # Every look: the instance with the running task is in service and the task runs.
        states = {i["InstanceId"]: i["LifecycleState"] for i in g["Instances"]}
        assert states.get(kept_host) == "InService", (kept_host, states)
        task = c["ecs"].describe_tasks(cluster=CLUSTER, tasks=[kept["taskArn"]])["tasks"][0]
        assert task["lastStatus"] == "RUNNING", task
        return bool(g["DesiredCapacity"] == 1 and set(states) == {kept_host})

    wait_for(shrunk, 600, "the group shrunk to the busy instance", every=1)
    print(f"shrank to {kept_host}, its task {kept['taskArn'].rsplit('/', 1)[-1]} still RUNNING")
    final = c["ecs"].describe_tasks(cluster=CLUSTER, tasks=[kept["taskArn"]])["tasks"][0]
    assert final["lastStatus"] == "RUNNING"
    assert [t["taskArn"] for t in service_tasks(c)] == [kept["taskArn"]]
