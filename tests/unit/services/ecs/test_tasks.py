"""Tasks through the ECS handlers and the agent link: placing, running, stopping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.core.taskspec import NetworkBinding
from dockyard.services.ecs import Ecs
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from tests.unit.services.ecs.tasks_harness import (
    Client,
    FakeAgent,
    make_ecs,
    make_link,
    registration,
    report,
    run,
)

AWSVPC = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def ecs(clock: ManualClock) -> Ecs:
    return make_ecs(clock=clock)


@pytest.fixture
def client(ecs: Ecs) -> Client:
    return Client(ecs)


@pytest.fixture
def link(ecs: Ecs) -> EmbeddedLink:
    return make_link(ecs)


@pytest.fixture
def instance(link: EmbeddedLink) -> str:
    return run(link.register(registration()))


def remaining(client: Client, instance: str) -> dict[str, Any]:
    resources = client.instance(instance)["remainingResources"]
    return {
        r["name"]: r["integerValue"] if r["type"] == "INTEGER" else r["stringSetValue"]
        for r in resources
    }


def test_run_task_places_a_provisioning_task(client: Client, ecs: Ecs, instance: str) -> None:
    td = client.taskdef()
    out = client.run_task("web", startedBy="me", tags=[{"key": "team", "value": "a"}])
    assert out["failures"] == []
    (task,) = out["tasks"]
    assert task["lastStatus"] == "PROVISIONING"
    assert task["desiredStatus"] == "RUNNING"
    assert task["taskDefinitionArn"] == td
    assert task["containerInstanceArn"] == instance
    assert task["group"] == "family:web"
    assert task["startedBy"] == "me"
    assert task["launchType"] == "EC2"
    assert (task["cpu"], task["memory"]) == ("256", "128")
    assert task["tags"] == [{"key": "team", "value": "a"}]
    assert task["taskArn"].startswith("arn:aws:ecs:us-east-1:123456789012:task/default/")
    (container,) = task["containers"]
    assert container["name"] == "app"
    assert container["lastStatus"] == "PENDING"
    assert container["containerArn"].startswith("arn:aws:ecs:us-east-1:123456789012:container/")
    cluster = client("DescribeClusters", clusters=["default"])["clusters"][0]
    assert cluster["pendingTasksCount"] == 1
    assert cluster["registeredContainerInstancesCount"] == 1
    assert ecs.events[-1]["detail-type"] == "ECS Task State Change"
    assert ecs.events[-1]["detail"]["lastStatus"] == "PROVISIONING"


def test_a_task_runs_and_stops_through_the_agent(
    client: Client, ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef(
        containerDefinitions=[
            {
                "name": "app",
                "image": "busybox",
                "memory": 128,
                "cpu": 256,
                "command": ["sleep", "60"],
                "portMappings": [{"containerPort": 80, "hostPort": 8080}],
            }
        ]
    )
    arn = client.run_task()["tasks"][0]["taskArn"]
    assert remaining(client, instance)["MEMORY"] == 4096 - 128
    assert remaining(client, instance)["PORTS"] == ["8080"]

    (assignment,) = run(link.assignments(instance, 0))
    assert assignment.desired_status == "RUNNING"
    assert assignment.spec.task_arn == arn
    assert assignment.spec.containers[0].command == ["sleep", "60"]
    assert assignment.spec.containers[0].port_mappings[0].host_port == 8080

    run(link.report(instance, [report(arn, "PENDING", containers={"app": "PENDING"})]))
    assert client.describe(arn)["lastStatus"] == "PENDING"

    binding = NetworkBinding(container_port=80, host_port=8080)
    run(link.report(instance, [report(arn, "RUNNING", bindings=[binding], started_at=1.5e9)]))
    task = client.describe(arn)
    assert task["lastStatus"] == "RUNNING"
    assert task["startedAt"] == 1.5e9
    assert task["containers"][0]["lastStatus"] == "RUNNING"
    assert task["containers"][0]["runtimeId"] == "pid-app"
    assert task["containers"][0]["networkBindings"] == [
        {"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 8080, "protocol": "tcp"}
    ]
    assert client("DescribeClusters")["clusters"][0]["runningTasksCount"] == 1
    assert client.instance(instance)["runningTasksCount"] == 1

    stopped = client("StopTask", task=arn, reason="done with it")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    assert stopped["lastStatus"] == "STOPPING"
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "done with it"
    assert "stoppingAt" in stopped
    (assignment,) = run(link.assignments(instance, 0))
    assert assignment.desired_status == "STOPPED"
    assert assignment.stop_code == "UserInitiated"

    run(link.report(instance, [report(arn, "STOPPED", exit_code=143)]))
    task = client.describe(arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "done with it"
    assert task["containers"][0]["exitCode"] == 143
    assert {"stoppedAt", "executionStoppedAt", "stoppingAt"} <= task.keys()
    assert remaining(client, instance) == {
        "CPU": 2048, "MEMORY": 4096, "PORTS": [], "PORTS_UDP": []
    }  # fmt: skip
    assert run(link.assignments(instance, 0)) == []
    assert client("ListTasks")["taskArns"] == []
    assert client("ListTasks", desiredStatus="STOPPED")["taskArns"] == [arn]
    statuses = [e["detail"]["lastStatus"] for e in ecs.events if e["resources"] == [arn]]
    assert statuses == ["PROVISIONING", "PENDING", "RUNNING", "STOPPING", "STOPPED"]


def test_fargate_task_gets_its_own_address(client: Client, link: EmbeddedLink) -> None:
    instance = run(link.register(registration()))
    client("CreateCluster", clusterName="apps")
    client.taskdef(
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[
            {"name": "app", "image": "busybox", "portMappings": [{"containerPort": 80}]}
        ],
    )  # fmt: skip
    out = client.run_task(cluster="apps", launchType="FARGATE", networkConfiguration=AWSVPC)
    (task,) = out["tasks"]
    assert task["launchType"] == "FARGATE"
    assert "containerInstanceArn" not in task
    assert task["platformVersion"] == "1.4.0"
    assert (task["cpu"], task["memory"]) == ("256", "512")
    (attachment,) = task["attachments"]
    assert attachment["type"] == "ElasticNetworkInterface"
    assert attachment["status"] == "PRECREATED"

    agent = FakeAgent(link, instance, ip="10.1.2.3")
    run(agent.step())
    task = client.describe(task["taskArn"], cluster="apps")
    assert task["lastStatus"] == "RUNNING"
    assert task["connectivity"] == "CONNECTED"
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    assert details["privateIPv4Address"] == "10.1.2.3"
    assert details["subnetId"] == "subnet-1"
    assert details["networkInterfaceId"].startswith("eni-")
    assert task["attachments"][0]["status"] == "ATTACHED"
    (iface,) = task["containers"][0]["networkInterfaces"]
    assert iface == {"attachmentId": attachment["id"], "privateIpv4Address": "10.1.2.3"}
    # awsvpc ports live on the task's address, not the host's.
    assert remaining(client, instance)["PORTS"] == []
    assert client("ListTasks", cluster="apps", launchType="FARGATE")["taskArns"] == [
        task["taskArn"]
    ]


def test_fargate_capacity_provider_strategy_runs_on_fargate(
    client: Client, link: EmbeddedLink
) -> None:
    run(link.register(registration()))
    client.taskdef(
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
    )  # fmt: skip
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    with pytest.raises(ServiceError) as refused:  # not associated with the cluster yet
        client.run_task(capacityProviderStrategy=strategy, networkConfiguration=AWSVPC)
    assert refused.value.code == "InvalidParameterException"
    assert "not associated with the cluster: FARGATE_SPOT" in refused.value.message
    client(
        "PutClusterCapacityProviders",
        cluster="default",
        capacityProviders=["FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[],
    )
    out = client.run_task(capacityProviderStrategy=strategy, networkConfiguration=AWSVPC)
    assert out["tasks"][0]["launchType"] == "FARGATE"
    assert out["tasks"][0]["capacityProviderName"] == "FARGATE_SPOT"


def test_fargate_without_managed_capacity_is_refused(client: Client, ecs: Ecs) -> None:
    plain = make_link(ecs, managed_capacity=False)
    run(plain.register(registration()))
    client.taskdef(
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
    )  # fmt: skip
    with pytest.raises(ServiceError, match="FARGATE capacity"):
        client.run_task(launchType="FARGATE", networkConfiguration=AWSVPC)


def test_the_agent_long_poll_wakes_when_a_task_is_placed(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef()

    async def scenario() -> list[str]:
        assert await link.assignments(instance, 0) == []
        waiter = asyncio.create_task(link.assignments(instance, 30))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        arn = client.run_task()["tasks"][0]["taskArn"]
        got = await asyncio.wait_for(waiter, 5)
        assert [a.spec.task_arn for a in got] == [arn]
        # Nothing new: a short wait ends with the same list.
        again = await link.assignments(instance, 0.01)
        return [a.spec.task_arn for a in again]

    assert len(run(scenario())) == 1


def test_an_essential_container_exiting_stops_the_task(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef()
    arn = client.run_task()["tasks"][0]["taskArn"]
    run(FakeAgent(link, instance).step())
    run(link.report(instance, [report(arn, "STOPPED", exit_code=1)]))
    task = client.describe(arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["containers"][0]["exitCode"] == 1


def test_a_task_that_never_ran_failed_to_start(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef()
    arn = client.run_task()["tasks"][0]["taskArn"]
    run(link.assignments(instance, 0))
    failed = report(arn, "STOPPED", stopped_reason="CannotPullContainerError: no such image")
    failed.containers[0].reason = "CannotPullContainerError: no such image"
    run(link.report(instance, [failed]))
    task = client.describe(arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == "CannotPullContainerError: no such image"
    assert task["containers"][0]["reason"] == "CannotPullContainerError: no such image"
    assert "startedAt" not in task


def test_stopping_a_task_its_agent_never_saw_stops_it_at_once(
    client: Client, instance: str
) -> None:
    client.taskdef()
    arn = client.run_task()["tasks"][0]["taskArn"]
    task = client("StopTask", task=arn)["task"]
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "Task stopped by user"
    # Stopping again changes nothing.
    assert client("StopTask", task=arn)["task"]["version"] == task["version"]


def test_reports_never_move_a_task_backwards(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef()
    arn = client.run_task()["tasks"][0]["taskArn"]
    run(FakeAgent(link, instance).step())
    run(link.report(instance, [report(arn, "PENDING")]))
    assert client.describe(arn)["lastStatus"] == "RUNNING"
    client("StopTask", task=arn)
    run(link.report(instance, [report(arn, "RUNNING")]))
    assert client.describe(arn)["lastStatus"] == "STOPPING"
    run(link.report(instance, [report(arn, "STOPPED")]))
    run(link.report(instance, [report(arn, "RUNNING")]))
    assert client.describe(arn)["lastStatus"] == "STOPPED"


def test_reports_from_another_instance_are_ignored(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    other = run(link.register(registration()))
    client.taskdef()
    client("StartTask", taskDefinition="web", containerInstances=[instance])
    arn = client("ListTasks")["taskArns"][0]
    run(link.report(other, [report(arn, "RUNNING")]))
    assert client.describe(arn)["lastStatus"] == "PROVISIONING"


def test_overrides_reach_the_agent(client: Client, link: EmbeddedLink, instance: str) -> None:
    client.taskdef(
        containerDefinitions=[
            {
                "name": "app", "image": "busybox", "memory": 128, "command": ["a"],
                "environment": [{"name": "KEEP", "value": "1"}, {"name": "X", "value": "old"}],
            }
        ]
    )  # fmt: skip
    overrides = {
        "containerOverrides": [
            {
                "name": "app", "command": ["b", "c"], "memory": 256,
                "environment": [{"name": "X", "value": "new"}],
            }
        ],
        "cpu": "512",
        "memory": "1024",
    }  # fmt: skip
    task = client.run_task(overrides=overrides)["tasks"][0]
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert task["overrides"]["containerOverrides"][0]["command"] == ["b", "c"]
    (a,) = run(link.assignments(instance, 0))
    c = a.spec.containers[0]
    assert c.command == ["b", "c"]
    assert c.memory == 256
    assert c.environment == {"KEEP": "1", "X": "new"}
    assert (a.spec.cpu, a.spec.memory) == (512, 1024)
    assert remaining(client, instance)["MEMORY"] == 4096 - 1024


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"count": 11}, "InvalidParameterException", "count must be between 1 and 10"),
        ({"count": 0}, "InvalidParameterException", "count must be between 1 and 10"),
        (
            {"taskDefinition": "nope"},
            "ClientException",
            "Unable to describe task definition.",
        ),
        (
            {"launchType": "FARGATE"},
            "InvalidParameterException",
            "Task definition does not support launch_type FARGATE.",
        ),
        (
            {"networkConfiguration": AWSVPC},
            "InvalidParameterException",
            "Network Configuration is not valid for the given networkMode",
        ),
        (
            {"launchType": "EC2", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]},
            "InvalidParameterException",
            "Specifying both a launch type and capacity provider strategy",
        ),
        (
            {"overrides": {"containerOverrides": [{"name": "ghost"}]}},
            "InvalidParameterException",
            "Override for container named ghost is not a container in the TaskDefinition.",
        ),
        (
            {"placementStrategy": [{"type": "spread"}]},
            "InvalidParameterException",
            "placementStrategy.field",
        ),
        ({"cluster": "nowhere"}, "ClusterNotFoundException", "Cluster not found."),
    ],
)
def test_run_task_refuses_bad_requests(
    client: Client, instance: str, params: dict[str, Any], code: str, message: str
) -> None:
    client.taskdef()
    params = {"taskDefinition": "web", **params}
    with pytest.raises(ServiceError) as err:
        client("RunTask", **params)
    assert err.value.code == code
    assert message in err.value.message


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (None, "Network Configuration must be provided when networkMode 'awsvpc' is specified."),
        ({"awsvpcConfiguration": {"subnets": []}}, "subnets can not be empty."),
    ],
)
def test_awsvpc_needs_subnets(
    client: Client, instance: str, network: dict[str, Any] | None, message: str
) -> None:
    client.taskdef(
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
    )  # fmt: skip
    params: dict[str, Any] = {"launchType": "FARGATE"}
    if network is not None:
        params["networkConfiguration"] = network
    with pytest.raises(ServiceError) as err:
        client.run_task(**params)
    assert (err.value.code, err.value.message) == ("InvalidParameterException", message)


def test_no_container_instances(client: Client) -> None:
    client.taskdef()
    with pytest.raises(ServiceError) as err:
        client.run_task()
    assert err.value.code == "ClusterNotFoundException"
    client("CreateCluster")
    with pytest.raises(ServiceError) as err:
        client.run_task()
    assert err.value.code == "InvalidParameterException"
    assert err.value.message == "No Container Instances were found in your cluster."


def test_placement_failures_name_the_resource(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef("big", containerDefinitions=[{"name": "a", "image": "x", "memory": 8000}])
    out = client.run_task("big")
    assert out["tasks"] == []
    assert [(f["arn"], f["reason"]) for f in out["failures"]] == [(instance, "RESOURCE:MEMORY")]

    client.taskdef("hot", containerDefinitions=[
        {"name": "a", "image": "x", "memory": 64, "cpu": 4096}
    ])  # fmt: skip
    assert client.run_task("hot")["failures"][0]["reason"] == "RESOURCE:CPU"

    client.taskdef(
        "port", containerDefinitions=[
            {"name": "a", "image": "x", "memory": 64,
             "portMappings": [{"containerPort": 80, "hostPort": 9000}]}
        ],
    )  # fmt: skip
    out = client.run_task("port", count=2)
    assert len(out["tasks"]) == 1
    assert [f["reason"] for f in out["failures"]] == ["RESOURCE:PORTS"]

    run(link.register(registration("default", modes=("bridge",))))
    client.taskdef(
        "eni", networkMode="awsvpc",
        containerDefinitions=[{"name": "a", "image": "x", "memory": 64}],
    )  # fmt: skip
    out = client.run_task("eni", count=2, networkConfiguration=AWSVPC)
    assert len(out["tasks"]) == 2
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {instance}


def test_disconnected_agents_get_no_tasks(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef()
    link.agent_stopped(instance)
    out = client.run_task()
    assert [(f["arn"], f["reason"]) for f in out["failures"]] == [(instance, "AGENT")]
    run(link.heartbeat(instance))
    assert len(client.run_task()["tasks"]) == 1


def test_count_fills_what_fits(client: Client, instance: str) -> None:
    client.taskdef(containerDefinitions=[{"name": "a", "image": "x", "memory": 1500}])
    out = client.run_task(count=3)
    assert len(out["tasks"]) == 2
    assert [f["reason"] for f in out["failures"]] == ["RESOURCE:MEMORY"]


def test_tasks_spread_over_instances(client: Client, link: EmbeddedLink, instance: str) -> None:
    second = run(link.register(registration()))
    client.taskdef()
    out = client.run_task(count=4)
    hosts = [t["containerInstanceArn"] for t in out["tasks"]]
    assert sorted(hosts) == sorted([instance, second] * 2)


def test_start_task_on_named_instances(client: Client, instance: str) -> None:
    client.taskdef()
    missing = instance.rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef"
    out = client("StartTask", taskDefinition="web", containerInstances=[instance, missing])
    assert [t["containerInstanceArn"] for t in out["tasks"]] == [instance]
    assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]


def test_list_tasks_filters_and_pages(client: Client, link: EmbeddedLink, instance: str) -> None:
    second = run(link.register(registration()))
    client.taskdef("web")
    client.taskdef("worker")
    web = [t["taskArn"] for t in client.run_task("web", count=3, startedBy="ci")["tasks"]]
    worker = client.run_task("worker", group="service:jobs")["tasks"][0]["taskArn"]
    client("StopTask", task=web[0])

    def listed(**params: Any) -> list[str]:
        return sorted(client("ListTasks", **params)["taskArns"])

    assert listed() == sorted([*web[1:], worker])
    assert listed(family="web") == sorted(web[1:])
    assert listed(startedBy="ci") == sorted(web[1:])
    assert listed(serviceName="jobs") == [worker]
    assert listed(desiredStatus="STOPPED") == [web[0]]
    assert listed(launchType="FARGATE") == []
    on_second = [
        t for t in [*web[1:], worker] if client.describe(t)["containerInstanceArn"] == second
    ]
    assert listed(containerInstance=second) == sorted(on_second)
    assert listed(containerInstance=second.rsplit("/", 1)[-1]) == sorted(on_second)

    pages: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"maxResults": 2}
        if token:
            params["nextToken"] = token
        out = client("ListTasks", **params)
        assert len(out["taskArns"]) <= 2
        pages += out["taskArns"]
        token = out.get("nextToken")
        if not token:
            break
    assert sorted(pages) == listed()
    with pytest.raises(ServiceError, match="nextToken"):
        client("ListTasks", nextToken="garbage")


def test_describe_tasks_by_id_and_missing(client: Client, instance: str) -> None:
    client.taskdef()
    arn = client.run_task()["tasks"][0]["taskArn"]
    task_id = arn.rsplit("/", 1)[-1]
    out = client("DescribeTasks", tasks=[task_id, "0" * 32])
    assert [t["taskArn"] for t in out["tasks"]] == [arn]
    assert out["failures"] == [{"arn": arn.rsplit("/", 1)[0] + "/" + "0" * 32, "reason": "MISSING"}]
    assert "tags" not in out["tasks"][0]
    with pytest.raises(ServiceError, match="The referenced task was not found"):
        client("StopTask", task="0" * 32)


def test_task_tags_and_managed_tags(client: Client, instance: str) -> None:
    client.taskdef(tags=[{"key": "owner", "value": "td"}])
    task = client.run_task(enableECSManagedTags=True, propagateTags="TASK_DEFINITION")["tasks"][0]
    tags = {t["key"]: t["value"] for t in task["tags"]}
    assert tags == {"owner": "td", "aws:ecs:clusterName": "default"}
    client("TagResource", resourceArn=task["taskArn"], tags=[{"key": "x", "value": "1"}])
    listed = client("ListTagsForResource", resourceArn=task["taskArn"])["tags"]
    assert {"key": "x", "value": "1"} in listed


def test_tasks_survive_a_restart(tmp_path: Any, clock: ManualClock) -> None:
    path = str(tmp_path / "state.db")
    ecs = make_ecs(path, clock)
    client, link = Client(ecs), make_link(ecs)
    instance = run(link.register(registration()))
    client.taskdef()
    arns = [t["taskArn"] for t in client.run_task(count=2)["tasks"]]
    run(FakeAgent(link, instance).step())
    client("StopTask", task=arns[1])
    before = [client.describe(a) for a in arns]

    again = make_ecs(path, clock)
    client2, link2 = Client(again), make_link(again)
    assert [client2.describe(a) for a in arns] == before
    assert client2.instance(instance)["agentConnected"] is False
    assert remaining(client2, instance)["MEMORY"] == 4096 - 256
    # The agent comes back under its old ARN and is told what to run and what to stop.
    reg = registration()
    reg.container_instance_arn = instance
    assert run(link2.register(reg)) == instance
    wanted = {a.spec.task_arn: a.desired_status for a in run(link2.assignments(instance, 0))}
    assert wanted == {arns[0]: "RUNNING", arns[1]: "STOPPED"}


def test_deleting_a_cluster_with_instances_is_refused(client: Client, instance: str) -> None:
    with pytest.raises(ServiceError) as err:
        client("DeleteCluster", cluster="default")
    assert err.value.code == "ClusterContainsContainerInstancesException"


def test_an_agent_stop_code_outside_ecs_codes_is_not_shown(
    client: Client, link: EmbeddedLink, instance: str
) -> None:
    client.taskdef()
    arn = client.run_task()["tasks"][0]["taskArn"]
    run(FakeAgent(link, instance).step())
    run(link.report(instance, [report(arn, "STOPPED", exit_code=0, stop_code="Whatever")]))
    assert client.describe(arn)["stopCode"] == "EssentialContainerExited"
