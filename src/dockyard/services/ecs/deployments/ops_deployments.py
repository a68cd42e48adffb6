"""The service deployments API: ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions, StopServiceDeployment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.ids import arn_resource, is_arn
from dockyard.core.scope import Scope
from dockyard.services.ecs.deployments.model import (
    Deployment,
    EcsService,
    RolloutState,
    ServiceDeploymentStatus,
    service_arn,
)
from dockyard.services.ecs.deployments.stop import stop_deployment
from dockyard.services.ecs.deployments.wire import (
    service_deployment_brief,
    service_deployment_to_wire,
    service_revision_to_wire,
)
from dockyard.services.ecs.errors import (
    ConflictException,
    InvalidParameterException,
    ServiceDeploymentNotFoundException,
    ServiceNotFoundException,
)
from dockyard.services.ecs.listing import list_page
from dockyard.services.ecs.service import Ecs

MAX_DESCRIBE = 20
STOP_TYPES = ("ROLLBACK", "ABORT")


def _owner(ecs: Ecs, arn: str, kind: str) -> tuple[EcsService, Deployment] | None:
    """The service and deployment a service deployment or revision ARN names."""
    if not is_arn(arn):
        return None
    parts = arn_resource(arn).split("/")
    if len(parts) != 4 or parts[0] != kind:
        return None
    fields = arn.split(":")
    scope = Scope(fields[4], fields[3])
    service = ecs.services.by_arn.get(service_arn(scope, parts[1], parts[2]))
    if service is None:
        return None
    for d in service.deployments:
        if (d.deployment_arn if kind == "service-deployment" else d.revision_arn) == arn:
            return service, d
    return None


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def list_service_deployments(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        service = ecs.services.find(scope, cluster.arn, p["service"])
        if service is None:
            raise ServiceNotFoundException("Service not found.")
        statuses = set(p.get("status") or [])
        window = p.get("createdAt") or {}
        after, before = _seconds(window.get("after")), _seconds(window.get("before"))
        found = [
            d
            for d in service.deployments
            if (not statuses or d.sd_status in statuses)
            and (after is None or d.created_at >= after)
            and (before is None or d.created_at <= before)
        ]
        found.sort(key=lambda d: d.created_at, reverse=True)
        keyed = [(f"{1e12 - d.created_at:020.6f}{d.id}", d) for d in found]
        chunk, more = list_page(keyed, lambda kd: kd[0], p)
        return {
            "serviceDeployments": [service_deployment_brief(service, d) for _, d in chunk],
            **more,
        }

    def describe_service_deployments(ctx: RequestContext, p: Params) -> Result:
        arns = p.get("serviceDeploymentArns") or []
        if not 1 <= len(arns) <= MAX_DESCRIBE:
            raise InvalidParameterException(
                f"serviceDeploymentArns must name 1 to {MAX_DESCRIBE} ARNs (serviceDeploymentArns)."
            )
        found, failures = [], []
        for arn in arns:
            owner = _owner(ecs, arn, "service-deployment")
            if owner is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(service_deployment_to_wire(*owner))
        return {"serviceDeployments": found, "failures": failures}

    def describe_service_revisions(ctx: RequestContext, p: Params) -> Result:
        arns = p.get("serviceRevisionArns") or []
        if not 1 <= len(arns) <= MAX_DESCRIBE:
            raise InvalidParameterException(
                f"serviceRevisionArns must name 1 to {MAX_DESCRIBE} ARNs (serviceRevisionArns)."
            )
        found, failures = [], []
        for arn in arns:
            owner = _owner(ecs, arn, "service-revision")
            if owner is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            service, d = owner
            images = []
            taskdef = ecs.taskdefs.by_arn.get(d.task_definition_arn)
            if taskdef is not None:
                images = [
                    {"containerName": c["name"], "image": c.get("image", "")}
                    for c in taskdef.document["containerDefinitions"]
                ]
            found.append(service_revision_to_wire(service, d, images))
        return {"serviceRevisions": found, "failures": failures}

    def stop_service_deployment(ctx: RequestContext, p: Params) -> Result:
        arn = p["serviceDeploymentArn"]
        stop_type = p.get("stopType") or "ROLLBACK"
        if stop_type not in STOP_TYPES:
            raise InvalidParameterException(f"stopType must be ROLLBACK or ABORT ({stop_type}).")
        owner = _owner(ecs, arn, "service-deployment")
        if owner is None:
            raise ServiceDeploymentNotFoundException("The service deployment does not exist.")
        service, d = owner
        if d.status != "PRIMARY" or d.rollout_state != RolloutState.IN_PROGRESS:
            raise ConflictException(
                "The service deployment is not in progress and cannot be stopped "
                f"(status: {d.sd_status})."
            )
        if d.sd_status != ServiceDeploymentStatus.IN_PROGRESS:
            raise ConflictException(f"The service deployment is {d.sd_status}.")
        stop_deployment(ecs, service, d, stop_type)
        return {"serviceDeploymentArn": arn}

    return {
        "ListServiceDeployments": list_service_deployments,
        "DescribeServiceDeployments": describe_service_deployments,
        "DescribeServiceRevisions": describe_service_revisions,
        "StopServiceDeployment": stop_service_deployment,
    }
