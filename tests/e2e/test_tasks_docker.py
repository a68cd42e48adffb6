"""ECS tasks through a real server with the Docker driver: real containers from an image
built here from busybox-static, driven by boto3 as a user would."""

from __future__ import annotations

import time
import urllib.request
import uuid
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

AWSVPC = {"awsvpcConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}}
HTTPD = (
    "mkdir -p /www && echo hello-from-busybox > /www/index.html && exec httpd -f -v -p 8080 -h /www"
)


@pytest.fixture
def ecs(server: DockyardProcess) -> Any:
    return make_client("ecs", server.endpoint)


def register(ecs: Any, mode: str, *containers: dict[str, Any]) -> str:
    arn: str = ecs.register_task_definition(
        family=f"e2e-{uuid.uuid4().hex[:8]}",
        networkMode=mode,
        containerDefinitions=list(containers),
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def container(image: str, name: str, script: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "memory": 64,
        "entryPoint": ["sh", "-c"],
        "command": [script],
        "stopTimeout": 2,  # sh and httpd as PID 1 ignore SIGTERM: SIGKILL after 2 s
        **extra,
    }


def wait_status(
    ecs: Any, arns: list[str], status: str, timeout: float = 30.0
) -> list[dict[str, Any]]:
    def all_in_status() -> list[dict[str, Any]] | None:
        tasks: list[dict[str, Any]] = ecs.describe_tasks(tasks=arns)["tasks"]
        if tasks and all(t["lastStatus"] == status for t in tasks):
            return tasks
        return None

    return wait_for(all_in_status, timeout, f"{arns} to be {status}", every=0.1)


def get(url: str) -> str:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return str(resp.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


def test_awsvpc_httpd_tasks_answer_on_their_own_ip(ecs: Any, image: str, server: Any) -> None:
    logs = make_client("logs", server.endpoint)
    group = f"/e2e/{uuid.uuid4().hex[:6]}"
    log_config = {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": group,
            "awslogs-stream-prefix": "e2e",
            "awslogs-create-group": "true",
            "awslogs-region": "us-east-1",
        },
    }
    taskdef = register(
        ecs,
        "awsvpc",
        container(image, "web", HTTPD, portMappings=[{"containerPort": 8080}],
                  logConfiguration=log_config),
    )  # fmt: skip
    arns = [
        ecs.run_task(taskDefinition=taskdef, networkConfiguration=AWSVPC)["tasks"][0]["taskArn"]
        for _ in range(2)
    ]
    tasks = wait_status(ecs, arns, "RUNNING")
    ips = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in tasks}
    assert len(ips) == 2
    for ip in ips:
        assert "hello-from-busybox" in get(f"http://{ip}:8080/")
    for task in tasks:
        assert task["containers"][0]["runtimeId"]
    ecs.stop_task(task=arns[0], reason="e2e done")
    stopped = wait_status(ecs, [arns[0]], "STOPPED")[0]
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["containers"][0]["exitCode"] is not None

    stream = f"e2e/web/{arns[0].rsplit('/', 1)[1]}"
    deadline = time.monotonic() + 15
    messages: list[str] = []
    while time.monotonic() < deadline and not any("response:200" in m for m in messages):
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
            messages = [e["message"] for e in events]
        except logs.exceptions.ResourceNotFoundException:
            pass
        time.sleep(0.2)
    assert any("response:200" in m for m in messages), messages
    ecs.stop_task(task=arns[1])
    wait_status(ecs, [arns[1]], "STOPPED")


def test_bridge_httpd_gets_dynamic_host_ports(ecs: Any, image: str) -> None:
    taskdef = register(
        ecs, "bridge", container(image, "web", HTTPD, portMappings=[{"containerPort": 8080}])
    )
    arns = [t["taskArn"] for t in ecs.run_task(taskDefinition=taskdef, count=2)["tasks"]]
    tasks = wait_status(ecs, arns, "RUNNING")
    ports = {t["containers"][0]["networkBindings"][0]["hostPort"] for t in tasks}
    assert len(ports) == 2
    for port in ports:
        assert "hello-from-busybox" in get(f"http://127.0.0.1:{port}/")
    for arn in arns:
        ecs.stop_task(task=arn)
    wait_status(ecs, arns, "STOPPED")


def test_memory_limit_kill_is_reported(ecs: Any, image: str) -> None:
    hog = "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived"
    taskdef = register(ecs, "bridge", container(image, "hog", hog, memory=16))
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    task = wait_status(ecs, [arn], "STOPPED", timeout=60)[0]
    c = task["containers"][0]
    assert c.get("reason", "").startswith("OutOfMemoryError"), c
    assert c["exitCode"] == 137
    assert task["stopCode"] == "EssentialContainerExited"


def test_essential_exit_stops_the_task_non_essential_does_not(ecs: Any, image: str) -> None:
    taskdef = register(
        ecs,
        "bridge",
        container(image, "side", "exit 4", essential=False),
        container(image, "main", "sleep 8; exit 7"),
    )
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    wait_status(ecs, [arn], "RUNNING")

    def side_stopped() -> dict[str, Any] | None:
        task: dict[str, Any] = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        side = next(c for c in task["containers"] if c["name"] == "side")
        return task if side["lastStatus"] == "STOPPED" else None

    task = wait_for(side_stopped, 8, "the non-essential container to stop")
    side = next(c for c in task["containers"] if c["name"] == "side")
    assert task["lastStatus"] == "RUNNING"  # the non-essential exit left it running
    assert side["lastStatus"] == "STOPPED" and side["exitCode"] == 4
    task = wait_status(ecs, [arn], "STOPPED")[0]
    assert task["stopCode"] == "EssentialContainerExited"
    main = next(c for c in task["containers"] if c["name"] == "main")
    assert main["exitCode"] == 7


def test_depends_on_orders_container_starts(ecs: Any, image: str, server: Any) -> None:
    logs = make_client("logs", server.endpoint)
    group = f"/e2e/order-{uuid.uuid4().hex[:6]}"
    log_config = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": group, "awslogs-stream-prefix": "o",
                    "awslogs-create-group": "true", "awslogs-region": "us-east-1"},
    }  # fmt: skip
    taskdef = register(
        ecs,
        "bridge",
        container(image, "app", "echo app-started; sleep 30",
                  dependsOn=[{"containerName": "init", "condition": "SUCCESS"}],
                  logConfiguration=log_config),
        container(image, "init", "echo init-ran; sleep 1; echo init-done", essential=False,
                  logConfiguration=log_config),
    )  # fmt: skip
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    wait_status(ecs, [arn], "RUNNING")
    task_id = arn.rsplit("/", 1)[1]

    def events(name: str) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                found: list[dict[str, Any]] = logs.get_log_events(
                    logGroupName=group, logStreamName=f"o/{name}/{task_id}", startFromHead=True
                )["events"]
                if found:
                    return found
            except logs.exceptions.ResourceNotFoundException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"no logs from {name}")

    app = events("app")
    init = events("init")
    while len(init) < 2:
        time.sleep(0.2)
        init = events("init")
    assert init[-1]["message"] == "init-done"
    assert app[0]["timestamp"] >= init[-1]["timestamp"]
    task = ecs.describe_tasks(tasks=[arn])["tasks"][0]
    init_c = next(c for c in task["containers"] if c["name"] == "init")
    assert init_c["exitCode"] == 0
    ecs.stop_task(task=arn)
    wait_status(ecs, [arn], "STOPPED")


def test_failing_health_check_makes_the_task_unhealthy(ecs: Any, image: str) -> None:
    taskdef = register(
        ecs,
        "bridge",
        container(
            image, "main", "sleep 60",
            healthCheck={"command": ["CMD-SHELL", "exit 1"], "interval": 5, "timeout": 2,
                         "retries": 1, "startPeriod": 0},
        ),
    )  # fmt: skip
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    wait_status(ecs, [arn], "RUNNING")
    deadline = time.monotonic() + 30
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        task = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        if task.get("healthStatus") == "UNHEALTHY":
            break
        time.sleep(0.2)
    assert task["healthStatus"] == "UNHEALTHY"
    assert task["containers"][0]["healthStatus"] == "UNHEALTHY"
    ecs.stop_task(task=arn)
    wait_status(ecs, [arn], "STOPPED")
