"""Domain objects in CodeDeploy's output shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dockyard.core.ids import arn
from dockyard.core.paging import InvalidToken, page
from dockyard.services.codedeploy import errors as e
from dockyard.services.codedeploy.model import (
    Application,
    Deployment,
    DeploymentConfig,
    DeploymentGroup,
    TargetStatus,
)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def app_arn(app: Application) -> str:
    return arn("codedeploy", app.region, app.account_id, f"application:{app.name}")


def group_arn(group: DeploymentGroup) -> str:
    return arn("codedeploy", group.region, group.account_id,
               f"deploymentgroup:{group.application_name}/{group.name}")  # fmt: skip


def application_to_wire(app: Application) -> dict[str, Any]:
    return {
        "applicationId": app.id,
        "applicationName": app.name,
        "createTime": app.created,
        "linkedToGitHub": False,
        "computePlatform": app.compute_platform,
    }


def config_to_wire(config: DeploymentConfig) -> dict[str, Any]:
    return _drop_none({
        "deploymentConfigId": config.id,
        "deploymentConfigName": config.name,
        "minimumHealthyHosts": config.minimum_healthy_hosts,
        "createTime": config.created,
        "computePlatform": config.compute_platform,
        "trafficRoutingConfig": config.traffic_routing,
    })  # fmt: skip


def group_to_wire(group: DeploymentGroup) -> dict[str, Any]:
    return _drop_none({
        "applicationName": group.application_name,
        "deploymentGroupId": group.id,
        "deploymentGroupName": group.name,
        "deploymentConfigName": group.deployment_config_name,
        "ec2TagFilters": [],
        "onPremisesInstanceTagFilters": [],
        "autoScalingGroups": [],
        "serviceRoleArn": group.service_role_arn,
        "targetRevision": group.target_revision,
        "triggerConfigurations": [],
        "alarmConfiguration": group.alarm_configuration
        or {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []},
        "autoRollbackConfiguration": group.auto_rollback or None,
        "deploymentStyle": group.deployment_style,
        "outdatedInstancesStrategy": "UPDATE",
        "blueGreenDeploymentConfiguration": group.blue_green,
        "loadBalancerInfo": group.load_balancer_info,
        "lastSuccessfulDeployment": group.last_successful,
        "lastAttemptedDeployment": group.last_attempted,
        "computePlatform": group.compute_platform,
        "ecsServices": group.ecs_services,
        "terminationHookEnabled": False,
    })  # fmt: skip


def overview(d: Deployment) -> dict[str, int]:
    counts = {s: 0 for s in ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")}
    status = d.target_status if d.target_status in counts else TargetStatus.PENDING
    counts[status] += 1
    return counts


def deployment_to_wire(d: Deployment) -> dict[str, Any]:
    error = None
    if d.error_code:
        error = {"code": d.error_code, "message": d.error_message or ""}
    return _drop_none({
        "applicationName": d.application_name,
        "deploymentGroupName": d.group_name,
        "deploymentConfigName": d.config_name,
        "deploymentId": d.id,
        "previousRevision": d.previous_revision,
        "revision": d.revision,
        "status": d.status,
        "errorInformation": error,
        "createTime": d.created,
        "startTime": d.start,
        "completeTime": d.complete,
        "deploymentOverview": overview(d),
        "description": d.description,
        "creator": d.creator,
        "ignoreApplicationStopFailures": False,
        "autoRollbackConfiguration": d.auto_rollback or None,
        "updateOutdatedInstancesOnly": False,
        "rollbackInfo": d.rollback_info or None,
        "deploymentStyle": d.deployment_style,
        "instanceTerminationWaitTimeStarted": d.termination_wait_started,
        "blueGreenDeploymentConfiguration": d.blue_green,
        "loadBalancerInfo": d.load_balancer_info,
        "fileExistsBehavior": "DISALLOW",
        "deploymentStatusMessages": [],
        "computePlatform": "ECS",
        "overrideAlarmConfiguration": None,
    })  # fmt: skip


def target_to_wire(d: Deployment) -> dict[str, Any]:
    return {
        "deploymentTargetType": "ECSTarget",
        "ecsTarget": _drop_none({
            "deploymentId": d.id,
            "targetId": d.target_id,
            "targetArn": d.service_arn or None,
            "lastUpdatedAt": d.target_updated,
            "lifecycleEvents": [
                _drop_none({"lifecycleEventName": e.name, "startTime": e.start,
                            "endTime": e.end, "status": e.status})
                for e in d.events
            ],
            "status": d.target_status,
            "taskSetsInfo": d.task_sets_info,
        }),
    }  # fmt: skip


T = TypeVar("T")
MAX_BATCH = 100


def paged(items: Sequence[T], key: Callable[[T], str], token: str | None,
          limit: int = 100) -> tuple[list[T], str | None]:  # fmt: skip
    try:
        return page(items, key, token, limit, default_max=limit)
    except InvalidToken as exc:
        message = "The next token was specified in an invalid format."
        raise e.InvalidNextTokenException(message) from exc


def batch(names: list[str] | None, field: str) -> list[str]:
    names = list(names or [])
    if len(names) > MAX_BATCH:
        raise e.BatchLimitExceededException(
            f"The maximum number of names or IDs allowed for this request ({MAX_BATCH}) was "
            f"exceeded ({field})."
        )
    return names
