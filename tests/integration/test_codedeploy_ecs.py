"""CodeDeploy blue/green deployments of an ECS service behind an ALB: a canary really shifts
the production listener's traffic (v1 only, then about the canary share of v2, then v2 only,
no failed request), and a stopped deployment rolls traffic back to v1."""

from __future__ import annotations

import http.client
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.integration.test_elbv2_ecs import web_taskdef
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bridge networking needs root")

SCALE = 20  # a 5-minute canary lasts 15 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(
        tmp_path_factory.mktemp("codedeploy-ecs") / "data", "--runtime", "process",
        "--time-scale", str(SCALE),
    )  # fmt: skip
    proc.start()
    yield proc
    proc.forget_tasks()
    proc.stop()


@dataclass
class Sampler:
    """Requests to a listener, one after another on a kept-alive connection: (start, body)."""

    port: int
    samples: list[tuple[float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", "/version")
                resp = conn.getresponse()
                body = resp.read().decode().strip()
                if resp.status != 200:
                    self.failures.append(f"{resp.status} {body[:80]}")
                else:
                    self.samples.append((started, body))
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            time.sleep(0.005)
        conn.close()

    def between(self, start: float, end: float) -> list[str]:
        return [body for t, body in self.samples if start <= t < end]


@dataclass
class Setup:
    name: str
    prod_port: int
    test_port: int
    blue_tg: str
    green_tg: str
    prod_listener: str
    test_listener: str


def blue_green_alb(elb: Any, name: str) -> Setup:
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
    arns = []
    for color in ("blue", "green"):
        tg = elb.create_target_group(
            Name=f"{name}-{color}", Protocol="HTTP", Port=8080, VpcId="vpc-1",
            TargetType="instance", HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
            HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
        elb.modify_target_group_attributes(
            TargetGroupArn=tg,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
        )
        arns.append(tg)
    ports, listeners = [free_port(), free_port()], []
    for port in ports:
        listeners.append(elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Port=port, Protocol="HTTP",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": arns[0]}],
        )["Listeners"][0]["ListenerArn"])  # fmt: skip
    return Setup(name, ports[0], ports[1], arns[0], arns[1], listeners[0], listeners[1])


def code_deploy_service(ecs: Any, elb: Any, cd: Any, name: str, *,
                        rollback: bool = False) -> tuple[Setup, str]:  # fmt: skip
    """A CODE_DEPLOY service on v1 (2 tasks) behind an ALB, and its deployment group."""
    setup = blue_green_alb(elb, name)
    v1 = web_taskdef(ecs, name, "v1")
    service = ecs.create_service(
        serviceName=name, taskDefinition=v1, desiredCount=2,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": setup.blue_tg, "containerName": "web",
                        "containerPort": 8080}],
    )["service"]  # fmt: skip
    assert [ts["status"] for ts in service["taskSets"]] == ["PRIMARY"]
    assert service["taskDefinition"] == v1

    def healthy(tg: str) -> int:
        out = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return len([d for d in out if d["TargetHealth"]["State"] == "healthy"])

    wait_for(lambda: healthy(setup.blue_tg) == 2, 60, "2 healthy blue targets")
    cd.create_application(applicationName=name, computePlatform="ECS")
    cd.create_deployment_group(
        applicationName=name, deploymentGroupName=name,
        serviceRoleArn="arn:aws:iam::000000000000:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
        ecsServices=[{"serviceName": name, "clusterName": "default"}],
        deploymentStyle={"deploymentType": "BLUE_GREEN",
                         "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE", "terminationWaitTimeInMinutes": 1},
        },
        autoRollbackConfiguration={"enabled": rollback, "events": ["DEPLOYMENT_FAILURE"]},
        loadBalancerInfo={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": f"{name}-blue"}, {"name": f"{name}-green"}],
            "prodTrafficRoute": {"listenerArns": [setup.prod_listener]},
            "testTrafficRoute": {"listenerArns": [setup.test_listener]},
        }]},
    )  # fmt: skip
    return setup, v1


def appspec(taskdef: str) -> str:
    return (
        "version: 0.0\n"
        "Resources:\n"
        "  - TargetService:\n"
        "      Type: AWS::ECS::Service\n"
        "      Properties:\n"
        f'        TaskDefinition: "{taskdef}"\n'
        "        LoadBalancerInfo:\n"
        '          ContainerName: "web"\n'
        "          ContainerPort: 8080\n"
    )


def deploy(cd: Any, name: str, taskdef: str) -> str:
    deployment_id: str = cd.create_deployment(
        applicationName=name, deploymentGroupName=name,
        revision={"revisionType": "AppSpecContent",
                  "appSpecContent": {"content": appspec(taskdef)}},
    )["deploymentId"]  # fmt: skip
    return deployment_id


def green_weight(cd: Any, deployment_id: str, target: str) -> float:
    info = cd.get_deployment_target(deploymentId=deployment_id, targetId=target)
    for ts in info["deploymentTarget"]["ecsTarget"]["taskSetsInfo"]:
        if ts["taskSetLabel"] == "Green":
            return float(ts["trafficWeight"])
    return 0.0


