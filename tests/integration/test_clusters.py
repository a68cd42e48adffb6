"""ECS clusters through real clients: boto3 and the AWS CLI against a real server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.server import DockyardProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_describe_list_cluster_with_boto3(ecs: Any) -> None:
    name = unique("c")
    created = ecs.create_cluster(
        clusterName=name,
        tags=[{"key": "team", "value": "blue"}],
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )["cluster"]
    assert created["clusterName"] == name
    assert created["status"] == "ACTIVE"
    assert created["clusterArn"] == f"arn:aws:ecs:us-east-1:000000000000:cluster/{name}"
    assert created["runningTasksCount"] == 0

    described = ecs.describe_clusters(clusters=[name], include=["TAGS", "SETTINGS"])
    assert described["failures"] == []
    cluster = described["clusters"][0]
    assert cluster["tags"] == [{"key": "team", "value": "blue"}]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]

    without_tags = ecs.describe_clusters(clusters=[created["clusterArn"]])["clusters"][0]
    assert "tags" not in without_tags

    assert created["clusterArn"] in ecs.list_clusters()["clusterArns"]


def test_describe_missing_cluster_is_a_failure_not_an_error(ecs: Any) -> None:
    out = ecs.describe_clusters(clusters=["no-such-cluster"])
    assert out["clusters"] == []
    assert out["failures"] == [
        {
            "arn": "arn:aws:ecs:us-east-1:000000000000:cluster/no-such-cluster",
            "reason": "MISSING",
        }
    ]


def test_list_clusters_paginates(dockyard: DockyardProcess) -> None:
    # An account of its own (a 12-digit access key is the account id), so counts are exact.
    client = make_client("ecs", dockyard.endpoint, access_key="123456789012")
    names = [unique("page") for _ in range(7)]
    for name in names:
        client.create_cluster(clusterName=name)
    arns: list[str] = []
    for page in client.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 3}):
        assert len(page["clusterArns"]) <= 3
        arns.extend(page["clusterArns"])
    assert sorted(arns) == sorted(f"arn:aws:ecs:us-east-1:123456789012:cluster/{n}" for n in names)


def test_update_cluster_settings_and_tags(ecs: Any) -> None:
    name = unique("u")
    arn = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    out = ecs.update_cluster_settings(
        cluster=name, settings=[{"name": "containerInsights", "value": "disabled"}]
    )
    assert out["cluster"]["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    logging_cfg = {"executeCommandConfiguration": {"logging": "DEFAULT"}}
    updated = ecs.update_cluster(cluster=name, configuration=logging_cfg)["cluster"]
    assert updated["configuration"] == logging_cfg


def test_delete_cluster_then_it_is_inactive(ecs: Any) -> None:
    name = unique("d")
    ecs.create_cluster(clusterName=name)
    deleted = ecs.delete_cluster(cluster=name)["cluster"]
    assert deleted["status"] == "INACTIVE"
    assert ecs.describe_clusters(clusters=[name])["clusters"][0]["status"] == "INACTIVE"
    assert deleted["clusterArn"] not in ecs.list_clusters()["clusterArns"]
    with pytest.raises(ClientError) as err:
        ecs.delete_cluster(cluster=name)
    assert err.value.response["Error"]["Code"] == "ClusterNotFoundException"


def test_bad_cluster_input_gets_aws_errors(ecs: Any) -> None:
    with pytest.raises(ClientError) as err:
        ecs.create_cluster(clusterName="bad name!")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "clusterName" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        ecs.tag_resource(resourceArn="arn:aws:ecs:us-east-1:000000000000:cluster/nope", tags=[])
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_aws_cli_create_and_list(dockyard: DockyardProcess) -> None:
    name = unique("cli")
    created = aws_json(dockyard.endpoint, "ecs", "create-cluster", "--cluster-name", name)
    assert created["cluster"]["clusterName"] == name
    listed = aws_json(dockyard.endpoint, "ecs", "list-clusters")
    assert created["cluster"]["clusterArn"] in listed["clusterArns"]
    failed = run_aws(dockyard.endpoint, "ecs", "delete-cluster", "--cluster", "nope", check=False)
    assert failed.returncode != 0
    assert "ClusterNotFoundException" in failed.stderr


def test_cluster_survives_kill_9(fresh_server: Any, tmp_path: Any) -> None:
    server = fresh_server("--no-local-agent")
    aws_json(
        server.endpoint, "ecs", "create-cluster", "--cluster-name", "demo",
        "--tags", "key=env,value=test",
    )  # fmt: skip
    server.kill()  # SIGKILL: no chance to flush anything
    again = fresh_server("--no-local-agent", data_dir=server.data_dir)
    out = aws_json(
        again.endpoint, "ecs", "describe-clusters", "--clusters", "demo", "--include", "TAGS"
    )
    assert out["clusters"][0]["status"] == "ACTIVE"
    assert out["clusters"][0]["tags"] == [{"key": "env", "value": "test"}]


def test_accounts_are_separate(dockyard: DockyardProcess) -> None:
    a = make_client("ecs", dockyard.endpoint, access_key="111111111111")
    b = make_client("ecs", dockyard.endpoint, access_key="222222222222")
    name = unique("acct")
    arn = a.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    assert arn.startswith("arn:aws:ecs:us-east-1:111111111111:")
    assert arn not in b.list_clusters()["clusterArns"]
    assert b.describe_clusters(clusters=[name])["failures"][0]["reason"] == "MISSING"
    west = make_client("ecs", dockyard.endpoint, access_key="111111111111", region="eu-west-1")
    assert arn not in west.list_clusters()["clusterArns"]


def test_health_and_reset(fresh_server: Any) -> None:
    server = fresh_server("--no-local-agent")
    health = server.health()
    assert health["status"] == "running"
    assert "ecs" in health["services"]
    client = make_client("ecs", server.endpoint)
    client.create_cluster(clusterName="gone-after-reset")
    server.reset()
    assert client.list_clusters()["clusterArns"] == []
