"""ECS task secrets from SSM Parameter Store and Secrets Manager, through a real server: the
container really sees the values; a task whose secret is missing never runs; both services'
data survive a kill -9."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import aws_json, make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

PASSWORD = "pa55-" + uuid.uuid4().hex[:8]
API_USER = "svc-" + uuid.uuid4().hex[:6]


def task_of(ecs: Any, arn: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = ecs.describe_tasks(cluster="default", tasks=[arn])["tasks"]
    return tasks[0]


def stopped(ecs: Any, arn: str) -> dict[str, Any]:
    return wait_for(
        lambda: (t := task_of(ecs, arn))["lastStatus"] == "STOPPED" and t,
        timeout=20,
        what=f"task {arn} STOPPED",
    )


def taskdef(ecs: Any, family: str, secrets: list[dict[str, str]], group: str) -> str:
    arn: str = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{
            "name": "app",
            "image": "process:/tmp",
            "memory": 64,
            "essential": True,
            "entryPoint": ["sh", "-c"],
            "command": ['echo "password=$DB_PASSWORD user=$API_USER"'],
            "secrets": secrets,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-stream-prefix": "app",
                "awslogs-create-group": "true", "awslogs-region": "us-east-1",
            }},
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    return arn


def test_task_secrets_reach_the_container_and_survive_a_restart(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = fresh_server("--runtime", "process", data_dir=data)
    ssm = make_client("ssm", server.endpoint)
    sm = make_client("secretsmanager", server.endpoint)
    ecs = make_client("ecs", server.endpoint)
    logs = make_client("logs", server.endpoint)

    ssm.put_parameter(Name="/it/db/password", Value=PASSWORD, Type="SecureString")
    param_arn = ssm.get_parameter(Name="/it/db/password")["Parameter"]["ARN"]
    secret_arn = sm.create_secret(
        Name="it/api", SecretString=json.dumps({"user": API_USER, "token": "t0k"})
    )["ARN"]
    assert secret_arn.startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:it/api-")
    assert len(secret_arn.rsplit("-", 1)[1]) == 6

    group = f"/ecs/secrets-{uuid.uuid4().hex[:6]}"
    good = taskdef(ecs, "with-secrets", [
        {"name": "DB_PASSWORD", "valueFrom": param_arn},
        {"name": "API_USER", "valueFrom": f"{secret_arn}:user::"},
    ], group)  # fmt: skip
    arn = ecs.run_task(taskDefinition=good)["tasks"][0]["taskArn"]
    task = stopped(ecs, arn)
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0
    stream = f"app/app/{arn.rsplit('/', 1)[1]}"

    def printed() -> list[str]:
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events]

    assert wait_for(printed, what="the container's output") == [
        f"password={PASSWORD} user={API_USER}"
    ]
    # The values stay out of what ECS answers about the task and out of the server's log.
    described = json.dumps(ecs.describe_tasks(cluster="default", tasks=[arn]), default=str)
    assert PASSWORD not in described and API_USER not in described
    assert PASSWORD not in server.log()

    # A task naming a missing parameter stops before any container starts.
    missing = "arn:aws:ssm:us-east-1:000000000000:parameter/it/not-there"
    bad = taskdef(ecs, "missing-secret", [{"name": "DB_PASSWORD", "valueFrom": missing}], group)
    bad_arn = ecs.run_task(taskDefinition=bad)["tasks"][0]["taskArn"]
    task = stopped(ecs, bad_arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secrets from ssm: service call has been "
        "retried 1 time(s): invalid ssm parameters: /it/not-there"
    )
    container = task["containers"][0]
    assert "exitCode" not in container and "runtimeId" not in container
    assert "startedAt" not in task
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]

    # A deleted secret refuses to be read, and a task naming it fails the same way.
    sm.create_secret(Name="it/gone", SecretString="x")
    gone_arn = sm.delete_secret(SecretId="it/gone")["ARN"]
    with pytest.raises(sm.exceptions.InvalidRequestException):
        sm.get_secret_value(SecretId=gone_arn)
    gone = taskdef(ecs, "deleted-secret", [{"name": "API_USER", "valueFrom": gone_arn}], group)
    task = stopped(ecs, ecs.run_task(taskDefinition=gone)["tasks"][0]["taskArn"])
    assert task["stopCode"] == "TaskFailedToStart"
    assert "unable to retrieve secret from asm" in task["stoppedReason"]
    assert gone_arn in task["stoppedReason"]

    # The AWS CLI reads the parameter as a user would.
    out = aws_json(
        server.endpoint, "ssm", "get-parameter", "--name", "/it/db/password", "--with-decryption"
    )
    assert out["Parameter"]["Value"] == PASSWORD

    # kill -9: both services' data come back.
    ssm.put_parameter(Name="/it/db/password", Value="rotated", Overwrite=True)
    sm.put_secret_value(SecretId="it/api", SecretString=json.dumps({"user": "u2"}))
    server.kill(signal.SIGKILL)
    server = fresh_server("--runtime", "process", data_dir=data)
    ssm = make_client("ssm", server.endpoint)
    sm = make_client("secretsmanager", server.endpoint)
    ecs = make_client("ecs", server.endpoint)
    current = ssm.get_parameter(Name="/it/db/password", WithDecryption=True)["Parameter"]
    assert (current["Value"], current["Version"]) == ("rotated", 2)
    first = ssm.get_parameter(Name="/it/db/password:1", WithDecryption=True)["Parameter"]
    assert first["Value"] == PASSWORD
    assert json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"]) == {"user": "u2"}
    previous = sm.get_secret_value(SecretId="it/api", VersionStage="AWSPREVIOUS")
    assert json.loads(previous["SecretString"])["user"] == API_USER
    assert sm.describe_secret(SecretId=gone_arn)["DeletedDate"]

    # And a task started after the restart reads the new values.
    arn = ecs.run_task(taskDefinition=good)["tasks"][0]["taskArn"]
    assert stopped(ecs, arn)["containers"][0]["exitCode"] == 0
    logs = make_client("logs", server.endpoint)
    stream = f"app/app/{arn.rsplit('/', 1)[1]}"
    assert wait_for(printed, what="the output after the restart") == ["password=rotated user=u2"]
