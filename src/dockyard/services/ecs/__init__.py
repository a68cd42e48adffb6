"""Amazon ECS."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.ecs import access
from dockyard.services.ecs.capacity import ops as ops_capacity
from dockyard.services.ecs.clusters import ops as ops_clusters
from dockyard.services.ecs.deployments import ops as ops_services
from dockyard.services.ecs.deployments import ops_deployments as ops_service_deployments
from dockyard.services.ecs.deployments import ops_task_sets
from dockyard.services.ecs.instances import ops as ops_instances
from dockyard.services.ecs.instances import ops_attributes, ops_draining
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.taskdefs import ops as ops_taskdefs
from dockyard.services.ecs.tasks import ops as ops_tasks

__all__ = ["Ecs", "provider"]


def provider(ecs: Ecs) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (
        ops_clusters,
        ops_capacity,
        ops_taskdefs,
        ops_instances,
        ops_tasks,
        ops_services,
        ops_service_deployments,
        ops_draining,
        ops_task_sets,
        ops_attributes,
    ):
        handlers.update(module.handlers(ecs))
    return Provider(
        service="ecs",
        handlers=handlers,
        validation_error_code="InvalidParameterException",
        reset=ecs.reset,
        access=access.access(ecs.tags_of),
    )
