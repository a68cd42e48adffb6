"""ECS behind the ports other services use: running tasks for EventBridge targets, a
service's desired count for Application Auto Scaling, and task events for the bus."""

from __future__ import annotations

import logging
from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.scaling import Capacity
from dockyard.core.scope import Scope
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks import run as task_run
from dockyard.services.ecs.tasks.run import RunTaskRequest

log = logging.getLogger(__name__)

ECS_NAMESPACE = "ecs"
DESIRED_COUNT = "ecs:service:DesiredCount"


class EcsTaskLauncher:
    """EventBridge's ECS targets: the ECS domain's RunTask (validation, placement, failures),
    the same call the RunTask operation makes."""

    def __init__(self, ecs: Ecs) -> None:
        self.ecs = ecs

    def run_task(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        request = RunTaskRequest.from_params(params)
        result = task_run.run(self.ecs, Scope(account_id, region), request)
        return [t.arn for t in result.tasks], result.failures


class EcsScalableTargets:
    """`ecs:service:DesiredCount` of `service/<cluster>/<service>`."""

    def __init__(self, ecs: Ecs) -> None:
        self.ecs = ecs

    def _service(self, account_id: str, region: str, resource_id: str) -> Any:
        parts = resource_id.split("/")
        if len(parts) != 3 or parts[0] != "service":
            return None
        cluster, name = parts[1], parts[2]
        prefix = f"arn:aws:ecs:{region}:{account_id}:service/{cluster}/{name}"
        service = self.ecs.services.by_arn.get(prefix)
        if service is None or getattr(service, "status", "ACTIVE") != "ACTIVE":
            return None
        return service

    def capacity(
        self, account_id: str, region: str, namespace: str, resource_id: str, dimension: str
    ) -> Capacity | None:
        if (namespace, dimension) != (ECS_NAMESPACE, DESIRED_COUNT):
            return None
        service = self._service(account_id, region, resource_id)
        if service is None:
            return None
        return Capacity(desired=int(service.desired_count),
                        running=int(getattr(service, "running_count", 0)))  # fmt: skip

    def set_capacity(
        self, account_id: str, region: str, namespace: str, resource_id: str, dimension: str,
        desired: int,
    ) -> None:  # fmt: skip
        service = self._service(account_id, region, resource_id)
        if service is None:
            raise ValueError(f"No ECS service {resource_id} is active.")
        try:
            self.ecs.services.set_desired_count(service.arn, desired)
        except ServiceError as exc:
            raise ValueError(exc.message) from exc
