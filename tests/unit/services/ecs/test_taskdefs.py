"""Task definitions through the ECS handlers: registering, reading, listing, retiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from dockyard.api.context import RequestContext
from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ecs import Ecs, provider
from dockyard.store.sqlite import SqliteStore

ACCOUNT, REGION = "123456789012", "us-east-1"
SCOPE = Scope(ACCOUNT, REGION)
ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition"


class Client:
    """Calls the ECS handlers the way the front door does."""

    def __init__(self, ecs: Ecs, account: str = ACCOUNT, region: str = REGION) -> None:
        self.ecs = ecs
        self.handlers = provider(ecs).handlers
        self.account, self.region = account, region

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext("ecs", operation, self.account, self.region, "req-1")
        result = self.handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result

    def register(self, family: str = "web", **params: Any) -> dict[str, Any]:
        params.setdefault(
            "containerDefinitions", [{"name": "app", "image": "busybox", "memory": 64}]
        )
        td: dict[str, Any] = self("RegisterTaskDefinition", family=family, **params)[
            "taskDefinition"
        ]
        return td


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def ecs(clock: ManualClock) -> Ecs:
    ecs = Ecs(SqliteStore(":memory:"), clock)
    ecs.load()
    return ecs


@pytest.fixture
def client(ecs: Ecs) -> Client:
    return Client(ecs)


def error(call: Any, *args: Any, **kwargs: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(*args, **kwargs)
    return info.value


# -- register / describe ----------------------------------------------------------------


def test_register_returns_the_document_with_ecs_defaults(client: Client) -> None:
    td = client.register(
        "web",
        containerDefinitions=[
            {
                "name": "app",
                "image": "nginx",
                "memory": 128,
                "portMappings": [{"containerPort": 80}],
                "healthCheck": {"command": ["CMD-SHELL", "true"]},
            }
        ],
    )
    assert td["taskDefinitionArn"] == f"{ARN}/web:1"
    assert td["family"] == "web"
    assert td["revision"] == 1
    assert td["status"] == "ACTIVE"
    assert td["registeredAt"] == 1_700_000_000.0
    assert td["registeredBy"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert td["volumes"] == [] and td["placementConstraints"] == []
    assert "networkMode" not in td  # ECS does not echo the default (bridge)
    assert td["compatibilities"] == ["EXTERNAL", "EC2"]
    [c] = td["containerDefinitions"]
    assert c["essential"] is True
    assert c["cpu"] == 0
    assert c["environment"] == [] and c["mountPoints"] == [] and c["volumesFrom"] == []
    assert c["portMappings"] == [{"containerPort": 80, "protocol": "tcp"}]  # dynamic host port
    assert c["healthCheck"] == {
        "command": ["CMD-SHELL", "true"],
        "interval": 30,
        "timeout": 5,
        "retries": 3,
    }
    assert {"name": "ecs.capability.container-health-check"} in td["requiresAttributes"]


def test_fargate_definition_normalizes_cpu_memory_and_host_ports(client: Client) -> None:
    td = client.register(
        "api",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="0.5 vCPU",
        memory="1 GB",
        containerDefinitions=[
            {"name": "app", "image": "nginx", "portMappings": [{"containerPort": 8080}]}
        ],
    )
    assert (td["cpu"], td["memory"]) == ("512", "1024")
    assert td["networkMode"] == "awsvpc"
    assert td["compatibilities"] == ["EC2", "FARGATE"]
    assert td["requiresCompatibilities"] == ["FARGATE"]
    assert td["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}
    ]
    names = [a["name"] for a in td["requiresAttributes"]]
    assert "ecs.capability.task-eni" in names


def test_ec2_definition_that_fits_fargate_lists_fargate_compatibility(client: Client) -> None:
    td = client.register("fits", networkMode="awsvpc", cpu="256", memory="512")
    assert td["compatibilities"] == ["EC2", "FARGATE"]
    td = client.register("nofit", networkMode="awsvpc", cpu="256", memory="4096")
    assert td["compatibilities"] == ["EC2"]


def test_describe_by_family_revision_and_arn_with_tags(client: Client) -> None:
    client.register("web", tags=[{"key": "team", "value": "blue"}])
    client.register("web")
    latest = client("DescribeTaskDefinition", taskDefinition="web")
    assert latest["taskDefinition"]["revision"] == 2
    assert "tags" not in latest
    first = client("DescribeTaskDefinition", taskDefinition="web:1", include=["TAGS"])
    assert first["tags"] == [{"key": "team", "value": "blue"}]
    by_arn = client("DescribeTaskDefinition", taskDefinition=f"{ARN}/web:1")
    assert by_arn["taskDefinition"] == first["taskDefinition"]


@pytest.mark.parametrize(
    "ref", ["nope", "web:9", f"{ARN}/web:9", "arn:aws:ecs:eu-west-1:1:task-definition/web:1"]
)
def test_describe_unknown_is_a_client_exception(client: Client, ref: str) -> None:
    client.register("web")
    err = error(client, "DescribeTaskDefinition", taskDefinition=ref)
    assert (err.code, err.message) == ("ClientException", "Unable to describe task definition.")


def test_describe_with_a_bad_revision_number(client: Client) -> None:
    err = error(client, "DescribeTaskDefinition", taskDefinition="web:0")
    assert (err.code, err.message) == ("ClientException", "Invalid revision number. Number: 0")


def test_other_accounts_do_not_see_task_definitions(ecs: Ecs, client: Client) -> None:
    client.register("web")
    other = Client(ecs, account="999999999999")
    assert other("ListTaskDefinitions")["taskDefinitionArns"] == []
    err = error(other, "DescribeTaskDefinition", taskDefinition="web")
    assert err.code == "ClientException"
    assert other.register("web")["revision"] == 1


# -- revisions, deregister, delete ------------------------------------------------------


def test_revisions_keep_increasing_after_deregister_and_delete(client: Client) -> None:
    for _ in range(3):
        client.register("web")
    client("DeregisterTaskDefinition", taskDefinition="web:3")
    client("DeleteTaskDefinitions", taskDefinitions=["web:3"])
    assert client.register("web")["revision"] == 4
    assert client("DescribeTaskDefinition", taskDefinition="web")["taskDefinition"]["revision"] == 4


def test_deregister_makes_a_revision_inactive(client: Client, clock: ManualClock) -> None:
    client.register("web")
    client.register("web")
    clock.advance(60)
    td = client("DeregisterTaskDefinition", taskDefinition="web:2")["taskDefinition"]
    assert td["status"] == "INACTIVE"
    assert td["deregisteredAt"] == 1_700_000_060.0
    # The family now resolves to the latest ACTIVE revision; the inactive one stays readable.
    assert client("DescribeTaskDefinition", taskDefinition="web")["taskDefinition"]["revision"] == 1
    again = client("DescribeTaskDefinition", taskDefinition="web:2")["taskDefinition"]
    assert again["status"] == "INACTIVE"


def test_deregister_needs_a_revision_and_an_existing_one(client: Client) -> None:
    client.register("web")
    err = error(client, "DeregisterTaskDefinition", taskDefinition="web")
    assert err.code == "ClientException" and "taskDefinition: web" in err.message
    err = error(client, "DeregisterTaskDefinition", taskDefinition="web:7")
    assert (err.code, err.message) == ("ClientException", "Unable to describe task definition.")


def test_delete_only_inactive_revisions(client: Client, clock: ManualClock) -> None:
    client.register("web")
    client.register("web")
    client("DeregisterTaskDefinition", taskDefinition="web:1")
    clock.advance(5)
    out = client("DeleteTaskDefinitions", taskDefinitions=["web:1", "web:2", "web:9"])
    [deleted] = out["taskDefinitions"]
    assert deleted["taskDefinitionArn"] == f"{ARN}/web:1"
    assert deleted["status"] == "DELETE_IN_PROGRESS"
    assert deleted["deleteRequestedAt"] == 1_700_000_005.0
    failures = {f["arn"]: f["reason"] for f in out["failures"]}
    assert set(failures) == {f"{ARN}/web:2", f"{ARN}/web:9"}
    assert "ACTIVE" in failures[f"{ARN}/web:2"]
    assert "does not exist" in failures[f"{ARN}/web:9"]
    # Still readable while the deletion is in progress.
    td = client("DescribeTaskDefinition", taskDefinition="web:1")["taskDefinition"]
    assert td["status"] == "DELETE_IN_PROGRESS"


def test_delete_limits(client: Client) -> None:
    err = error(client, "DeleteTaskDefinitions", taskDefinitions=[f"web:{i}" for i in range(1, 12)])
    assert err.code == "InvalidParameterException"
    err = error(client, "DeleteTaskDefinitions", taskDefinitions=["web"])
    assert err.code == "ClientException" and "revision" in err.message


# -- listing ----------------------------------------------------------------------------


def _arns(client: Client, **params: Any) -> list[str]:
    return [
        a.rsplit("/", 1)[1] for a in client("ListTaskDefinitions", **params)["taskDefinitionArns"]
    ]


def test_list_sorts_by_family_then_revision(client: Client) -> None:
    for family in ("web", "api", "web", "web-x", "api"):
        client.register(family)
    assert _arns(client) == ["api:1", "api:2", "web:1", "web:2", "web-x:1"]
    assert _arns(client, sort="DESC") == ["web-x:1", "web:2", "web:1", "api:2", "api:1"]
    assert _arns(client, familyPrefix="web") == ["web:1", "web:2", "web-x:1"]


def test_list_filters_by_status(client: Client) -> None:
    for _ in range(3):
        client.register("web")
    client("DeregisterTaskDefinition", taskDefinition="web:1")
    client("DeregisterTaskDefinition", taskDefinition="web:2")
    client("DeleteTaskDefinitions", taskDefinitions=["web:2"])
    assert _arns(client) == ["web:3"]
    assert _arns(client, status="INACTIVE") == ["web:1"]
    assert _arns(client, status="DELETE_IN_PROGRESS") == ["web:2"]


@pytest.mark.parametrize("sort", ["ASC", "DESC"])
def test_list_pages_through_everything(client: Client, sort: str) -> None:
    for i in range(12):
        client.register(f"f{i % 3}")
    expected = _arns(client, sort=sort)
    seen: list[str] = []
    params: dict[str, Any] = {"sort": sort, "maxResults": 5}
    while True:
        out = client("ListTaskDefinitions", **params)
        seen += [a.rsplit("/", 1)[1] for a in out["taskDefinitionArns"]]
        if "nextToken" not in out:
            break
        params["nextToken"] = out["nextToken"]
    assert seen == expected and len(seen) == 12


def test_list_rejects_bad_paging(client: Client) -> None:
    err = error(client, "ListTaskDefinitions", maxResults=101)
    assert err.code == "InvalidParameterException" and "maxResults" in err.message
    err = error(client, "ListTaskDefinitions", nextToken="garbage!")
    assert err.code == "InvalidParameterException" and "nextToken" in err.message


def test_list_families_by_status_with_paging(client: Client) -> None:
    for family in ("web", "api", "db", "cache"):
        client.register(family)
    client("DeregisterTaskDefinition", taskDefinition="db:1")
    client("DeregisterTaskDefinition", taskDefinition="cache:1")
    client("DeleteTaskDefinitions", taskDefinitions=["cache:1"])

    def families(**params: Any) -> list[str]:
        return list(client("ListTaskDefinitionFamilies", **params)["families"])

    assert families() == ["api", "cache", "db", "web"]
    assert families(status="ALL") == ["api", "cache", "db", "web"]
    assert families(status="ACTIVE") == ["api", "web"]
    assert families(status="INACTIVE") == ["cache", "db"]
    assert families(familyPrefix="d") == ["db"]
    page1 = client("ListTaskDefinitionFamilies", maxResults=3)
    assert page1["families"] == ["api", "cache", "db"]
    page2 = client("ListTaskDefinitionFamilies", maxResults=3, nextToken=page1["nextToken"])
    assert page2 == {"families": ["web"]}


# -- tags -------------------------------------------------------------------------------


def test_tag_resource_works_on_task_definitions(client: Client) -> None:
    arn = client.register("web")["taskDefinitionArn"]
    client("TagResource", resourceArn=arn, tags=[{"key": "env", "value": "dev"}])
    out = client("DescribeTaskDefinition", taskDefinition="web:1", include=["TAGS"])
    assert out["tags"] == [{"key": "env", "value": "dev"}]
    client("UntagResource", resourceArn=arn, tagKeys=["env"])
    assert client("ListTagsForResource", resourceArn=arn)["tags"] == []


# -- the Python interface and durability --------------------------------------------------


def test_resolve_for_other_domains(ecs: Ecs, client: Client) -> None:
    client.register("web")
    client.register("web")
    client("DeregisterTaskDefinition", taskDefinition="web:2")
    assert ecs.taskdefs.resolve(SCOPE, "web")["revision"] == 1
    assert ecs.taskdefs.resolve(SCOPE, f"{ARN}/web:2")["status"] == "INACTIVE"
    err = error(ecs.taskdefs.resolve, SCOPE, "web:2", launchable=True)
    assert (err.code, err.message) == ("InvalidParameterException", "TaskDefinition is inactive")
    err = error(ecs.taskdefs.resolve, SCOPE, "missing")
    assert (err.code, err.message) == ("ClientException", "Unable to describe task definition.")
    # A copy: changing it does not change the task definition.
    doc = ecs.taskdefs.resolve(SCOPE, "web:1")
    doc["containerDefinitions"].clear()
    assert ecs.taskdefs.resolve(SCOPE, "web:1")["containerDefinitions"]


def test_reload_from_the_store(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "state.db"
    first = Ecs(SqliteStore(path), clock)
    first.load()
    client = Client(first)
    client.register("web", tags=[{"key": "a", "value": "1"}])
    client.register("web")
    client("DeregisterTaskDefinition", taskDefinition="web:2")
    client("DeleteTaskDefinitions", taskDefinitions=["web:2"])
    before = client("DescribeTaskDefinition", taskDefinition="web:2", include=["TAGS"])

    second = Ecs(SqliteStore(path), clock)
    second.load()
    again = Client(second)
    assert again("DescribeTaskDefinition", taskDefinition="web:2", include=["TAGS"]) == before
    tagged = again("DescribeTaskDefinition", taskDefinition="web:1", include=["TAGS"])
    assert tagged["tags"] == [{"key": "a", "value": "1"}]
    assert again.register("web")["revision"] == 3


# -- the output fits botocore's model -----------------------------------------------------


def test_outputs_fit_the_botocore_output_shapes(client: Client) -> None:
    model = botocore.session.get_session().get_service_model("ecs")

    def fits(operation: str, output: dict[str, Any]) -> None:
        shape = model.operation_model(operation).output_shape
        report = ParamValidator().validate(output, shape)
        assert not report.has_errors(), report.generate_report()

    request: dict[str, Any] = {
        "family": "full",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/exec",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "1 vCPU",
        "memory": "2 GB",
        "volumes": [{"name": "data"}],
        "tags": [{"key": "k", "value": "v"}],
        "containerDefinitions": [
            {
                "name": "app",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1",
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": "A", "value": "1"}],
                "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],
                "healthCheck": {"command": ["CMD", "true"], "startPeriod": 10},
                "dependsOn": [{"containerName": "sidecar", "condition": "HEALTHY"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
                "secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/p"}],
                "memoryReservation": 256,
                "stopTimeout": 10,
            },
            {
                "name": "sidecar",
                "image": "busybox",
                "essential": False,
                "healthCheck": {"command": ["CMD-SHELL", "true"]},
            },
        ],
    }
    registered = client("RegisterTaskDefinition", **request)
    fits("RegisterTaskDefinition", registered)
    attributes = {a["name"] for a in registered["taskDefinition"]["requiresAttributes"]}
    assert {
        "ecs.capability.task-eni",
        "com.amazonaws.ecs.capability.task-iam-role",
        "ecs.capability.execution-role-awslogs",
        "ecs.capability.execution-role-ecr-pull",
        "ecs.capability.container-ordering",
        "ecs.capability.secrets.ssm.environment-variables",
    } <= attributes
    fits(
        "DescribeTaskDefinition",
        client("DescribeTaskDefinition", taskDefinition="full", include=["TAGS"]),
    )
    fits("ListTaskDefinitions", client("ListTaskDefinitions", maxResults=1))
    fits("ListTaskDefinitionFamilies", client("ListTaskDefinitionFamilies"))
    fits("DeregisterTaskDefinition", client("DeregisterTaskDefinition", taskDefinition="full:1"))
    fits(
        "DeleteTaskDefinitions", client("DeleteTaskDefinitions", taskDefinitions=["full:1", "x:1"])
    )
