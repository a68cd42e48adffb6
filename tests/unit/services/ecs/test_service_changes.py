"""CreateService and UpdateService as typed domain calls, without the wire: what controllers
and CloudFormation resource handlers call."""

from __future__ import annotations

import pytest

from dockyard.core.scope import Scope
from dockyard.services.ecs.deployments import changes
from dockyard.services.ecs.deployments.changes import CreateServiceRequest, UpdateServiceRequest
from dockyard.services.ecs.errors import InvalidParameterException
from tests.unit.services.ecs.tasks_harness import ACCOUNT, REGION, Client, make_ecs

SCOPE = Scope(ACCOUNT, REGION)


def test_create_then_update_start_deployments_through_the_domain() -> None:
    ecs = make_ecs()
    client = Client(ecs)
    client("CreateCluster", clusterName="default")
    v1, v2 = client.taskdef("web"), client.taskdef("web")
    service = changes.create(
        ecs, SCOPE, CreateServiceRequest.of("web", v1, desiredCount=2, caller="ADMIN")
    )
    assert service.status == "ACTIVE" and service.desired_count == 2
    assert service.policy_key == "ADMIN"
    assert [d.task_definition_arn for d in service.deployments] == [v1]
    assert ecs.services.by_arn[service.arn] is service  # committed and in memory

    updated = changes.update(ecs, SCOPE, UpdateServiceRequest.of("web", taskDefinition=v2))
    assert updated.task_definition_arn == v2
    assert [d.status for d in updated.deployments] == ["PRIMARY", "ACTIVE"]
    # What the wire shows is the same service.
    described = client("DescribeServices", services=["web"])["services"][0]
    assert described["taskDefinition"] == v2 and len(described["deployments"]) == 2


def test_a_bad_request_changes_nothing() -> None:
    ecs = make_ecs()
    client = Client(ecs)
    client("CreateCluster", clusterName="default")
    v1 = client.taskdef("web")
    changes.create(ecs, SCOPE, CreateServiceRequest.of("web", v1, desiredCount=1))
    with pytest.raises(InvalidParameterException):
        changes.update(ecs, SCOPE, UpdateServiceRequest.of("web", desiredCount=-1))
    assert next(iter(ecs.services.by_arn.values())).desired_count == 1
