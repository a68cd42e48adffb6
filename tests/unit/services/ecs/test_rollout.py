"""The deployment state machine: every state of a deployment x every trigger that can end it,
with and without a completed deployment to roll back to."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.services.ecs.deployments import rollout
from dockyard.services.ecs.deployments.model import Deployment, EcsService
from dockyard.services.ecs.errors import ConflictException
from tests.unit.services.ecs.tasks_harness import Client, make_ecs

NOW = 1_700_000_100.0
IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"

TRIGGERS: dict[str, rollout.Failure | None] = {
    "complete": None,
    "circuit breaker": rollout.circuit_breaker(False),
    "circuit breaker, rollback": rollout.circuit_breaker(True),
    "alarm": rollout.alarms(("high-latency",), False),
    "alarm, rollback": rollout.alarms(("high-latency",), True),
    "user rollback": rollout.user_stop("ROLLBACK"),
    "user abort": rollout.user_stop("ABORT"),
}


def world(state: str, with_completed: bool) -> tuple[Any, EcsService, Deployment, str]:
    """A service whose PRIMARY deployment (the subject) is in `state`; with `with_completed`,
    an earlier deployment of another revision COMPLETED before it."""
    ecs = make_ecs()
    client = Client(ecs)
    client("CreateCluster", clusterName="default")
    v1, v2 = client.taskdef("v1"), client.taskdef("v2")
    client("CreateService", serviceName="web", taskDefinition=v1, desiredCount=1)
    service = next(iter(ecs.services.by_arn.values()))
    first = service.primary
    assert first is not None
    if with_completed:
        rollout.complete(service, first, NOW - 50)
    client("UpdateService", service="web", taskDefinition=v2)
    subject = service.primary
    assert subject is not None and subject.id != first.id
    if state == COMPLETED:
        rollout.complete(service, subject, NOW - 10)
    elif state == FAILED:
        rollout.fail(service, subject, rollout.circuit_breaker(False), NOW - 10)
    return ecs, service, subject, v1


def deployment_events(ecs: Any) -> list[str]:
    return [
        e["detail"]["eventName"]
        for e in ecs.events
        if e["detail-type"] == "ECS Deployment State Change"
    ]


def expected(state: str, trigger: str, with_completed: bool) -> tuple[str, str | None, str]:
    """(rolloutState after, the deployment event it causes, what becomes of the service):
    'rollback' (a new PRIMARY deployment of the completed revision), 'stays', or 'conflict'."""
    if trigger == "complete":
        if state == IN_PROGRESS:
            return COMPLETED, "SERVICE_DEPLOYMENT_COMPLETED", "stays"
        return state, None, "stays"
    if trigger == "user rollback" and not with_completed:
        return state, None, "conflict"
    can_fail = state == IN_PROGRESS or (state == COMPLETED and trigger.startswith("alarm"))
    if not can_fail:
        return state, None, "stays"
    rolls_back = with_completed and (trigger.endswith("rollback"))
    return FAILED, "SERVICE_DEPLOYMENT_FAILED", "rollback" if rolls_back else "stays"


@pytest.mark.parametrize("with_completed", [True, False], ids=["completed-before", "first"])
@pytest.mark.parametrize("trigger", list(TRIGGERS))
@pytest.mark.parametrize("state", [IN_PROGRESS, COMPLETED, FAILED])
def test_every_state_and_trigger(state: str, trigger: str, with_completed: bool) -> None:
    ecs, service, subject, v1 = world(state, with_completed)
    before_events = len(deployment_events(ecs))
    before_sd = subject.sd_status
    failure = TRIGGERS[trigger]
    rollout_state, event, outcome = expected(state, trigger, with_completed)

    if outcome == "conflict":
        assert failure is not None
        with pytest.raises(ConflictException):
            rollout.end(ecs, service, subject, failure, NOW)
    elif failure is None:
        rollout.finish(ecs, service, subject, NOW)
    else:
        new = rollout.end(ecs, service, subject, failure, NOW)
        assert (new is not None) == (outcome == "rollback")

    assert subject.rollout_state == rollout_state
    new_events = deployment_events(ecs)[before_events:]
    started = ["SERVICE_DEPLOYMENT_IN_PROGRESS"] if outcome == "rollback" else []  # the rollback
    assert new_events == ([event] if event else []) + started
    primary = service.primary
    assert primary is not None
    if outcome == "rollback":
        assert primary.id != subject.id
        assert primary.task_definition_arn == v1 == service.task_definition_arn
        assert primary.rollback_of == subject.id
        assert subject.sd_status == "ROLLBACK_IN_PROGRESS"
        assert subject.rollback is not None
        assert any("rolling back to deployment" in e.message for e in service.events)
    else:
        assert primary.id == subject.id
        if event == "SERVICE_DEPLOYMENT_FAILED":
            assert subject.sd_status == "STOPPED"
            assert subject.sd_status_reason == subject.rollout_state_reason
            assert subject.stopped_at == NOW
        elif event == "SERVICE_DEPLOYMENT_COMPLETED":
            assert subject.sd_status == "SUCCESSFUL"
        else:
            assert subject.sd_status == before_sd  # nothing changed
    if event == "SERVICE_DEPLOYMENT_FAILED":
        assert any("deployment failed" in e.message for e in service.events)


def test_a_completed_rollback_marks_the_failed_deployment_rolled_back() -> None:
    ecs, service, subject, _ = world(IN_PROGRESS, with_completed=True)
    new = rollout.end(ecs, service, subject, rollout.circuit_breaker(True), NOW)
    assert new is not None
    rollout.finish(ecs, service, new, NOW + 60)
    assert new.rollout_state == COMPLETED
    assert subject.sd_status == "ROLLBACK_SUCCESSFUL"
    assert deployment_events(ecs)[-3:] == [
        "SERVICE_DEPLOYMENT_FAILED",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "SERVICE_DEPLOYMENT_COMPLETED",
    ]
