"""StopServiceDeployment: ROLLBACK to the last completed deployment, or ABORT in place."""

from __future__ import annotations

from dockyard.services.ecs.deployments import rollout
from dockyard.services.ecs.deployments.model import Deployment, EcsService
from dockyard.services.ecs.service import Ecs


def stop_deployment(ecs: Ecs, service: EcsService, deployment: Deployment, stop_type: str) -> None:
    rollout.end(ecs, service, deployment, rollout.user_stop(stop_type), ecs.clock.now())
    ecs.services.save(service)
