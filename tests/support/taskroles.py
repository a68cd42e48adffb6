"""Shared pieces of the task role tests (process and Docker drivers): a server with IAM
enforced, roles for ecs-tasks, and a task that calls SSM with boto3 as its role."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.waiting import wait_for

ACCOUNT = "000000000000"  # the embedded agent's default cluster is in it
ROOT_KEY = "AKIATASKROLESROOT001"
ROOT_SECRET = "test"
PARAMETER = "/app/x"
VALUE = "value-" + uuid.uuid4().hex[:8]


def auth_file(directory: Path) -> Path:
    path = directory / "auth"
    path.write_text(f"{ROOT_KEY} {ROOT_SECRET} {ACCOUNT}\n")
    path.chmod(0o600)
    return path


def trust(service: str = "ecs-tasks.amazonaws.com") -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                       "Action": "sts:AssumeRole"}],
    })  # fmt: skip


def allow_get_parameter(name: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter",
                       "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{name}"}],
    })  # fmt: skip


def role(
    iam: Any, name: str, parameter: str | None, service: str = "ecs-tasks.amazonaws.com"
) -> str:
    """A role `service` may assume, allowed ssm:GetParameter on `parameter` (None: nothing)."""
    try:
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))["Role"][
            "Arn"
        ]
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] in (404, 501):
            pytest.skip(f"this server does not serve IAM roles yet: {exc}")
        raise
    if parameter is not None:
        iam.put_role_policy(
            RoleName=name, PolicyName="read", PolicyDocument=allow_get_parameter(parameter)
        )
    return arn


def script(endpoint: str) -> str:
    """What the container runs: who it is, then the parameter (the issue's own line)."""
    return (
        "import boto3; "
        f"print('caller', boto3.client('sts', endpoint_url={endpoint!r})"
        ".get_caller_identity()['Arn'], flush=True); "
        f"print(boto3.client('ssm', endpoint_url={endpoint!r}).get_parameter(Name={PARAMETER!r}))"
    )


def container(image: str, entry: list[str], endpoint: str, group: str, **extra: Any) -> Any:
    return {
        "name": "app",
        "image": image,
        "memory": 128,
        "essential": True,
        "entryPoint": entry,
        "command": [script(endpoint)],
        "environment": [{"name": "AWS_DEFAULT_REGION", "value": "us-east-1"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-stream-prefix": "app",
            "awslogs-create-group": "true", "awslogs-region": "us-east-1",
        }},
        **extra,
    }  # fmt: skip


def task_of(ecs: Any, arn: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = ecs.describe_tasks(cluster="default", tasks=[arn])["tasks"]
    return found[0]


def stopped(ecs: Any, arn: str, timeout: float = 90) -> dict[str, Any]:
    return wait_for(
        lambda: (t := task_of(ecs, arn))["lastStatus"] == "STOPPED" and t,
        timeout=timeout,
        what=f"task {arn} STOPPED",
    )


def output(logs: Any, group: str, task_arn: str) -> str:
    """Everything the task's container printed (stdout and stderr), once it has some."""
    stream = f"app/app/{task_arn.rsplit('/', 1)[1]}"

    def printed() -> str:
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return ""
        text = "\n".join(e["message"] for e in events)
        return text if ("{'Parameter'" in text or "An error occurred (" in text) else ""

    found: str = wait_for(printed, timeout=30, what=f"the output of {task_arn}")
    return found
