"""A Docker container reads ECS's environment and its task metadata endpoint (v4), through a
real server with the Docker driver, in awsvpc, bridge and host network modes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

AWSVPC = {"awsvpcConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}}
READER = (
    'sleep 0.5; echo env=$AWS_EXECUTION_ENV; wget -qO- "$ECS_CONTAINER_METADATA_URI_V4/task";'
    ' echo; wget -qO- "$ECS_CONTAINER_METADATA_URI_V4"'
)


# awsvpc first: the first task on a fresh server may be the one that creates its network
@pytest.mark.parametrize("mode", ["awsvpc", "bridge", "host"])
def test_a_docker_container_reads_its_task_metadata(
    server: DockyardProcess, image: str, mode: str
) -> None:
    ecs = make_client("ecs", server.endpoint)
    logs = make_client("logs", server.endpoint)
    family = f"e2e-metadata-{mode}-{uuid.uuid4().hex[:6]}"
    group = f"/e2e/{family}"
    taskdef = ecs.register_task_definition(
        family=family,
        networkMode=mode,
        containerDefinitions=[{
            "name": "reader",
            "image": image,
            "memory": 64,
            "entryPoint": ["sh", "-c"],
            "command": [READER],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-stream-prefix": "app",
                "awslogs-create-group": "true", "awslogs-region": "us-east-1",
            }},
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    extra: dict[str, Any] = {"networkConfiguration": AWSVPC} if mode == "awsvpc" else {}
    task_arn: str = ecs.run_task(taskDefinition=taskdef, **extra)["tasks"][0]["taskArn"]
    stream = f"app/reader/{task_arn.rsplit('/', 1)[1]}"

    def stopped() -> dict[str, Any]:
        task: dict[str, Any] = ecs.describe_tasks(tasks=[task_arn])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else {}

    task = wait_for(stopped, timeout=60, what=f"task {task_arn} STOPPED")

    def printed() -> list[str]:
        try:
            events = logs.get_log_events(
                logGroupName=group, logStreamName=stream, startFromHead=True
            )["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events] if len(events) >= 3 else []

    lines = wait_for(printed, timeout=20, what=f"the output of {task_arn}")
    container = task["containers"][0]
    assert container["exitCode"] == 0, (lines, task.get("stoppedReason"))
    assert lines[0] == "env=AWS_ECS_EC2", lines
    task_doc = json.loads(lines[1])
    assert task_doc["TaskARN"] == task_arn
    assert task_doc["Family"] == family
    assert task_doc["Revision"] == "1"
    assert task_doc["KnownStatus"] == "RUNNING"
    assert task_doc["Containers"][0]["Name"] == "reader"
    assert task_doc["Containers"][0]["KnownStatus"] == "RUNNING"
    own = json.loads(lines[2])
    assert own["Name"] == "reader" and own["Image"] == image
    assert own["DockerId"] == container["runtimeId"] != ""
    assert own["Networks"][0]["NetworkMode"] == mode
