"""The deployment state machine: how a service deployment completes, fails, rolls back or is
stopped where it stands.

Every path goes through here: the rolling scheduler completing a deployment, the circuit
breaker, deployment alarms and StopServiceDeployment. The transitions (`complete`, `fail`,
`roll_back_to`, `stop`) change one deployment and return what they cause (deployment
events, service event messages); `finish` and `end` apply them to a service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dockyard.services.ecs.deployments.events import DeploymentEvent, emit_deployment
from dockyard.services.ecs.deployments.model import (
    Deployment,
    EcsService,
    RolloutState,
    ServiceDeploymentStatus,
)
from dockyard.services.ecs.errors import ConflictException
from dockyard.services.ecs.service import Ecs


class Cause(StrEnum):
    """Why a deployment ends before it completes."""

    CIRCUIT_BREAKER = "CIRCUIT_BREAKER"
    ALARM = "ALARM"
    USER_ROLLBACK = "USER_ROLLBACK"
    USER_ABORT = "USER_ABORT"


@dataclass(frozen=True, slots=True)
class Failure:
    cause: Cause
    reason: str  # the deployment's rolloutStateReason
    detail: str  # the service event: "... deployment failed: <detail>."
    roll_back: bool  # roll back to the last completed deployment, if there is one
    rollback_why: str  # the rollback deployment's reason


CIRCUIT_BREAKER = Failure(
    Cause.CIRCUIT_BREAKER,
    "ECS deployment circuit breaker: tasks failed to start.",
    "tasks failed to start",
    roll_back=False,
    rollback_why="ECS deployment circuit breaker",
)


def circuit_breaker(roll_back: bool) -> Failure:
    return Failure(
        CIRCUIT_BREAKER.cause, CIRCUIT_BREAKER.reason, CIRCUIT_BREAKER.detail, roll_back,
        CIRCUIT_BREAKER.rollback_why,
    )  # fmt: skip


def alarms(firing: tuple[str, ...], roll_back: bool) -> Failure:
    return Failure(
        Cause.ALARM,
        "ECS deployment failed: alarm(s) detected.",
        f"alarm(s) detected: {', '.join(firing)}",
        roll_back,
        "ECS deployment alarm",
    )


def user_stop(stop_type: str) -> Failure:
    """StopServiceDeployment: ROLLBACK (the default) or ABORT."""
    if stop_type == "ABORT":
        return Failure(
            Cause.USER_ABORT, "Service deployment stopped by a user request.",
            "stopped by a user request", False, "",
        )  # fmt: skip
    return Failure(
        Cause.USER_ROLLBACK, "Service deployment rolled back by a user request.",
        "rolled back by a user request", True, "Service deployment stopped by a user",
    )  # fmt: skip


@dataclass(slots=True)
class Effects:
    """What a transition caused, for `finish`/`end` to publish."""

    events: list[DeploymentEvent] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def _prefix(service: EcsService, d: Deployment) -> str:
    return f"(service {service.name}) (deployment {d.id})"


def can_fail(d: Deployment, cause: Cause) -> bool:
    """A deployment fails while it is in progress; alarms may also fail it in its bake time
    after it completed."""
    if d.rollout_state == RolloutState.IN_PROGRESS:
        return True
    return d.rollout_state == RolloutState.COMPLETED and cause == Cause.ALARM


def complete(service: EcsService, d: Deployment, now: float) -> Effects:
    """IN_PROGRESS -> COMPLETED (SUCCESSFUL); a rollback completing makes the deployment it
    rolled back ROLLBACK_SUCCESSFUL. Anything else: no change."""
    if d.rollout_state != RolloutState.IN_PROGRESS:
        return Effects()
    d.rollout_state = RolloutState.COMPLETED
    d.rollout_state_reason = f"ECS deployment {d.id} completed."
    d.sd_status = ServiceDeploymentStatus.SUCCESSFUL
    d.finished_at = now
    d.updated_at = now
    if d.rollback_of:
        failed = service.deployment(d.rollback_of)
        if failed is not None:
            failed.sd_status = ServiceDeploymentStatus.ROLLBACK_SUCCESSFUL
            failed.finished_at = now
    return Effects(
        [DeploymentEvent.SERVICE_DEPLOYMENT_COMPLETED],
        [f"{_prefix(service, d)} deployment completed."],
    )


def fail(service: EcsService, d: Deployment, failure: Failure, now: float) -> Effects:
    """IN_PROGRESS (or COMPLETED, for alarms) -> FAILED. Anything else: no change."""
    if not can_fail(d, failure.cause):
        return Effects()
    d.rollout_state = RolloutState.FAILED
    d.rollout_state_reason = failure.reason
    d.updated_at = now
    return Effects(
        [DeploymentEvent.SERVICE_DEPLOYMENT_FAILED],
        [f"{_prefix(service, d)} deployment failed: {failure.detail}."],
    )


def stop(d: Deployment, reason: str, now: float) -> None:
    """The failed deployment stays where it stands (no rollback): STOPPED."""
    d.sd_status = ServiceDeploymentStatus.STOPPED
    d.sd_status_reason = reason
    d.stopped_at = now


def roll_back_to(service: EcsService, failed: Deployment, back_to: Deployment, why: str,
                 now: float) -> Effects:  # fmt: skip
    """The failed deployment is being rolled back to `back_to`'s revision."""
    failed.rollback = {
        "reason": why,
        "startedAt": now,
        "serviceRevisionArn": back_to.revision_arn,
    }
    failed.sd_status = ServiceDeploymentStatus.ROLLBACK_IN_PROGRESS
    failed.sd_status_reason = why
    failed.stopped_at = None
    return Effects(messages=[f"(service {service.name}) rolling back to deployment {back_to.id}."])


def _publish(ecs: Ecs, service: EcsService, d: Deployment, effects: Effects, now: float) -> None:
    for name in effects.events:
        emit_deployment(ecs.events, service, d, name, now)
    for message in effects.messages:
        service.add_event(message, now)


def finish(ecs: Ecs, service: EcsService, d: Deployment, now: float) -> None:
    """The scheduler saw the deployment's tasks all healthy: it completes."""
    _publish(ecs, service, d, complete(service, d, now), now)


def end(
    ecs: Ecs, service: EcsService, d: Deployment, failure: Failure, now: float
) -> Deployment | None:
    """The one way a deployment ends early (circuit breaker, alarms, a user's stop): it fails,
    then rolls back to the last completed deployment when asked and there is one, else stops
    where it stands. Returns the rollback deployment, if one was started. The caller saves."""
    back_to = ecs.services.last_completed(service, exclude=d.id) if failure.roll_back else None
    if failure.cause == Cause.USER_ROLLBACK and back_to is None:
        raise ConflictException(
            "The service has no completed deployment to roll back to (stopType: ROLLBACK)."
        )
    effects = fail(service, d, failure, now)
    if not effects.events:
        return None
    _publish(ecs, service, d, effects, now)
    if back_to is None:
        stop(d, failure.reason, now)
        return None
    _publish(ecs, service, d, roll_back_to(service, d, back_to, failure.rollback_why, now), now)
    service.task_definition_arn = back_to.task_definition_arn
    service.network_configuration = back_to.network_configuration
    service.load_balancers = list(back_to.load_balancers)
    new = ecs.services.new_deployment(
        service,
        task_definition_arn=back_to.task_definition_arn,
        reason=f"{failure.rollback_why}: rolling back to deploymentId {back_to.id}.",
    )
    new.rollback_of = d.id
    return new
