"""ECS `environmentFiles` from S3: the container really sees the file's variables (its own
`environment` entries win); a file that is not there stops the task before it runs."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


def _stopped(ecs: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        task: dict[str, Any] = ecs.describe_tasks(cluster="default", tasks=[arn])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    return wait_for(check, timeout=30, what=f"task {arn} STOPPED")


def test_environment_files_from_s3(dockyard: DockyardProcess) -> None:
    s3 = make_client("s3", dockyard.endpoint)
    ecs = make_client("ecs", dockyard.endpoint)
    logs = make_client("logs", dockyard.endpoint)
    s3.create_bucket(Bucket="env-files")
    s3.put_object(Bucket="env-files", Key="app.env",
                  Body=b"# settings\nGREETING=hello from s3\nCOLOR=blue\n")  # fmt: skip
    group = f"/ecs/envfiles-{uuid.uuid4().hex[:6]}"

    def taskdef(family: str, arn: str) -> str:
        return str(ecs.register_task_definition(
            family=family,
            containerDefinitions=[{
                "name": "app", "image": "process:/tmp", "memory": 64, "essential": True,
                "entryPoint": ["sh", "-c"], "command": ['echo "$GREETING / $COLOR"'],
                "environment": [{"name": "COLOR", "value": "green"}],
                "environmentFiles": [{"value": arn, "type": "s3"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-stream-prefix": "app",
                    "awslogs-create-group": "true", "awslogs-region": "us-east-1"}},
            }],
        )["taskDefinition"]["taskDefinitionArn"])  # fmt: skip

    arn = ecs.run_task(taskDefinition=taskdef("env-from-s3", "arn:aws:s3:::env-files/app.env"))[
        "tasks"
    ][0]["taskArn"]
    task = _stopped(ecs, arn)
    assert task["containers"][0].get("exitCode") == 0, task
    stream = f"app/app/{arn.rsplit('/', 1)[1]}"

    def printed() -> list[str]:
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events]

    assert wait_for(printed, what="the container's output") == ["hello from s3 / green"]

    missing = "arn:aws:s3:::env-files/missing.env"
    bad = ecs.run_task(taskDefinition=taskdef("env-missing", missing))["tasks"][0]["taskArn"]
    task = _stopped(ecs, bad)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: failed to download env")
    assert missing in task["stoppedReason"] and "NoSuchKey" in task["stoppedReason"]
