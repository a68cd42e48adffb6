"""Cluster settings: bad settings are refused and leave the cluster as it was."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from tests.unit.services.ecs.tasks_harness import Client, make_ecs


@pytest.fixture
def client() -> Client:
    return Client(make_ecs())


def _settings(client: Client, name: str) -> list[dict[str, Any]]:
    out = client("DescribeClusters", clusters=[name], include=["SETTINGS"])
    settings: list[dict[str, Any]] = out["clusters"][0]["settings"]
    return settings


@pytest.mark.parametrize("operation", ["UpdateCluster", "UpdateClusterSettings"])
def test_a_setting_without_a_name_is_invalid_and_changes_nothing(
    client: Client, operation: str
) -> None:
    settings = [{"name": "containerInsights", "value": "enabled"}]
    client("CreateCluster", clusterName="c", settings=settings)
    with pytest.raises(ServiceError) as err:
        client(operation, cluster="c", settings=[{"value": "disabled"}])
    assert err.value.code == "InvalidParameterException"
    assert "settings.name" in err.value.message
    assert _settings(client, "c") == settings


def test_a_cluster_is_not_created_with_a_nameless_setting(client: Client) -> None:
    with pytest.raises(ServiceError) as err:
        client("CreateCluster", clusterName="c", settings=[{"value": "enabled"}])
    assert err.value.code == "InvalidParameterException"
    assert client("ListClusters")["clusterArns"] == []
