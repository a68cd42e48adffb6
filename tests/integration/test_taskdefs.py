"""ECS task definitions through real clients: boto3 and the AWS CLI against a real server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.server import DockyardProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


CONTAINER = {"name": "app", "image": "busybox", "memory": 64, "command": ["sleep", "60"]}


def test_register_describe_list_with_boto3(ecs: Any) -> None:
    family = unique("td")
    first = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{**CONTAINER, "portMappings": [{"containerPort": 80}]}],
        tags=[{"key": "team", "value": "blue"}],
    )
    td = first["taskDefinition"]
    assert td["taskDefinitionArn"].endswith(f":task-definition/{family}:1")
    assert td["status"] == "ACTIVE"
    assert td["containerDefinitions"][0]["essential"] is True
    assert td["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 80, "protocol": "tcp"}
    ]
    assert first["tags"] == [{"key": "team", "value": "blue"}]
    assert td["registeredAt"].year >= 2024  # a timestamp on the wire

    second = ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="0.25 vCPU",
        memory="0.5 GB",
        containerDefinitions=[{"name": "app", "image": "busybox"}],
    )["taskDefinition"]
    assert (second["revision"], second["cpu"], second["memory"]) == (2, "256", "512")
    assert second["compatibilities"] == ["EC2", "FARGATE"]

    described = ecs.describe_task_definition(taskDefinition=f"{family}:1", include=["TAGS"])
    assert described["tags"] == [{"key": "team", "value": "blue"}]
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2

    arns = ecs.list_task_definitions(familyPrefix=family, sort="DESC")["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in arns] == ["2", "1"]
    assert family in ecs.list_task_definition_families(familyPrefix=family)["families"]

    paginator = ecs.get_paginator("list_task_definitions")
    pages = list(paginator.paginate(familyPrefix=family, PaginationConfig={"PageSize": 1}))
    assert [p["taskDefinitionArns"][0] for p in pages] == sorted(arns)


def test_deregister_and_delete_with_boto3(ecs: Any) -> None:
    family = unique("gone")
    for _ in range(2):
        ecs.register_task_definition(family=family, containerDefinitions=[CONTAINER])
    td = ecs.deregister_task_definition(taskDefinition=f"{family}:2")["taskDefinition"]
    assert td["status"] == "INACTIVE" and "deregisteredAt" in td
    out = ecs.delete_task_definitions(taskDefinitions=[f"{family}:2", f"{family}:1"])
    assert [t["status"] for t in out["taskDefinitions"]] == ["DELETE_IN_PROGRESS"]
    assert [f["arn"].rsplit("/", 1)[1] for f in out["failures"]] == [f"{family}:1"]
    again = ecs.register_task_definition(family=family, containerDefinitions=[CONTAINER])
    assert again["taskDefinition"]["revision"] == 3


def test_errors_reach_the_client_as_ecs_sends_them(ecs: Any) -> None:
    with pytest.raises(ClientError) as info:
        ecs.describe_task_definition(taskDefinition=unique("missing"))
    assert info.value.response["Error"]["Code"] == "ClientException"
    assert info.value.response["Error"]["Message"] == "Unable to describe task definition."

    with pytest.raises(ClientError) as info:
        ecs.register_task_definition(
            family=unique("bad"),
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="4096",
            containerDefinitions=[{"name": "app", "image": "busybox"}],
        )
    assert info.value.response["Error"]["Code"] == "ClientException"
    assert info.value.response["Error"]["Message"].startswith(
        "No Fargate configuration exists for given values: 256 CPU, 4096 memory."
    )


def test_register_from_a_json_file_with_the_cli(dockyard: DockyardProcess, tmp_path: Path) -> None:
    family = unique("cli")
    spec = tmp_path / "taskdef.json"
    spec.write_text(json.dumps({"family": family, "containerDefinitions": [CONTAINER]}))
    out = aws_json(
        dockyard.endpoint, "ecs", "register-task-definition", "--cli-input-json", f"file://{spec}"
    )
    assert out["taskDefinition"]["family"] == family
    described = aws_json(
        dockyard.endpoint, "ecs", "describe-task-definition", "--task-definition", family
    )
    assert described["taskDefinition"]["revision"] == 1
    failed = run_aws(
        dockyard.endpoint,
        "ecs",
        "describe-task-definition",
        "--task-definition",
        f"{family}:0",
        check=False,
    )
    assert failed.returncode != 0
    assert "Invalid revision number. Number: 0" in failed.stderr


def test_task_definitions_survive_a_restart(fresh_server: Any, tmp_path: Path) -> None:
    data = tmp_path / "restart"
    server = fresh_server("--no-local-agent", data_dir=data)
    client = make_client("ecs", server.endpoint)
    client.register_task_definition(family="keep", containerDefinitions=[CONTAINER])
    client.register_task_definition(family="keep", containerDefinitions=[CONTAINER])
    client.deregister_task_definition(taskDefinition="keep:2")
    server.stop()

    server = fresh_server("--no-local-agent", data_dir=data)
    client = make_client("ecs", server.endpoint)
    assert client.describe_task_definition(taskDefinition="keep")["taskDefinition"]["revision"] == 1
    inactive = client.describe_task_definition(taskDefinition="keep:2")["taskDefinition"]
    assert inactive["status"] == "INACTIVE"
    again = client.register_task_definition(family="keep", containerDefinitions=[CONTAINER])
    assert again["taskDefinition"]["revision"] == 3
