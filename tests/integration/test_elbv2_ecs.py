"""An ECS service behind an ALB: tasks become targets when RUNNING, a rolling deployment under
steady load fails no request, and a task whose target turns unhealthy is replaced."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.loadgen import run_load
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bridge networking needs root")

SCALE = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(
        tmp_path_factory.mktemp("elb-ecs") / "data", "--runtime", "process",
        "--time-scale", str(SCALE),
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


def web_taskdef(ecs: Any, family: str, version: str, workdir: str = "") -> str:
    """A web server task; its files live in a new directory under `workdir` (or the system's
    temporary directory), where a test can reach them."""
    where = f" -p {workdir}" if workdir else ""
    script = (
        f'd=$(mktemp -d{where}) && echo {version} > "$d/version" && echo ok > "$d/health" '
        '&& cd "$d" && exec python3 -m http.server 8080'
    )
    arn: str = ecs.register_task_definition(
        family=family,
        networkMode="bridge",
        containerDefinitions=[{
            "name": "web", "image": "process:/tmp", "essential": True, "memory": 64,
            "entryPoint": ["sh", "-c"], "command": [script],
            "portMappings": [{"containerPort": 8080, "hostPort": 0}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    return arn


def alb_forwarding_to_a_target_group(
    elb: Any, name: str, deregistration_delay: int
) -> tuple[str, int]:
    """An ALB whose listener (on a free port) forwards to a new instance target group
    health-checked on /health every 5 s; returns the target group ARN and the port."""
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
    tg: str = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="instance",
        HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.modify_target_group_attributes(
        TargetGroupArn=tg,
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}
        ],
    )
    port = free_port()
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Port=port, Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )  # fmt: skip
    return tg, port


def test_rolling_deployment_behind_an_alb_fails_no_request(server: DockyardProcess) -> None:
    ecs = make_client("ecs", server.endpoint)
    elb = make_client("elbv2", server.endpoint)
    name = f"web-{uuid.uuid4().hex[:6]}"
    tg, port = alb_forwarding_to_a_target_group(elb, name, deregistration_delay=10)
    v1 = web_taskdef(ecs, name, "v1")
    ecs.create_service(
        serviceName=name, taskDefinition=v1, desiredCount=4,
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
        healthCheckGracePeriodSeconds=10,
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
    )  # fmt: skip

    def healthy_targets() -> list[dict[str, Any]]:
        out = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return [d for d in out if d["TargetHealth"]["State"] == "healthy"]

    def stable() -> bool:
        service = ecs.describe_services(services=[name])["services"][0]
        deployments = service["deployments"]
        return (
            len(deployments) == 1
            and deployments[0]["rolloutState"] == "COMPLETED"
            and service["runningCount"] == 4
        )

    wait_for(lambda: len(healthy_targets()) == 4 and stable(), 60, "4 healthy targets")
    targets = healthy_targets()
    assert all(t["Target"]["Id"].startswith("i-") for t in targets)
    assert len({t["Target"]["Port"] for t in targets}) == 4  # dynamic host ports

    v2 = web_taskdef(ecs, name, "v2")

    async def deploy_under_load() -> Any:
        stop = asyncio.Event()
        load = asyncio.create_task(run_load(
            "127.0.0.1", port, paths=["/version"], rate=250, connections=16, stop=stop,
        ))  # fmt: skip
        await asyncio.sleep(1.0)
        await asyncio.to_thread(ecs.update_service, service=name, taskDefinition=v2)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(wait_for, stable, 120, "the deployment to complete")
        await asyncio.sleep(1.0)
        stop.set()
        return await load

    result = asyncio.run(deploy_under_load())
    rps = result.total / result.elapsed
    print(
        f"rolling deployment of 4 tasks: {result.total} requests at {rps:.0f}/s over "
        f"{result.elapsed:.1f}s, {result.failed} failed; versions {dict(result.bodies)}"
    )
    assert result.failed == 0, (result.errors[:5], result.statuses)
    assert set(result.bodies) == {"v1\n", "v2\n"}
    assert len(healthy_targets()) == 4
    after = asyncio.run(run_load("127.0.0.1", port, paths=["/version"], requests=40))
    assert dict(after.bodies) == {"v2\n": 40}  # the old tasks are out of rotation
    events = ecs.describe_services(services=[name])["services"][0]["events"]
    assert any("registered" in e["message"] for e in events)
    ecs.update_service(service=name, desiredCount=0)
    wait_for(lambda: not elb.describe_target_health(TargetGroupArn=tg)[
        "TargetHealthDescriptions"], 60, "targets drained")  # fmt: skip
    ecs.delete_service(service=name)


def test_task_whose_target_turns_unhealthy_is_replaced(
    server: DockyardProcess, tmp_path: Path
) -> None:
    ecs = make_client("ecs", server.endpoint)
    elb = make_client("elbv2", server.endpoint)
    name = f"heal-{uuid.uuid4().hex[:6]}"
    tg, port = alb_forwarding_to_a_target_group(elb, name, deregistration_delay=5)
    tmp_path.chmod(0o777)
    ecs.create_service(
        serviceName=name, taskDefinition=web_taskdef(ecs, name, "v1", str(tmp_path)),
        desiredCount=2, healthCheckGracePeriodSeconds=10,
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
    )  # fmt: skip

    def states() -> dict[int, str]:
        out = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return {d["Target"]["Port"]: d["TargetHealth"]["State"] for d in out}

    def running() -> list[str]:
        arns: list[str] = ecs.list_tasks(serviceName=name, desiredStatus="RUNNING")["taskArns"]
        return arns

    wait_for(lambda: list(states().values()) == ["healthy"] * 2, 60, "2 healthy targets")
    before = set(running())
    assert len(before) == 2
    workdirs = sorted(tmp_path.iterdir())
    assert len(workdirs) == 2
    (workdirs[0] / "health").unlink()  # one task's health endpoint now answers 404

    # The target turns unhealthy, the service stops its task and starts a replacement.
    wait_for(lambda: len(set(running()) - before) == 1 and len(set(running()) & before) == 1,
             60, "the unhealthy task replaced")  # fmt: skip
    (gone,) = before - set(running())
    stopped = ecs.describe_tasks(tasks=[gone])["tasks"][0]
    assert stopped["stoppedReason"] == "Task failed ELB health checks", stopped["stoppedReason"]
    wait_for(lambda: list(states().values()) == ["healthy"] * 2, 60, "2 healthy targets again")
    assert len(list(tmp_path.iterdir())) == 3
    events = [e["message"] for e in ecs.describe_services(services=[name])["services"][0]["events"]]
    assert any("failed ELB health checks" in m for m in events), events
    after = asyncio.run(run_load("127.0.0.1", port, paths=["/version"], requests=20))
    assert dict(after.bodies) == {"v1\n": 20}
    ecs.update_service(service=name, desiredCount=0)
    wait_for(lambda: not states(), 60, "targets drained")
    ecs.delete_service(service=name)
