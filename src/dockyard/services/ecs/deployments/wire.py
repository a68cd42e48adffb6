"""Services, deployments, service deployments, revisions and task sets in ECS's output shapes."""

from __future__ import annotations

from typing import Any

from dockyard.services.ecs.deployments.model import (
    Deployment,
    DeploymentStatus,
    EcsService,
    RolloutState,
    TaskSet,
    TaskSetStatus,
)
from dockyard.services.ecs.tags import tags_to_wire


def _drop_none(out: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if v is not None}


def deployment_to_wire(service: EcsService, d: Deployment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id,
        "status": d.status,
        "taskDefinition": d.task_definition_arn,
        "desiredCount": d.desired_count,
        "pendingCount": d.pending_count,
        "runningCount": d.running_count,
        "failedTasks": d.failed_tasks,
        "createdAt": d.created_at,
        "updatedAt": d.updated_at,
        "launchType": d.launch_type,
        "networkConfiguration": d.network_configuration,
        "platformVersion": d.platform_version,
    }
    if d.capacity_provider_strategy:
        out["capacityProviderStrategy"] = d.capacity_provider_strategy
    if service.deployment_controller == "ECS":
        out["rolloutState"] = d.rollout_state
        out["rolloutStateReason"] = d.rollout_state_reason
    return _drop_none(out)


def task_set_to_wire(service: EcsService, ts: TaskSet, computed: int, tags: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ts.id,
        "taskSetArn": ts.arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "startedBy": ts.started_by,
        "externalId": ts.external_id,
        "status": ts.status,
        "taskDefinition": ts.task_definition_arn,
        "computedDesiredCount": computed,
        "pendingCount": ts.pending_count,
        "runningCount": ts.running_count,
        "createdAt": ts.created_at,
        "updatedAt": ts.updated_at,
        "launchType": ts.launch_type,
        "platformVersion": ts.platform_version,
        "networkConfiguration": ts.network_configuration,
        "loadBalancers": ts.load_balancers,
        "serviceRegistries": ts.service_registries,
        "scale": {"value": ts.scale_value, "unit": ts.scale_unit},
        "stabilityStatus": ts.stability_status,
        "stabilityStatusAt": ts.stability_status_at,
    }
    if tags:
        out["tags"] = tags_to_wire(ts.tags)
    return _drop_none(out)


def task_set_deployment(ts: TaskSet, computed: int) -> dict[str, Any]:
    return _drop_none({
        "id": ts.id,
        "status": ts.status,
        "taskDefinition": ts.task_definition_arn,
        "desiredCount": computed,
        "pendingCount": ts.pending_count,
        "runningCount": ts.running_count,
        "failedTasks": 0,
        "createdAt": ts.created_at,
        "updatedAt": ts.updated_at,
        "launchType": ts.launch_type,
        "networkConfiguration": ts.network_configuration,
        "platformVersion": ts.platform_version,
    })  # fmt: skip


def revision_summary(d: Deployment) -> dict[str, Any]:
    return {
        "arn": d.revision_arn,
        "requestedTaskCount": d.desired_count,
        "runningTaskCount": d.running_count,
        "pendingTaskCount": d.pending_count,
    }


