"""ECS tasks that really run, through the process driver: boto3 and the AWS CLI against a
real server with its embedded agent."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import aws_json, make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

AWSVPC = {"awsvpcConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}}


def http_server_taskdef(ecs: Any, mode: str, group: str | None = None) -> str:
    family = f"web-{mode}-{uuid.uuid4().hex[:6]}"
    container: dict[str, Any] = {
        "name": "web",
        "image": "process:/tmp",
        "essential": True,
        "memory": 128,
        "entryPoint": [sys.executable, "-u"],
        "command": ["-m", "http.server", "8080"],
        "portMappings": [{"containerPort": 8080}],
    }
    if group:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": group,
                "awslogs-stream-prefix": "web",
                "awslogs-create-group": "true",
                "awslogs-region": "us-east-1",
            },
        }
    arn: str = ecs.register_task_definition(
        family=family, networkMode=mode, containerDefinitions=[container]
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def wait_status(
    ecs: Any, task_arns: list[str], status: str, timeout: float = 10.0, cluster: str = "default"
) -> list[dict[str, Any]]:
    def all_in_status() -> list[dict[str, Any]] | None:
        tasks: list[dict[str, Any]] = ecs.describe_tasks(cluster=cluster, tasks=task_arns)["tasks"]
        return tasks if tasks and all(t["lastStatus"] == status for t in tasks) else None

    return wait_for(all_in_status, timeout, f"tasks {status}")


def http_get(url: str, attempts: int = 50) -> int:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return int(resp.status)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


def task_ip(task: dict[str, Any]) -> str:
    ip: str = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    return ip


def test_awsvpc_tasks_run_with_their_own_ip(ecs: Any, logs: Any) -> None:
    group = f"/ecs/web-{uuid.uuid4().hex[:6]}"
    taskdef = http_server_taskdef(ecs, "awsvpc", group)
    arns = []
    for _ in range(2):
        out = ecs.run_task(taskDefinition=taskdef, networkConfiguration=AWSVPC)
        assert out["failures"] == []
        arns.append(out["tasks"][0]["taskArn"])
    tasks = wait_status(ecs, arns, "RUNNING", timeout=30.0)
    ips = [task_ip(t) for t in tasks]
    assert len(set(ips)) == 2
    for ip in ips:
        assert http_get(f"http://{ip}:8080/") == 200

    stopped_out = ecs.stop_task(task=arns[0], reason="done here")["task"]
    assert stopped_out["desiredStatus"] == "STOPPED"
    stopped = wait_status(ecs, [arns[0]], "STOPPED")[0]
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "done here"
    container = stopped["containers"][0]
    assert container["lastStatus"] == "STOPPED"
    assert container["exitCode"] in (0, -15, 143, 137)
    assert "stoppedAt" in stopped

    # What the container printed (http.server's access log) went to CloudWatch Logs.
    task_id = arns[0].rsplit("/", 1)[1]
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            events = logs.get_log_events(
                logGroupName=group, logStreamName=f"web/web/{task_id}", startFromHead=True
            )["events"]
            messages = [e["message"] for e in events]
            if any("GET / " in m for m in messages):
                break
        except logs.exceptions.ResourceNotFoundException:
            pass
        time.sleep(0.2)
    assert any("GET / " in m for m in messages), messages
    ecs.stop_task(task=arns[1])
    wait_status(ecs, [arns[1]], "STOPPED")


def test_bridge_tasks_publish_dynamic_host_ports(dockyard: DockyardProcess) -> None:
    ecs = make_client("ecs", dockyard.endpoint)
    taskdef = http_server_taskdef(ecs, "bridge")
    out = aws_json(
        dockyard.endpoint, "ecs", "run-task", "--task-definition", taskdef, "--count", "2"
    )
    arns = [t["taskArn"] for t in out["tasks"]]
    assert len(arns) == 2
    tasks = wait_status(ecs, arns, "RUNNING", timeout=30.0)
    ports = []
    for task in tasks:
        binding = task["containers"][0]["networkBindings"][0]
        assert binding["containerPort"] == 8080
        ports.append(binding["hostPort"])
        assert http_get(f"http://127.0.0.1:{binding['hostPort']}/") == 200
    assert len(set(ports)) == 2
    for arn in arns:
        aws_json(dockyard.endpoint, "ecs", "stop-task", "--task", arn)
    for task in wait_status(ecs, arns, "STOPPED"):
        assert task["stopCode"] == "UserInitiated"


def test_essential_exit_stops_the_task_with_its_exit_code(ecs: Any) -> None:
    family = f"exit-{uuid.uuid4().hex[:6]}"
    taskdef = ecs.register_task_definition(
        family=family,
        networkMode="host",
        containerDefinitions=[
            {
                "name": "main",
                "image": "process:/tmp",
                "memory": 64,
                "entryPoint": ["sh", "-c"],
                "command": ["echo bye; exit 3"],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    task = wait_status(ecs, [arn], "STOPPED")[0]
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 3


def test_running_tasks_survive_a_server_kill(fresh_server: Callable[..., DockyardProcess]) -> None:
    server = fresh_server("--runtime", "process")
    ecs = make_client("ecs", server.endpoint)
    taskdef = http_server_taskdef(ecs, "awsvpc")
    arns = [
        ecs.run_task(taskDefinition=taskdef, networkConfiguration=AWSVPC)["tasks"][0]["taskArn"]
        for _ in range(2)
    ]
    tasks = wait_status(ecs, arns, "RUNNING")
    ips = {t["taskArn"]: task_ip(t) for t in tasks}
    pids = {t["taskArn"]: t["containers"][0]["runtimeId"] for t in tasks}

    server.kill()  # SIGKILL: the server and its embedded agent die at once
    # Meanwhile one task's process dies.
    victim, survivor = arns
    pid_files = list(server.data_dir.glob(f"agent/**/{pids[victim]}/pid.json"))
    assert pid_files, f"no pid file for runtime id {pids[victim]}"
    os.kill(json.loads(pid_files[0].read_text())["pid"], signal.SIGKILL)

    again = fresh_server("--runtime", "process", data_dir=server.data_dir)
    ecs = make_client("ecs", again.endpoint)
    assert http_get(f"http://{ips[survivor]}:8080/") == 200
    assert wait_status(ecs, [survivor], "RUNNING")[0]["taskArn"] == survivor
    dead = wait_status(ecs, [victim], "STOPPED")[0]
    assert dead["stoppedReason"]
    assert dead["containers"][0]["lastStatus"] == "STOPPED"
    ecs.stop_task(task=survivor)
    wait_status(ecs, [survivor], "STOPPED")


def test_tasks_run_again_after_a_reset(fresh_server: Callable[..., DockyardProcess]) -> None:
    server = fresh_server("--runtime", "process")
    ecs = make_client("ecs", server.endpoint)
    taskdef = http_server_taskdef(ecs, "host")
    first = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    runtime_id = wait_status(ecs, [first], "RUNNING")[0]["containers"][0]["runtimeId"]
    pid_file = next(server.data_dir.glob(f"agent/**/{runtime_id}/pid.json"))
    pid = json.loads(pid_file.read_text())["pid"]
    server.reset()  # what a user's test suite does between tests
    assert ecs.list_tasks()["taskArns"] == []
    # The embedded agent registers again and keeps what nobody knows any more running, as
    # an orphan (tests/security/test_orphans.py), until the operator stops it.
    deadline = time.monotonic() + 10
    while not ecs.list_container_instances()["containerInstanceArns"]:
        assert time.monotonic() < deadline, "the agent did not register again"
        time.sleep(0.05)
    while not server.orphans():
        assert time.monotonic() < deadline, "the orphan was not reported"
        time.sleep(0.05)
    assert Path(f"/proc/{pid}").exists()
    assert server.stop_orphans() == [first]
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, "the orphan is still running"
        time.sleep(0.05)
    taskdef = http_server_taskdef(ecs, "host")
    second = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    assert wait_status(ecs, [second], "RUNNING")[0]["lastStatus"] == "RUNNING"
    ecs.stop_task(task=second)
    wait_status(ecs, [second], "STOPPED")
