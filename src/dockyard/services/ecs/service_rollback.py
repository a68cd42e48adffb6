"""Ending a deployment early: rolling back to the last completed one (the circuit breaker,
StopServiceDeployment ROLLBACK) or stopping where it stands (ABORT)."""

from __future__ import annotations

from dockyard.services.ecs.errors import ConflictException
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.services import (
    Deployment,
    EcsService,
    RolloutState,
    ServiceDeploymentStatus,
)


def roll_back(
    ecs: Ecs, service: EcsService, failed: Deployment, back_to: Deployment, why: str, now: float
) -> Deployment:
    """A new PRIMARY deployment of `back_to`'s revision, replacing `failed`."""
    failed.rollback = {
        "reason": why,
        "startedAt": now,
        "serviceRevisionArn": back_to.revision_arn,
    }
    service.task_definition_arn = back_to.task_definition_arn
    service.network_configuration = back_to.network_configuration
    service.load_balancers = list(back_to.load_balancers)
    new = ecs.services.new_deployment(
        service,
        task_definition_arn=back_to.task_definition_arn,
        reason=f"{why}: rolling back to deploymentId {back_to.id}.",
    )
    new.rollback_of = failed.id
    failed.sd_status = ServiceDeploymentStatus.ROLLBACK_IN_PROGRESS
    failed.sd_status_reason = why
    failed.stopped_at = None
    service.add_event(f"(service {service.name}) rolling back to deployment {back_to.id}.", now)
    return new


def stop_deployment(ecs: Ecs, service: EcsService, deployment: Deployment, stop_type: str) -> None:
    """StopServiceDeployment: ROLLBACK to the last completed deployment, or ABORT in place."""
    now = ecs.clock.now()
    if stop_type == "ROLLBACK":
        back_to = ecs.services.last_completed(service, exclude=deployment.id)
        if back_to is None:
            raise ConflictException(
                "The service has no completed deployment to roll back to (stopType: ROLLBACK)."
            )
        deployment.rollout_state = RolloutState.FAILED
        deployment.rollout_state_reason = "Service deployment rolled back by a user request."
        deployment.updated_at = now
        roll_back(ecs, service, deployment, back_to, "Service deployment stopped by a user", now)
    else:
        deployment.rollout_state = RolloutState.FAILED
        deployment.rollout_state_reason = "Service deployment stopped by a user request."
        deployment.sd_status = ServiceDeploymentStatus.STOPPED
        deployment.sd_status_reason = deployment.rollout_state_reason
        deployment.stopped_at = now
        deployment.updated_at = now
    ecs.services.save(service)