def service_to_wire(
    service: EcsService, include_tags: bool = False, task_set_counts: dict[str, int] | None = None
) -> dict[str, Any]:
    live = service.live_deployments()
    live.sort(key=lambda d: d.status != DeploymentStatus.PRIMARY)
    out: dict[str, Any] = {
        "serviceArn": service.arn,
        "serviceName": service.name,
        "clusterArn": service.cluster_arn,
        "loadBalancers": service.load_balancers,
        "serviceRegistries": service.service_registries,
        "status": service.status,
        "desiredCount": service.desired_count,
        "runningCount": service.running_count,
        "pendingCount": service.pending_count,
        "launchType": service.launch_type,
        "platformVersion": service.platform_version,
        "taskDefinition": service.task_definition_arn,
        "deploymentConfiguration": service.deployment_configuration,
        "deployments": [deployment_to_wire(service, d) for d in live],
        "roleArn": service.role_arn,
        "events": [
            {"id": e.id, "createdAt": e.created_at, "message": e.message} for e in service.events
        ],
        "createdAt": service.created_at,
        "placementConstraints": service.placement_constraints,
        "placementStrategy": service.placement_strategy,
        "networkConfiguration": service.network_configuration,
        "healthCheckGracePeriodSeconds": service.health_check_grace_period,
        "schedulingStrategy": service.scheduling_strategy,
        "deploymentController": {"type": service.deployment_controller},
        "createdBy": service.created_by,
        "enableECSManagedTags": service.enable_ecs_managed_tags,
        "propagateTags": service.propagate_tags,
        "enableExecuteCommand": service.enable_execute_command,
    }
    if service.capacity_provider_strategy:
        out["capacityProviderStrategy"] = service.capacity_provider_strategy
        del out["launchType"]
    if service.deployment_controller != "ECS":
        counts = task_set_counts or {}
        out["taskSets"] = [
            task_set_to_wire(service, ts, counts.get(ts.id, 0), False) for ts in service.task_sets
        ]
    if service.deployment_controller == "CODE_DEPLOY":
        # ECS shows a CODE_DEPLOY service's live task sets as its deployments.
        out["deployments"] = [
            task_set_deployment(ts, counts.get(ts.id, 0))
            for ts in sorted(service.task_sets, key=lambda t: t.status != TaskSetStatus.PRIMARY)
            if ts.status != TaskSetStatus.DRAINING
        ]
    primary = service.primary
    if primary is not None and service.deployment_controller == "ECS":
        out["currentServiceDeployment"] = primary.deployment_arn
        out["currentServiceRevisions"] = [revision_summary(d) for d in live]
    if include_tags:
        out["tags"] = tags_to_wire(service.tags)
    return _drop_none(out)


def service_deployment_brief(service: EcsService, d: Deployment) -> dict[str, Any]:
    return _drop_none(
        {
            "serviceDeploymentArn": d.deployment_arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "startedAt": d.started_at,
            "createdAt": d.created_at,
            "finishedAt": d.finished_at,
            "targetServiceRevisionArn": d.revision_arn,
            "status": d.sd_status,
            "statusReason": d.sd_status_reason,
        }
    )


def service_deployment_to_wire(service: EcsService, d: Deployment) -> dict[str, Any]:
    config = d.deployment_configuration
    breaker = config.get("deploymentCircuitBreaker") or {}
    alarms = config.get("alarms") or {}
    if not breaker.get("enable"):
        breaker_status = "DISABLED"
    elif d.rollout_state == RolloutState.FAILED:
        breaker_status = "TRIGGERED"
    elif d.rollout_state == RolloutState.COMPLETED:
        breaker_status = "MONITORING_COMPLETE"
    else:
        breaker_status = "MONITORING"
    out: dict[str, Any] = {
        "serviceDeploymentArn": d.deployment_arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "createdAt": d.created_at,
        "startedAt": d.started_at,
        "finishedAt": d.finished_at,
        "stoppedAt": d.stopped_at,
        "updatedAt": d.updated_at,
        "sourceServiceRevisions": d.source_revisions,
        "targetServiceRevision": revision_summary(d),
        "status": d.sd_status,
        "statusReason": d.sd_status_reason,
        "deploymentConfiguration": config,
        "rollback": d.rollback,
        "deploymentCircuitBreaker": {
            "status": breaker_status,
            "failureCount": d.failed_tasks,
            "threshold": d.circuit_breaker_threshold,
        },
        "alarms": {
            "status": "MONITORING" if alarms.get("enable") else "DISABLED",
            "alarmNames": alarms.get("alarmNames") or [],
            "triggeredAlarmNames": [],
        },
    }
    return _drop_none(out)


def service_revision_to_wire(
    service: EcsService, d: Deployment, images: list[dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "serviceRevisionArn": d.revision_arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": d.task_definition_arn,
        "launchType": d.launch_type,
        "platformVersion": d.platform_version,
        "loadBalancers": d.load_balancers,
        "serviceRegistries": [],
        "networkConfiguration": d.network_configuration,
        "containerImages": images,
        "guardDutyEnabled": False,
        "createdAt": d.created_at,
    }
    if d.capacity_provider_strategy:
        out["capacityProviderStrategy"] = d.capacity_provider_strategy
    return _drop_none(out)
