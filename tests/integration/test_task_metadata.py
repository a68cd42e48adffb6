"""A container reads ECS's environment and its task metadata endpoint (v4), through a real
server with its embedded agent and the process runtime."""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

import pytest

from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

READER = (
    "import os, urllib.request\n"
    "base = os.environ['ECS_CONTAINER_METADATA_URI_V4']\n"
    "print(base)\n"
    "print(urllib.request.urlopen(base + '/task', timeout=5).read().decode())\n"
    "print(urllib.request.urlopen(base, timeout=5).read().decode())\n"
)


def run_reader(ecs: Any, logs: Any, mode: str) -> list[str]:
    """Run a task whose container prints its metadata URL, /task and its own document."""
    family = f"metadata-{mode}-{uuid.uuid4().hex[:6]}"
    group = f"/ecs/{family}"
    arn = ecs.register_task_definition(
        family=family,
        networkMode=mode,
        containerDefinitions=[{
            "name": "reader",
            "image": "process:/tmp",
            "memory": 64,
            "essential": True,
            "entryPoint": ["sh", "-c"],
            "command": [
                'sleep 0.5; echo "env=$AWS_EXECUTION_ENV"; '
                f'exec {sys.executable} -c "$READER"'
            ],
            "environment": [{"name": "READER", "value": READER}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-stream-prefix": "app",
                "awslogs-create-group": "true", "awslogs-region": "us-east-1",
            }},
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    task_arn = ecs.run_task(taskDefinition=arn)["tasks"][0]["taskArn"]
    stream = f"app/reader/{task_arn.rsplit('/', 1)[1]}"

    def printed() -> list[str]:
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events] if len(events) >= 4 else []

    lines = wait_for(printed, timeout=30, what=f"the output of {task_arn}")
    task = wait_for(
        lambda: (t := ecs.describe_tasks(cluster="default", tasks=[task_arn])["tasks"][0])[
            "lastStatus"
        ] == "STOPPED" and t,
        timeout=20,
        what=f"task {task_arn} STOPPED",
    )  # fmt: skip
    assert task["containers"][0]["exitCode"] == 0, lines
    assert lines[0] == "env=AWS_ECS_EC2"
    task_doc = json.loads(lines[2])
    assert task_doc["TaskARN"] == task_arn
    assert task_doc["Family"] == family
    assert task_doc["Revision"] == "1"
    assert task_doc["Cluster"].endswith(":cluster/default")
    assert task_doc["KnownStatus"] == "RUNNING"
    assert task_doc["Containers"][0]["Name"] == "reader"
    assert task_doc["Containers"][0]["KnownStatus"] == "RUNNING"
    own = json.loads(lines[3])
    assert own["Name"] == "reader" and own["Image"] == "process:/tmp"
    assert own["DockerId"] == task["containers"][0]["runtimeId"]
    assert own["LogDriver"] == "awslogs"
    assert own["Networks"][0]["NetworkMode"] == mode
    return lines


def test_a_host_mode_container_reads_its_task_metadata(ecs: Any, logs: Any) -> None:
    lines = run_reader(ecs, logs, "host")
    assert lines[1].startswith("http://127.0.0.1:")


def test_a_bridge_mode_container_reaches_the_endpoint_through_the_gateway(
    ecs: Any, logs: Any
) -> None:
    lines = run_reader(ecs, logs, "bridge")
    assert lines[1].startswith("http://") and not lines[1].startswith("http://127.")