def test_canary_deployment_shifts_real_traffic(server: DockyardProcess) -> None:
    ecs = make_client("ecs", server.endpoint)
    elb = make_client("elbv2", server.endpoint)
    cd = make_client("codedeploy", server.endpoint)
    name = f"bg-{uuid.uuid4().hex[:6]}"
    setup, _ = code_deploy_service(ecs, elb, cd, name)
    v2 = web_taskdef(ecs, name, "v2")
    sampler = Sampler(setup.prod_port).start()
    try:
        time.sleep(1.0)
        deployment_id = deploy(cd, name, v2)
        target = f"default:{name}"
        # Watch the production weight move: record when 10% and 100% were first seen and the
        # look before each (the change happened in between).
        seen: dict[int, tuple[float, float]] = {}
        last = time.monotonic()
        test_answer = ""
        deadline = time.monotonic() + 120
        while 100 not in seen and time.monotonic() < deadline:
            weight = int(green_weight(cd, deployment_id, target))
            now = time.monotonic()
            if weight and weight not in seen:
                seen[weight] = (last, now)
                if weight == 10:
                    conn = http.client.HTTPConnection("127.0.0.1", setup.test_port, timeout=5)
                    conn.request("GET", "/version")
                    test_answer = conn.getresponse().read().decode().strip()
                    conn.close()
            last = now
            time.sleep(0.2)
        assert set(seen) == {10, 100}, seen
        assert test_answer == "v2"  # the test listener serves the replacement task set
        time.sleep(1.0)
    finally:
        sampler.stop()
    before = sampler.between(0, seen[10][0])
    canary = sampler.between(seen[10][1], seen[100][0])
    after = sampler.between(seen[100][1], float("inf"))
    share = canary.count("v2") / len(canary)
    print(f"canary: {len(before)} requests before ({set(before)}), {len(canary)} during "
          f"({share:.1%} v2), {len(after)} after ({set(after)}); "
          f"{len(sampler.failures)} failed")  # fmt: skip
    assert not sampler.failures, sampler.failures[:5]
    assert before and set(before) == {"v1"}
    assert len(canary) >= 50 and 0.05 <= share <= 0.15, (len(canary), share)
    assert after and set(after) == {"v2"}

    def finished() -> dict[str, Any]:
        info: dict[str, Any] = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        return info

    wait_for(lambda: finished()["status"] == "Succeeded", 60, "the deployment to succeed")
    info = finished()
    assert info["instanceTerminationWaitTimeStarted"] is True
    assert info["computePlatform"] == "ECS" and "errorInformation" not in info
    target_info = cd.get_deployment_target(deploymentId=deployment_id, targetId=target)
    events = target_info["deploymentTarget"]["ecsTarget"]["lifecycleEvents"]
    assert [e["lifecycleEventName"] for e in events] == [
        "BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
        "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic",
    ]  # fmt: skip
    assert {e["status"] for e in events} == {"Succeeded"}

    def task_sets() -> list[dict[str, Any]]:
        sets: list[dict[str, Any]] = ecs.describe_services(services=[name])["services"][0][
            "taskSets"
        ]
        return sets

    wait_for(lambda: len(task_sets()) == 1, 60, "the blue task set to go")
    (green,) = task_sets()
    assert green["status"] == "PRIMARY" and green["taskDefinition"] == v2
    service = ecs.describe_services(services=[name])["services"][0]
    assert service["taskDefinition"] == v2
    assert [d["taskDefinition"] for d in service["deployments"]] == [v2]
    group = cd.get_deployment_group(applicationName=name, deploymentGroupName=name)
    assert group["deploymentGroupInfo"]["lastSuccessfulDeployment"]["deploymentId"] == (
        deployment_id
    )


def test_stop_with_rollback_during_canary_brings_traffic_back(server: DockyardProcess) -> None:
    ecs = make_client("ecs", server.endpoint)
    elb = make_client("elbv2", server.endpoint)
    cd = make_client("codedeploy", server.endpoint)
    name = f"rb-{uuid.uuid4().hex[:6]}"
    setup, v1 = code_deploy_service(ecs, elb, cd, name)
    v2 = web_taskdef(ecs, name, "v2")
    deployment_id = deploy(cd, name, v2)
    target = f"default:{name}"
    wait_for(lambda: green_weight(cd, deployment_id, target) == 10, 90, "the canary")
    sampler = Sampler(setup.prod_port).start()
    try:
        time.sleep(1.0)
        answer = cd.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        assert answer["status"] == "Pending"

        def status() -> str:
            info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            return str(info["status"])

        wait_for(lambda: status() == "Stopped", 30, "the deployment to stop")
        stopped_at = time.monotonic()
        time.sleep(2.0)
    finally:
        sampler.stop()
    during = sampler.between(0, stopped_at)
    after = sampler.between(stopped_at, float("inf"))
    assert not sampler.failures, sampler.failures[:5]
    assert "v2" in during  # the canary was live
    assert after and set(after) == {"v1"}
    info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]
    rollback = cd.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment_id

    def task_sets() -> list[dict[str, Any]]:
        sets: list[dict[str, Any]] = ecs.describe_services(services=[name])["services"][0][
            "taskSets"
        ]
        return sets

    wait_for(lambda: len(task_sets()) == 1, 60, "the green task set to go")
    (blue,) = task_sets()
    assert blue["status"] == "PRIMARY" and blue["taskDefinition"] == v1
    assert ecs.describe_services(services=[name])["services"][0]["taskDefinition"] == v1
    with pytest.raises(cd.exceptions.DeploymentAlreadyCompletedException):
        cd.stop_deployment(deploymentId=deployment_id)
