"""Task sets as a domain: made, promoted to primary and deleted on a service. The task set
operations (EXTERNAL services) and CodeDeploy (CODE_DEPLOY services) both use these."""

from __future__ import annotations

from typing import Any

from dockyard.core.ids import arn
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.deployments.model import (
    EcsService,
    TaskSet,
    TaskSetStatus,
    new_numeric_id,
)


def new_task_set(
    service: EcsService,
    *,
    task_definition_arn: str,
    launch_type: str,
    load_balancers: list[dict[str, Any]],
    network_configuration: dict[str, Any] | None,
    platform_version: str | None,
    now: float,
    started_by: str | None = None,
    external_id: str | None = None,
    scale: float = 100.0,
    tags: dict[str, str] | None = None,
) -> TaskSet:
    """A task set added to `service`: PRIMARY when it is the first, else ACTIVE. The caller
    saves the service."""
    scope = service.scope
    ts_id = f"ecs-svc/{new_numeric_id()}"
    resource = f"task-set/{cluster_name(service.cluster_arn)}/{service.name}/{ts_id}"
    ts = TaskSet(
        id=ts_id,
        arn=arn("ecs", scope.region, scope.account_id, resource),
        task_definition_arn=task_definition_arn,
        launch_type=launch_type,
        created_at=now,
        updated_at=now,
        status="PRIMARY" if not service.task_sets else "ACTIVE",
        external_id=external_id,
        started_by=started_by,
        scale_value=scale,
        network_configuration=network_configuration,
        load_balancers=load_balancers,
        platform_version=platform_version,
        tags=dict(tags or {}),
        stability_status_at=now,
    )
    service.task_sets.append(ts)
    if ts.status == TaskSetStatus.PRIMARY:
        service.task_definition_arn = ts.task_definition_arn
    return ts


def find_task_set(service: EcsService, ref: str | None) -> TaskSet | None:
    for ts in service.task_sets:
        if ref in (ts.id, ts.arn):
            return ts
    return None


def make_primary(service: EcsService, ts: TaskSet, now: float) -> None:
    for other in service.task_sets:
        if other.status == TaskSetStatus.PRIMARY and other is not ts:
            other.status = TaskSetStatus.ACTIVE
            other.updated_at = now
    ts.status = TaskSetStatus.PRIMARY
    ts.updated_at = now
    service.task_definition_arn = ts.task_definition_arn


def delete_task_set(ts: TaskSet, now: float) -> None:
    """The task set drains: scaled to 0, removed once its tasks have stopped."""
    ts.status = TaskSetStatus.DRAINING
    ts.scale_value = 0.0
    ts.updated_at = now
