"""ECS services through their handlers, with the service controller reconciling against fake
agents (tests/unit only) and a tiny fake of the load balancers' TargetGroups."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dockyard.controllers.services import ServiceController
from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.core.loadbalancing import Target
from dockyard.services.ecs import Ecs
from tests.unit.services.ecs.tasks_harness import (
    Client,
    FakeAgent,
    make_ecs,
    make_link,
    registration,
)

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc"


class FakeTargetGroups:
    """Targets become healthy when told; deregistered ones drain until `drain()`."""

    def __init__(self, target_type: str = "ip") -> None:
        self.type = target_type
        self.state: dict[Target, str] = {}
        self.calls: list[tuple[str, Target]] = []

    def target_type(self, account_id: str, region: str, target_group_arn: str) -> str | None:
        return self.type if target_group_arn == TG else None

    def register(self, account_id: str, region: str, tg: str, target: Target) -> None:
        self.calls.append(("register", target))
        self.state[target] = "initial"

    def deregister(self, account_id: str, region: str, tg: str, target: Target) -> None:
        self.calls.append(("deregister", target))
        self.state[target] = "draining"

    def health(self, account_id: str, region: str, tg: str, target: Target) -> str:
        return self.state.get(target, "unused")

    def pass_checks(self) -> None:
        for t, s in self.state.items():
            if s == "initial":
                self.state[t] = "healthy"

    def drain(self) -> None:
        self.state = {t: s for t, s in self.state.items() if s != "draining"}


class World:
    def __init__(self, instances: int = 1, groups: FakeTargetGroups | None = None) -> None:
        self.clock = ManualClock()
        self.ecs: Ecs = make_ecs(clock=self.clock)
        self.ecs.target_groups = groups
        self.client = Client(self.ecs)
        self.link = make_link(self.ecs)
        self.agents: list[FakeAgent] = []
        for i in range(instances):
            arn = asyncio.run(self.link.register(registration()))
            self.agents.append(FakeAgent(self.link, arn, ip=f"10.0.0.{i + 5}"))
        self.controller = ServiceController(self.ecs, self.clock)
        self.ips = 0

    async def _round(self) -> None:
        for service in list(self.ecs.services.by_arn.values()):
            await self.controller.reconcile(service.arn)
        for agent in self.agents:
            self.ips += 1
            agent.ip = f"10.0.{self.ips // 250}.{self.ips % 250 + 2}"  # a new address per round
            await agent.step()

    def step(self, times: int = 1, advance: float = 0.0) -> None:
        for _ in range(times):
            asyncio.run(self._round())
            self.clock.advance(advance)

    def service(self, name: str = "web") -> dict[str, Any]:
        out = self.client("DescribeServices", services=[name], include=["TAGS"])
        assert not out["failures"], out["failures"]
        service: dict[str, Any] = out["services"][0]
        return service

    def tasks(self, name: str = "web", desired: str = "RUNNING") -> list[dict[str, Any]]:
        arns = self.client("ListTasks", serviceName=name, desiredStatus=desired)["taskArns"]
        if not arns:
            return []
        tasks: list[dict[str, Any]] = self.client("DescribeTasks", tasks=arns)["tasks"]
        return tasks


def create(world: World, count: int = 2, **params: Any) -> dict[str, Any]:
    params.setdefault("taskDefinition", world.client.taskdef())
    out: dict[str, Any] = world.client(
        "CreateService", serviceName=params.pop("name", "web"), desiredCount=count, **params
    )["service"]
    return out


def test_create_describe_list_and_defaults() -> None:
    w = World()
    out = create(w, tags=[{"key": "team", "value": "a"}])
    assert out["status"] == "ACTIVE"
    assert out["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert out["deploymentConfiguration"]["maximumPercent"] == 200
    assert out["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": False, "rollback": False,
    }  # fmt: skip
    assert out["schedulingStrategy"] == "REPLICA"
    assert out["deployments"][0]["status"] == "PRIMARY"
    assert out["deployments"][0]["id"].startswith("ecs-svc/")
    assert out["tags"] == [{"key": "team", "value": "a"}]
    assert "tags" not in w.client("DescribeServices", services=["web"])["services"][0]
    create(w, name="other")
    listed = w.client("ListServices", maxResults=1)
    assert len(listed["serviceArns"]) == 1 and listed["nextToken"]
    rest = w.client("ListServices", nextToken=listed["nextToken"])
    assert len(rest["serviceArns"]) == 1 and "nextToken" not in rest
    assert w.client("ListServices", launchType="FARGATE")["serviceArns"] == []
    assert w.client("ListServices", schedulingStrategy="DAEMON")["serviceArns"] == []
    missing = w.client("DescribeServices", services=["nope"])["failures"]
    assert missing[0]["reason"] == "MISSING"
    clusters = w.client("DescribeClusters", clusters=["default"])["clusters"]
    assert clusters[0]["activeServicesCount"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"serviceName": "bad name"}, "Service name"),
        ({"deploymentConfiguration": {"minimumHealthyPercent": 150}}, "minimumHealthyPercent"),
        ({"deploymentConfiguration": {"maximumPercent": 50}}, "maximumPercent"),
        ({"placementStrategy": [{"type": "binpack", "field": "host"}]}, "placementStrategy"),
        ({"schedulingStrategy": "DAEMON", "desiredCount": 2}, "desiredCount"),
        (
            {
                "loadBalancers": [
                    {"targetGroupArn": TG, "containerName": "app", "containerPort": 80}
                ]
            },
            "Load balancers",
        ),
        (
            {
                "deploymentController": {"type": "CODE_DEPLOY"},
                "deploymentConfiguration": {
                    "deploymentCircuitBreaker": {"enable": True, "rollback": False}
                },
            },
            "circuit breaker",
        ),
    ],
)
def test_create_refuses_what_ecs_refuses(params: dict[str, Any], message: str) -> None:
    w = World()
    args = {"serviceName": "web", "taskDefinition": w.client.taskdef(), "desiredCount": 1}
    args.update(params)
    with pytest.raises(ServiceError) as err:
        w.client("CreateService", **args)
    assert err.value.code == "InvalidParameterException"
    assert message in err.value.message


def test_create_is_idempotent_only_with_the_same_client_token() -> None:
    w = World()
    first = create(w, clientToken="t1")
    assert create(w, clientToken="t1")["serviceArn"] == first["serviceArn"]
    with pytest.raises(ServiceError, match="not idempotent"):
        create(w, clientToken="t2")


def test_controller_keeps_desired_count_and_reports_steady_state() -> None:
    w = World()
    create(w, 3)
    w.step(2)
    service = w.service()
    assert service["runningCount"] == 3
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"  # not settled yet (40 s)
    w.clock.advance(41)
    w.step(1)
    service = w.service()
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    messages = [e["message"] for e in service["events"]]
    assert messages[0] == "(service web) has reached a steady state."
    assert messages[-1].startswith("(service web) has started 3 tasks: (task ")
    tasks = w.tasks()
    assert {t["group"] for t in tasks} == {"service:web"}
    assert {t["startedBy"] for t in tasks} == {service["deployments"][0]["id"]}

    # Scale in, then out.
    w.client("UpdateService", service="web", desiredCount=1)
    w.step(2)
    assert len(w.tasks()) == 1
    assert any("has stopped 2 running tasks" in e["message"] for e in w.service()["events"])
    w.client("UpdateService", service="web", desiredCount=2)
    w.step(2)
    assert w.service()["runningCount"] == 2
    # What autoscaling calls.
    w.ecs.services.set_desired_count(service["serviceArn"], 4)
    w.step(2)
    assert w.service()["runningCount"] == 4


def test_delete_needs_force_or_zero_and_drains_the_tasks() -> None:
    w = World()
    create(w, 2)
    w.step(2)
    with pytest.raises(ServiceError, match="scaled above 0"):
        w.client("DeleteService", service="web")
    assert w.client("DeleteService", service="web", force=True)["service"]["status"] == "DRAINING"
    w.step(3)
    assert w.service()["status"] == "INACTIVE"
    assert w.tasks() == []
    with pytest.raises(ServiceError) as err:
        w.client("UpdateService", service="web", desiredCount=1)
    assert (
        err.value.code == "ServiceNotFoundException"
        or err.value.code == "ServiceNotActiveException"
    )


def test_placement_failure_is_an_event() -> None:
    w = World()
    big = w.client.taskdef(
        "big", containerDefinitions=[{"name": "app", "image": "x", "memory": 999_999}]
    )
    create(w, 1, taskDefinition=big)
    w.step(1)
    message = w.service()["events"][0]["message"]
    assert message.startswith(
        "(service web) was unable to place a task because no container instance met all of its "
        "requirements. The closest matching (container-instance "
    )
    assert message.endswith("has insufficient memory available.")


def test_draining_moves_service_tasks_and_leaves_standalone_tasks() -> None:
    w = World(instances=2)
    first, second = (a.instance_arn for a in w.agents)
    w.client("UpdateContainerInstancesState", containerInstances=[second], status="DRAINING")
    create(w, 2, deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200})
    standalone = w.client.run_task(w.client.taskdef("solo"))["tasks"]
    assert standalone == [] or standalone[0]["containerInstanceArn"] == first
    w.step(2, advance=41)
    assert {t["containerInstanceArn"] for t in w.tasks()} == {first}
    out = w.client("UpdateContainerInstancesState", containerInstances=[second], status="ACTIVE")
    assert out["containerInstances"][0]["status"] == "ACTIVE"
    solo = w.client.run_task(w.client.taskdef("solo"))["tasks"][0]
    w.client("UpdateContainerInstancesState", containerInstances=[first], status="DRAINING")
    for _ in range(6):
        w.step(1, advance=41)
    tasks = w.tasks()
    assert len(tasks) == 2 and {t["containerInstanceArn"] for t in tasks} == {second}
    assert w.client.describe(solo["taskArn"])["lastStatus"] == "RUNNING"  # left alone
    with pytest.raises(ServiceError, match="ACTIVE or DRAINING"):
        w.client("UpdateContainerInstancesState", containerInstances=[first], status="INACTIVE")


def test_protected_tasks_survive_scale_in() -> None:
    w = World()
    create(w, 3)
    w.step(2)
    keep = w.tasks()[0]["taskArn"]
    out = w.client("UpdateTaskProtection", tasks=[keep], protectionEnabled=True, expiresInMinutes=5)
    assert out["protectedTasks"][0]["protectionEnabled"] is True
    w.client("UpdateService", service="web", desiredCount=0)
    w.step(2)
    assert [t["taskArn"] for t in w.tasks()] == [keep]
    got = w.client("GetTaskProtection", tasks=[keep])["protectedTasks"][0]
    assert got["protectionEnabled"] is True
    w.clock.advance(301)
    w.step(2)
    assert w.tasks() == []


def test_daemon_runs_one_task_per_active_instance() -> None:
    w = World(instances=2)
    out = create(w, 0, schedulingStrategy="DAEMON")
    assert out["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    assert out["deploymentConfiguration"]["maximumPercent"] == 100
    w.step(2)
    tasks = w.tasks()
    assert sorted(t["containerInstanceArn"] for t in tasks) == sorted(
        a.instance_arn for a in w.agents
    )
    assert w.service()["desiredCount"] == 2
    w.client(
        "UpdateContainerInstancesState", containerInstances=[w.agents[0].instance_arn],
        status="DRAINING",
    )  # fmt: skip
    w.step(2)
    assert [t["containerInstanceArn"] for t in w.tasks()] == [w.agents[1].instance_arn]
    assert w.service()["desiredCount"] == 1


def test_daemon_honours_member_of_constraints() -> None:
    w = World(instances=3)
    w.client(
        "PutAttributes",
        attributes=[{"name": "role", "value": "edge", "targetId": a.instance_arn}
                    for a in w.agents[:2]],
    )  # fmt: skip
    create(
        w, 0, schedulingStrategy="DAEMON",
        placementConstraints=[{"type": "memberOf", "expression": "attribute:role == edge"}],
    )  # fmt: skip
    w.step(3)
    assert sorted(t["containerInstanceArn"] for t in w.tasks()) == sorted(
        a.instance_arn for a in w.agents[:2]
    )
    events = [e["message"] for e in w.service()["events"]]
    assert not any("unable to place" in m for m in events), events


def test_rolling_deployment_with_a_load_balancer_drains_before_stopping() -> None:
    groups = FakeTargetGroups("ip")
    w = World(groups=groups)
    td = w.client.taskdef(
        "lb", networkMode="awsvpc",
        containerDefinitions=[{"name": "app", "image": "x", "memory": 64,
                               "portMappings": [{"containerPort": 80}]}],
    )  # fmt: skip
    lbs = [{"targetGroupArn": TG, "containerName": "app", "containerPort": 80}]
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    create(w, 1, taskDefinition=td, loadBalancers=lbs, networkConfiguration=network)
    w.step(3)
    assert [c[0] for c in groups.calls] == ["register"]
    assert w.service()["deployments"][0]["rolloutState"] == "IN_PROGRESS"  # target initial
    groups.pass_checks()
    w.step(1)
    assert w.service()["deployments"][0]["rolloutState"] == "COMPLETED"

    w.client("UpdateService", service="web", forceNewDeployment=True)
    w.step(3)
    groups.pass_checks()
    w.step(2)
    assert [c[0] for c in groups.calls] == ["register", "register", "deregister"]
    assert len(w.tasks()) == 2  # the old task keeps running while its target drains
    events = [e["message"] for e in w.service()["events"]]
    assert "(service web) has begun draining connections on 1 tasks." in events
    groups.drain()
    w.step(3)
    service = w.service()
    assert len(w.tasks()) == 1
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    assert len(service["deployments"]) == 1


def test_a_target_someone_else_deregisters_is_not_registered_again() -> None:
    # An Auto Scaling group attached to the same target group takes the instance out:
    # ECS registered the task's target once and leaves it out (the task takes no traffic).
    groups = FakeTargetGroups("ip")
    w = World(groups=groups)
    td = w.client.taskdef(
        "lb", networkMode="awsvpc",
        containerDefinitions=[{"name": "app", "image": "x", "memory": 64,
                               "portMappings": [{"containerPort": 80}]}],
    )  # fmt: skip
    lbs = [{"targetGroupArn": TG, "containerName": "app", "containerPort": 80}]
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    create(w, 1, taskDefinition=td, loadBalancers=lbs, networkConfiguration=network)
    w.step(3)
    groups.pass_checks()
    w.step(1)
    assert [c[0] for c in groups.calls] == ["register"]
    groups.state.clear()  # deregistered and drained by someone else
    w.step(3)
    assert [c[0] for c in groups.calls] == ["register"]


def test_unhealthy_target_is_replaced() -> None:
    groups = FakeTargetGroups("ip")
    w = World(groups=groups)
    td = w.client.taskdef(
        "lb", networkMode="awsvpc",
        containerDefinitions=[{"name": "app", "image": "x", "memory": 64,
                               "portMappings": [{"containerPort": 80}]}],
    )  # fmt: skip
    lbs = [{"targetGroupArn": TG, "containerName": "app", "containerPort": 80}]
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    create(w, 1, taskDefinition=td, loadBalancers=lbs, networkConfiguration=network,
           healthCheckGracePeriodSeconds=10)  # fmt: skip
    w.step(3)
    sick = w.tasks()[0]["taskArn"]
    for target in groups.state:
        groups.state[target] = "unhealthy"
    w.step(2)
    assert sick in [t["taskArn"] for t in w.tasks()]  # in its grace period
    w.clock.advance(11)
    w.step(3)
    events = [e["message"] for e in w.service()["events"]]
    assert any("failed ELB health checks" in m for m in events)
    groups.drain()
    groups.pass_checks()
    w.step(3)
    assert sick not in [t["taskArn"] for t in w.tasks()]
    assert w.service()["runningCount"] == 1


def test_target_group_must_match_the_network_mode() -> None:
    w = World(groups=FakeTargetGroups("instance"))
    td = w.client.taskdef(
        "lb", networkMode="awsvpc",
        containerDefinitions=[{"name": "app", "image": "x", "memory": 64,
                               "portMappings": [{"containerPort": 80}]}],
    )  # fmt: skip
    lbs = [{"targetGroupArn": TG, "containerName": "app", "containerPort": 80}]
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    with pytest.raises(ServiceError, match="incompatible with the awsvpc network mode"):
        create(w, 1, taskDefinition=td, loadBalancers=lbs, networkConfiguration=network)
    bad_port = [{"targetGroupArn": TG, "containerName": "app", "containerPort": 81}]
    with pytest.raises(ServiceError, match="did not have a container port 81"):
        create(w, 1, taskDefinition=td, loadBalancers=bad_port, networkConfiguration=network)


def test_restart_keeps_services_and_deployments(tmp_path: Any) -> None:
    path = str(tmp_path / "db.sqlite3")
    clock = ManualClock()
    ecs = make_ecs(path, clock)
    client = Client(ecs)
    client("CreateCluster")
    client("CreateService", serviceName="web", taskDefinition=client.taskdef(), desiredCount=2)
    client("UpdateService", service="web", forceNewDeployment=True)
    again = make_ecs(path, clock)
    service = Client(again)("DescribeServices", services=["web"])["services"][0]
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY", "ACTIVE"]


def test_service_deployments_api_and_stop_with_rollback() -> None:
    w = World()
    create(w, 1)
    w.step(2, advance=41)
    w.step(1)
    second = w.client.taskdef(
        "web", containerDefinitions=[{"name": "app", "image": "y", "memory": 64}]
    )
    w.client("UpdateService", service="web", taskDefinition=second)
    listed = w.client("ListServiceDeployments", service="web")["serviceDeployments"]
    assert [d["status"] for d in listed] == ["IN_PROGRESS", "SUCCESSFUL"]
    current = listed[0]["serviceDeploymentArn"]
    assert w.client("StopServiceDeployment", serviceDeploymentArn=current)
    described = w.client("DescribeServiceDeployments", serviceDeploymentArns=[current])
    deployment = described["serviceDeployments"][0]
    assert deployment["status"] == "ROLLBACK_IN_PROGRESS"
    assert deployment["rollback"]["serviceRevisionArn"] == listed[1]["targetServiceRevisionArn"]
    for _ in range(4):
        w.step(1, advance=41)
    service = w.service()
    assert service["taskDefinition"] != second
    listed = w.client("ListServiceDeployments", service="web")["serviceDeployments"]
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]
    with pytest.raises(ServiceError) as err:
        w.client("StopServiceDeployment", serviceDeploymentArn=listed[0]["serviceDeploymentArn"])
    assert err.value.code == "ConflictException"
    revisions = w.client(
        "DescribeServiceRevisions", serviceRevisionArns=[listed[1]["targetServiceRevisionArn"]]
    )["serviceRevisions"]
    assert revisions[0]["taskDefinition"] == second
    assert revisions[0]["containerImages"] == [{"containerName": "app", "image": "y"}]


def test_external_task_sets() -> None:
    w = World()
    td = w.client.taskdef()
    out = w.client(
        "CreateService", serviceName="ext", desiredCount=4,
        deploymentController={"type": "EXTERNAL"},
    )["service"]  # fmt: skip
    assert out["deployments"] == [] and out["taskSets"] == []
    blue = w.client("CreateTaskSet", service="ext", taskDefinition=td, externalId="blue")["taskSet"]
    assert blue["status"] == "PRIMARY" and blue["computedDesiredCount"] == 4
    green = w.client(
        "CreateTaskSet", service="ext", taskDefinition=td, scale={"value": 50, "unit": "PERCENT"}
    )["taskSet"]
    assert green["computedDesiredCount"] == 2
    w.step(3)
    assert len(w.tasks("ext")) == 6
    w.client("UpdateServicePrimaryTaskSet", service="ext", primaryTaskSet=green["taskSetArn"])
    w.client(
        "UpdateTaskSet", service="ext", taskSet=green["id"], scale={"value": 100, "unit": "PERCENT"}
    )
    with pytest.raises(ServiceError, match="primary task set"):
        w.client("DeleteTaskSet", service="ext", taskSet=green["id"])
    w.client("DeleteTaskSet", service="ext", taskSet=blue["id"])
    w.step(4)
    sets = w.client("DescribeTaskSets", service="ext")["taskSets"]
    assert [(s["id"], s["status"], s["runningCount"]) for s in sets] == [
        (green["id"], "PRIMARY", 4)
    ]
    assert sets[0]["stabilityStatus"] == "STEADY_STATE"
    with pytest.raises(ServiceError, match="EXTERNAL"):
        w.client(
            "CreateTaskSet", service="ext", cluster="default", taskDefinition=td
        ) if False else create(w, 1, name="plain") and w.client(
            "CreateTaskSet", service="plain", taskDefinition=td
        )
