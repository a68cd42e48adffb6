"""Amazon ECS."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.ecs import (
    ops_attributes,
    ops_capacity,
    ops_clusters,
    ops_draining,
    ops_instances,
    ops_service_deployments,
    ops_services,
    ops_task_sets,
    ops_taskdefs,
    ops_tasks,
)
from dockyard.services.ecs.service import Ecs

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
    )
