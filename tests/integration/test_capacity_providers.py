"""Capacity providers: hosts join them with `dockyard agent --capacity-provider`, and RunTask
and services spread tasks over them by base and weight."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

CLUSTER = "cp"
PROVIDERS = ("blue", "green")


@pytest.fixture
def two_groups(tmp_path: Path) -> Iterator[tuple[DockyardProcess, dict[str, str]]]:
    """A server without its own agent, and one agent per capacity provider."""
    server = DockyardProcess(
        tmp_path / "server", "--runtime", "process", "--no-local-agent", "--time-scale", "10"
    )
    server.start()
    agents: list[subprocess.Popen[bytes]] = []
    try:
        for name in PROVIDERS:
            log = open(tmp_path / f"agent-{name}.log", "ab")  # noqa: SIM115 - owned by the child
            agents.append(subprocess.Popen(
                [sys.executable, "-m", "dockyard", "agent", "--server", server.endpoint,
                 "--cluster", CLUSTER, "--data-dir", str(tmp_path / f"agent-{name}"),
                 "--runtime", "process", "--capacity-provider", name, "--time-scale", "10"],
                stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
            log.close()
        ecs = make_client("ecs", server.endpoint)
        ecs.create_cluster(clusterName=CLUSTER)

        def registered() -> dict[str, str]:
            arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
            if len(arns) < 2:
                return {}
            found = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
            return {
                ci["capacityProviderName"]: ci["containerInstanceArn"]
                for ci in found["containerInstances"]
                if ci["agentConnected"]
            }

        by_provider = wait_for(
            lambda: len(registered()) == 2 and registered(), 30, "two agents", every=0.3
        )
        yield server, by_provider
    finally:
        ecs = make_client("ecs", server.endpoint)
        for svc in ecs.list_services(cluster=CLUSTER)["serviceArns"]:
            ecs.delete_service(cluster=CLUSTER, service=svc, force=True)

        def nothing_left() -> bool:
            arns = ecs.list_tasks(cluster=CLUSTER)["taskArns"]
            for arn in arns:
                ecs.stop_task(cluster=CLUSTER, task=arn)
            stopping = ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"]
            tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=stopping)["tasks"] if stopping else []
            return not arns and all(t["lastStatus"] == "STOPPED" for t in tasks)

        wait_for(nothing_left, 30, "every task stopped", every=0.3)
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
        server.stop()


def test_capacity_providers_base_and_weight(
    two_groups: tuple[DockyardProcess, dict[str, str]],
) -> None:
    server, by_provider = two_groups
    ecs = make_client("ecs", server.endpoint)
    # Each provider names an EC2 Auto Scaling group, which must exist (empty here: the
    # hosts are the agents started above).
    ec2, asg = make_client("ec2", server.endpoint), make_client("autoscaling", server.endpoint)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_launch_template(LaunchTemplateName="cp-hosts", LaunchTemplateData={"ImageId": image})
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    for name in PROVIDERS:
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name, MinSize=0, MaxSize=0,
            LaunchTemplate={"LaunchTemplateName": "cp-hosts"}, AvailabilityZones=[zone],
        )  # fmt: skip
        group_arn = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"
        ][0]["AutoScalingGroupARN"]
        created = ecs.create_capacity_provider(
            name=name, autoScalingGroupProvider={"autoScalingGroupArn": group_arn}
        )["capacityProvider"]
        assert created["status"] == "ACTIVE"
        assert created["autoScalingGroupProvider"]["managedScaling"]["status"] == "DISABLED"
    listed = ecs.describe_capacity_providers()["capacityProviders"]
    assert [p["name"] for p in listed] == ["FARGATE", "FARGATE_SPOT", "blue", "green"]
    missing = ecs.describe_capacity_providers(capacityProviders=["nope"])["failures"]
    assert missing[0]["reason"] == "MISSING"
    with pytest.raises(ClientError) as err:
        ecs.create_capacity_provider(
            name="blue", autoScalingGroupProvider={"autoScalingGroupArn": "arn:x"}
        )
    assert err.value.response["Error"]["Code"] == "ClientException"
    with pytest.raises(ClientError) as err:
        ecs.create_capacity_provider(
            name="auto",
            autoScalingGroupProvider={
                "autoScalingGroupArn": "arn:x", "managedScaling": {"status": "ENABLED"},
            },
        )  # fmt: skip
    # Managed scaling acts on the group, which must exist.
    assert err.value.response["Error"]["Code"] == "ClientException"
    assert "could not be found" in err.value.response["Error"]["Message"]

    ecs.register_task_definition(
        family="cp-sleeper",
        networkMode="host",
        containerDefinitions=[
            {"name": "main", "image": "busybox", "command": ["sleep", "600"], "memory": 16}
        ],
    )
    strategy = [
        {"capacityProvider": "blue", "base": 2, "weight": 1},
        {"capacityProvider": "green", "weight": 3},
    ]
    # Not associated with the cluster yet.
    with pytest.raises(ClientError) as err:
        ecs.run_task(
            cluster=CLUSTER, taskDefinition="cp-sleeper", capacityProviderStrategy=strategy
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    cluster = ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["blue", "green"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "green", "weight": 1}],
    )["cluster"]
    assert cluster["capacityProviders"] == ["blue", "green"]
    with pytest.raises(ClientError) as err:
        ecs.delete_capacity_provider(capacityProvider="blue")
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"

    # Base 2 on blue, then 1:3 by weight: 6 tasks -> blue 2 + 1, green 3.
    run = ecs.run_task(
        cluster=CLUSTER, taskDefinition="cp-sleeper", count=6, capacityProviderStrategy=strategy
    )
    assert run["failures"] == []
    got = Counter(t["capacityProviderName"] for t in run["tasks"])
    assert got == {"blue": 3, "green": 3}
    for task in run["tasks"]:
        assert task["containerInstanceArn"] == by_provider[task["capacityProviderName"]]
        assert task["launchType"] == "EC2"
    # The cluster's default strategy: everything on green.
    default = ecs.run_task(cluster=CLUSTER, taskDefinition="cp-sleeper", count=2)
    assert {t["capacityProviderName"] for t in default["tasks"]} == {"green"}

    # A service: base 1 on blue, the rest evenly.
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="svc",
        taskDefinition="cp-sleeper",
        desiredCount=5,
        capacityProviderStrategy=[
            {"capacityProvider": "blue", "base": 1, "weight": 1},
            {"capacityProvider": "green", "weight": 1},
        ],
    )

    def service_spread() -> Counter[str]:
        arns = ecs.list_tasks(cluster=CLUSTER, serviceName="svc")["taskArns"]
        tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
        return Counter(t["capacityProviderName"] for t in tasks if t["lastStatus"] == "RUNNING")

    wait_for(lambda: sum(service_spread().values()) == 5, 60, "five service tasks", every=0.3)
    assert service_spread() == {"blue": 3, "green": 2}
    described = ecs.describe_services(cluster=CLUSTER, services=["svc"])["services"][0]
    assert described["capacityProviderStrategy"][0] == {
        "capacityProvider": "blue", "weight": 1, "base": 1,
    }  # fmt: skip
