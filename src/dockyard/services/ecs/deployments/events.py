"""Service events for the event bus: `ECS Service Action` (steady state, placement failures,
tasks that keep failing to start, a desired count the scheduler changed) and `ECS Deployment
State Change` (a deployment in progress, completed or failed), shaped as ECS sends them to
EventBridge."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dockyard.core import timefmt
from dockyard.core.ids import new_uuid
from dockyard.services.ecs.deployments.model import Deployment, EcsService
from dockyard.services.ecs.events import Event, EventLog

SERVICE_ACTION = "ECS Service Action"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"


class EventType(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class ServiceAction(StrEnum):
    SERVICE_STEADY_STATE = "SERVICE_STEADY_STATE"
    SERVICE_DESIRED_COUNT_UPDATED = "SERVICE_DESIRED_COUNT_UPDATED"
    SERVICE_TASK_START_IMPAIRED = "SERVICE_TASK_START_IMPAIRED"
    SERVICE_TASK_PLACEMENT_FAILURE = "SERVICE_TASK_PLACEMENT_FAILURE"


class DeploymentEvent(StrEnum):
    SERVICE_DEPLOYMENT_IN_PROGRESS = "SERVICE_DEPLOYMENT_IN_PROGRESS"
    SERVICE_DEPLOYMENT_COMPLETED = "SERVICE_DEPLOYMENT_COMPLETED"
    SERVICE_DEPLOYMENT_FAILED = "SERVICE_DEPLOYMENT_FAILED"


ACTION_TYPES = {
    ServiceAction.SERVICE_STEADY_STATE: EventType.INFO,
    ServiceAction.SERVICE_DESIRED_COUNT_UPDATED: EventType.INFO,
    ServiceAction.SERVICE_TASK_START_IMPAIRED: EventType.WARN,
    ServiceAction.SERVICE_TASK_PLACEMENT_FAILURE: EventType.ERROR,
}


def _iso(seconds: float, millis: bool = True) -> str:
    return timefmt.iso(seconds, "ms" if millis else "s")


def _event(detail_type: str, service: EcsService, detail: dict[str, Any], now: float) -> Event:
    return {
        "version": "0",
        "id": new_uuid(),
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": service.scope.account_id,
        "time": _iso(now, millis=False),
        "region": service.scope.region,
        "resources": [service.arn],
        "detail": detail,
    }


def service_action(service: EcsService, name: ServiceAction, now: float, **extra: Any) -> Event:
    """An `ECS Service Action` event; `extra` adds fields such as `reasons`."""
    detail: dict[str, Any] = {
        "eventType": str(ACTION_TYPES[name]),
        "eventName": str(name),
        "clusterArn": service.cluster_arn,
        **extra,
        "createdAt": _iso(now),
    }
    return _event(SERVICE_ACTION, service, detail, now)


def deployment_change(
    service: EcsService, deployment: Deployment, name: DeploymentEvent, now: float
) -> Event:
    """An `ECS Deployment State Change` event; its reason is the deployment's rollout reason."""
    failed = name == DeploymentEvent.SERVICE_DEPLOYMENT_FAILED
    detail = {
        "eventType": str(EventType.ERROR if failed else EventType.INFO),
        "eventName": str(name),
        "deploymentId": deployment.id,
        "updatedAt": _iso(now),
        "reason": deployment.rollout_state_reason,
    }
    return _event(DEPLOYMENT_STATE_CHANGE, service, detail, now)


def emit_action(
    events: EventLog | None, service: EcsService, name: ServiceAction, now: float, **extra: Any
) -> None:
    if events is not None:
        events.append(service_action(service, name, now, **extra))


def emit_deployment(
    events: EventLog | None,
    service: EcsService,
    deployment: Deployment,
    name: DeploymentEvent,
    now: float,
) -> None:
    if events is not None:
        events.append(deployment_change(service, deployment, name, now))
