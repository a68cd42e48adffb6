"""Container instances: registering (agent link and API), describing, listing, leaving."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.core.agentlink import LogEvent
from dockyard.core.errors import ServiceError
from dockyard.services.ecs import Ecs
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from tests.unit.services.ecs.tasks_harness import (
    ACCOUNT,
    REGION,
    Client,
    FakeAgent,
    LogCollector,
    make_ecs,
    make_link,
    registration,
    run,
)


@pytest.fixture
def ecs() -> Ecs:
    return make_ecs()


@pytest.fixture
def client(ecs: Ecs) -> Client:
    return Client(ecs)


@pytest.fixture
def link(ecs: Ecs) -> EmbeddedLink:
    return make_link(ecs)


def resources(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        r["name"]: r["integerValue"] if r["type"] == "INTEGER" else r["stringSetValue"]
        for r in items
    }


def test_an_agent_registers_into_default_which_is_created(
    client: Client, ecs: Ecs, link: EmbeddedLink
) -> None:
    arn = run(link.register(registration(cpu=4096, memory=8000)))
    assert arn.startswith(f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/default/")
    assert client("DescribeClusters")["clusters"][0]["registeredContainerInstancesCount"] == 1
    out = client("DescribeContainerInstances", containerInstances=[arn])
    (ci,) = out["containerInstances"]
    assert ci["containerInstanceArn"] == arn
    assert ci["status"] == "ACTIVE"
    assert ci["agentConnected"] is True
    assert ci["ec2InstanceId"].startswith("i-")
    assert ci["versionInfo"]["agentVersion"] == "0.1.0"
    assert resources(ci["registeredResources"]) == {
        "CPU": 4096, "MEMORY": 8000, "PORTS": [], "PORTS_UDP": []
    }  # fmt: skip
    assert resources(ci["remainingResources"])["MEMORY"] == 8000
    assert (ci["runningTasksCount"], ci["pendingTasksCount"]) == (0, 0)
    assert {"name": "ecs.os-type", "value": "linux"} in ci["attributes"]
    assert {"name": "dockyard.network-mode.bridge"} in ci["attributes"]
    assert ci["registeredAt"] == ecs.clock.now()
    assert ecs.events[-1]["detail-type"] == "ECS Container Instance State Change"


def test_registering_into_a_missing_cluster_other_than_default_fails(link: EmbeddedLink) -> None:
    with pytest.raises(ServiceError) as err:
        run(link.register(registration("elsewhere")))
    assert err.value.code == "ClusterNotFoundException"


def test_registering_again_with_the_arn_keeps_the_instance(
    client: Client, link: EmbeddedLink
) -> None:
    arn = run(link.register(registration()))
    version = client.instance(arn)["version"]
    reg = registration(memory=1024)
    reg.container_instance_arn = arn
    assert run(link.register(reg)) == arn
    again = client.instance(arn)
    assert again["version"] > version
    assert resources(again["registeredResources"])["MEMORY"] == 1024
    reg.container_instance_arn = arn.rsplit("/", 1)[0] + "/" + "f" * 32
    assert run(link.register(reg)) != arn


def test_register_container_instance_api(client: Client) -> None:
    client("CreateCluster", clusterName="c")
    out = client(
        "RegisterContainerInstance",
        cluster="c",
        instanceIdentityDocument=json.dumps({"instanceId": "i-0abc"}),
        totalResources=[
            {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 2048},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "2375"]},
        ],
        versionInfo={"agentVersion": "1.80.0", "dockerVersion": "24.0"},
        attributes=[{"name": "stack", "value": "prod"}],
        tags=[{"key": "k", "value": "v"}],
    )
    ci = out["containerInstance"]
    assert ci["ec2InstanceId"] == "i-0abc"
    assert ci["agentConnected"] is False
    assert ci["tags"] == [{"key": "k", "value": "v"}]
    assert resources(ci["remainingResources"])["PORTS"] == ["22", "2375"]
    assert ci["versionInfo"]["dockerVersion"] == "24.0"
    with pytest.raises(ServiceError, match="MEMORY"):
        client(
            "RegisterContainerInstance",
            cluster="c",
            totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 1}],
        )


@pytest.mark.parametrize(
    "cluster", ["arn:aws:ecs:us-east-1:000000000000:cluster", "arn:aws:nope", "arn:"]
)
def test_registering_with_a_malformed_cluster_arn_is_invalid(client: Client, cluster: str) -> None:
    with pytest.raises(ServiceError) as err:
        client("RegisterContainerInstance", cluster=cluster)
    assert err.value.code == "InvalidParameterException"
    assert cluster in err.value.message


def test_health_and_tags_on_request(client: Client, link: EmbeddedLink) -> None:
    arn = run(link.register(registration()))
    client("TagResource", resourceArn=arn, tags=[{"key": "role", "value": "web"}])
    out = client(
        "DescribeContainerInstances",
        containerInstances=[arn.rsplit("/", 1)[-1], "0" * 32],
        include=["TAGS", "CONTAINER_INSTANCE_HEALTH"],
    )
    (ci,) = out["containerInstances"]
    assert ci["tags"] == [{"key": "role", "value": "web"}]
    assert ci["healthStatus"]["overallStatus"] == "OK"
    assert ci["healthStatus"]["details"][0]["type"] == "CONTAINER_RUNTIME"
    assert out["failures"][0]["reason"] == "MISSING"
    link.agent_stopped(arn)
    ci = client(
        "DescribeContainerInstances", containerInstances=[arn],
        include=["CONTAINER_INSTANCE_HEALTH"],
    )["containerInstances"][0]  # fmt: skip
    assert ci["agentConnected"] is False
    assert ci["healthStatus"]["overallStatus"] == "INSUFFICIENT_DATA"


def test_list_container_instances_filters_and_pages(client: Client, link: EmbeddedLink) -> None:
    small = run(link.register(registration(size="small")))
    large = run(link.register(registration(size="large", gpu=None)))
    third = run(link.register(registration()))

    def listed(**params: Any) -> list[str]:
        return sorted(client("ListContainerInstances", **params)["containerInstanceArns"])

    assert listed() == sorted([small, large, third])
    assert listed(filter="attribute:size == large") == [large]
    assert listed(filter="attribute:size exists") == sorted([small, large])
    assert listed(filter="attribute:gpu exists or attribute:size == small") == sorted(
        [small, large]
    )
    assert listed(filter="attribute:size in [small, medium]") == [small]
    assert listed(filter="not(attribute:size exists)") == [third]
    assert listed(filter="runningTasksCount == 0 and agentConnected == true") == listed()
    for bad in ("attribute:size like x", "attribute:size ==", "(attribute:size exists"):
        with pytest.raises(ServiceError, match="filter"):
            client("ListContainerInstances", filter=bad)
    assert listed(status="DRAINING") == []
    first = client("ListContainerInstances", maxResults=2)
    rest = client("ListContainerInstances", maxResults=2, nextToken=first["nextToken"])
    assert "nextToken" not in rest
    assert sorted(first["containerInstanceArns"] + rest["containerInstanceArns"]) == listed()


def test_deregister_needs_force_while_tasks_run(
    client: Client, ecs: Ecs, link: EmbeddedLink
) -> None:
    arn = run(link.register(registration()))
    client.taskdef()
    task = client.run_task()["tasks"][0]["taskArn"]
    run(FakeAgent(link, arn).step())
    with pytest.raises(ServiceError) as err:
        client("DeregisterContainerInstance", containerInstance=arn)
    assert err.value.code == "InvalidParameterException"
    assert err.value.message == "Found running tasks on the instance."

    out = client("DeregisterContainerInstance", containerInstance=arn, force=True)
    assert out["containerInstance"]["status"] == "INACTIVE"
    assert client("ListContainerInstances")["containerInstanceArns"] == []
    assert client("DescribeClusters")["clusters"][0]["registeredContainerInstancesCount"] == 0
    assert client.describe(task)["desiredStatus"] == "STOPPED"
    # The agent may no longer heartbeat, but still learns what to stop and reports it.
    with pytest.raises(ServiceError, match="deregistered"):
        run(link.heartbeat(arn))
    agent = FakeAgent(link, arn)
    agent.running.add(task)
    run(agent.step())
    assert client.describe(task)["lastStatus"] == "STOPPED"
    with pytest.raises(ServiceError, match="No Container Instances"):
        client.run_task()


def test_deregister_an_idle_instance(client: Client, link: EmbeddedLink) -> None:
    arn = run(link.register(registration()))
    out = client("DeregisterContainerInstance", containerInstance=arn.rsplit("/", 1)[-1])
    assert out["containerInstance"]["status"] == "INACTIVE"
    with pytest.raises(ServiceError, match="not found"):
        client("DeregisterContainerInstance", containerInstance=arn)


def test_instances_without_the_network_mode_are_rejected_by_attribute(
    client: Client, link: EmbeddedLink
) -> None:
    arn = run(link.register(registration(modes=("bridge", "host"))))
    client.taskdef(
        "eni", networkMode="awsvpc",
        containerDefinitions=[{"name": "a", "image": "x", "memory": 64}],
    )  # fmt: skip
    out = client.run_task(
        "eni", networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    )
    assert [(f["arn"], f["reason"]) for f in out["failures"]] == [(arn, "ATTRIBUTE")]


def test_put_logs_goes_to_the_injected_sink(ecs: Ecs) -> None:
    sink = LogCollector()
    link = EmbeddedLink(ecs, sink)
    events = [LogEvent(1, "hello")]
    run(link.put_logs("1", "r", "/ecs/web", "ecs/app/abc", events, True))
    assert sink.calls == [("1", "r", "/ecs/web", "ecs/app/abc", events, True)]

    received: list[str] = []

    async def async_sink(*args: Any) -> None:
        received.append(args[3])

    run(EmbeddedLink(ecs, async_sink).put_logs("1", "r", "g", "s", events, False))
    assert received == ["s"]


def test_unknown_instances_cannot_use_the_link(link: EmbeddedLink) -> None:
    ghost = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/default/" + "0" * 32
    for call in (link.heartbeat(ghost), link.assignments(ghost, 0), link.report(ghost, [])):
        with pytest.raises(ServiceError, match="register"):
            run(call)
