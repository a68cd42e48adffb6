"""What a service or task set may launch: the active service a call names, and the launch
settings checked against its cluster."""

from __future__ import annotations

from typing import Any

from dockyard.api.provider import Params
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.deployments.model import EcsService, ServiceStatus
from dockyard.services.ecs.errors import (
    ServiceNotActiveException,
    ServiceNotFoundException,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks import launch as task_launch


def active_service(ecs: Ecs, scope: Scope, cluster: Cluster, ref: str) -> EcsService:
    service = ecs.services.find(scope, cluster.arn, ref)
    if service is None:
        raise ServiceNotFoundException("Service not found.")
    if service.status != ServiceStatus.ACTIVE:
        raise ServiceNotActiveException("Service was not ACTIVE.")
    return service


def check_launch(
    ecs: Ecs,
    scope: Scope,
    cluster: Cluster,
    taskdef_ref: str,
    p: Params,
    launch_type: str,
    policy_key: str | None,
) -> dict[str, Any]:
    """The task definition, checked as RunTask would check it for this service's tasks, under
    the task policy of `policy_key` (the caller's access key, or the one the service keeps)."""
    taskdef = ecs.taskdefs.resolve(scope, taskdef_ref, launchable=True)
    params = {
        "networkConfiguration": p.get("networkConfiguration"),
        "placementConstraints": p.get("placementConstraints"),
    }
    policy = ecs.task_policies.for_key(policy_key)
    task_launch.prepare(scope, cluster, taskdef, params, launch_type=launch_type, policy=policy)
    return taskdef
