"""Task sets of EXTERNAL services: CreateTaskSet, UpdateTaskSet, UpdateServicePrimaryTaskSet,
DeleteTaskSet, DescribeTaskSets. The service controller keeps each task set at its scale (a
percentage of the service's desired count)."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.ids import arn
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.deployments import validation as rules
from dockyard.services.ecs.deployments.launch import active_service, check_launch
from dockyard.services.ecs.deployments.model import (
    EcsService,
    TaskSet,
    TaskSetStatus,
    computed_count,
    new_numeric_id,
)
from dockyard.services.ecs.deployments.wire import task_set_to_wire
from dockyard.services.ecs.errors import (
    InvalidParameterException,
    TaskSetNotFoundException,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import validate_tags


def _scale(p: Params) -> tuple[float, str]:
    scale = p.get("scale") or {}
    value = float(scale.get("value", 100.0))
    unit = str(scale.get("unit") or "PERCENT")
    if unit != "PERCENT" or not 0 <= value <= 100:
        raise InvalidParameterException(
            "scale must be a PERCENT between 0 and 100 (scale.value, scale.unit)."
        )
    return value, unit


def _external(ecs: Ecs, scope: Scope, p: Params, read_only: bool = False) -> EcsService:
    cluster = ecs.clusters.get(scope, p.get("cluster"))
    service = active_service(ecs, scope, cluster, p["service"])
    if read_only and service.deployment_controller == "CODE_DEPLOY":
        return service  # CodeDeploy manages these task sets; they can be described
    if service.deployment_controller != "EXTERNAL":
        raise InvalidParameterException(
            "Task sets can only be managed for services using the EXTERNAL deployment controller."
        )
    return service


def _find(service: EcsService, ref: str) -> TaskSet:
    for ts in service.task_sets:
        if ref in (ts.id, ts.arn):
            return ts
    raise TaskSetNotFoundException("The specified task set does not exist.")


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def wire(service: EcsService, ts: TaskSet, tags: bool = False) -> Result:
        return task_set_to_wire(service, ts, computed_count(service, ts), tags)

    def create_task_set(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        service = _external(ecs, scope, p)
        cluster = ecs.clusters.get(scope, service.cluster_arn)
        rules.unsupported(p)
        launch_type = p.get("launchType") or service.launch_type
        taskdef = check_launch(
            ecs, scope, cluster, p["taskDefinition"], p, launch_type, ctx.access_key_id
        )
        value, unit = _scale(p)
        lbs = rules.load_balancers(p.get("loadBalancers") or [], taskdef, ecs.target_groups, scope)
        now = ecs.clock.now()
        ts_id = f"ecs-svc/{new_numeric_id()}"
        resource = f"task-set/{cluster_name(service.cluster_arn)}/{service.name}/{ts_id}"
        ts = TaskSet(
            id=ts_id,
            arn=arn("ecs", scope.region, scope.account_id, resource),
            task_definition_arn=taskdef["taskDefinitionArn"],
            launch_type=launch_type,
            created_at=now,
            updated_at=now,
            status="PRIMARY" if not service.task_sets else "ACTIVE",
            external_id=p.get("externalId"),
            started_by=None,
            scale_value=value,
            scale_unit=unit,
            network_configuration=p.get("networkConfiguration"),
            load_balancers=lbs,
            platform_version=p.get("platformVersion"),
            tags=validate_tags(p.get("tags") or []),
            stability_status_at=now,
            policy_key=ctx.access_key_id,
        )
        service.task_sets.append(ts)
        if ts.status == TaskSetStatus.PRIMARY:
            service.task_definition_arn = ts.task_definition_arn
        ecs.services.save(service)
        return {"taskSet": wire(service, ts, tags=True)}

    def update_task_set(ctx: RequestContext, p: Params) -> Result:
        service = _external(ecs, scope_of(ctx), p)
        ts = _find(service, p["taskSet"])
        ts.scale_value, ts.scale_unit = _scale(p)
        ts.updated_at = ecs.clock.now()
        ecs.services.save(service)
        return {"taskSet": wire(service, ts)}

    def update_service_primary_task_set(ctx: RequestContext, p: Params) -> Result:
        service = _external(ecs, scope_of(ctx), p)
        ts = _find(service, p["primaryTaskSet"])
        if ts.status == TaskSetStatus.DRAINING:
            raise InvalidParameterException("A draining task set cannot become the primary one.")
        for other in service.task_sets:
            if other.status == TaskSetStatus.PRIMARY:
                other.status = TaskSetStatus.ACTIVE
        ts.status = TaskSetStatus.PRIMARY
        ts.updated_at = ecs.clock.now()
        service.task_definition_arn = ts.task_definition_arn
        ecs.services.save(service)
        return {"taskSet": wire(service, ts)}

    def delete_task_set(ctx: RequestContext, p: Params) -> Result:
        service = _external(ecs, scope_of(ctx), p)
        ts = _find(service, p["taskSet"])
        if ts.status == TaskSetStatus.PRIMARY and not p.get("force"):
            raise InvalidParameterException(
                "The primary task set cannot be deleted; make another one primary or use force."
            )
        ts.status = TaskSetStatus.DRAINING
        ts.scale_value = 0.0
        ts.updated_at = ecs.clock.now()
        ecs.services.save(service)
        return {"taskSet": wire(service, ts)}

    def describe_task_sets(ctx: RequestContext, p: Params) -> Result:
        service = _external(ecs, scope_of(ctx), p, read_only=True)
        refs = p.get("taskSets")
        tags = "TAGS" in (p.get("include") or [])
        found, failures = [], []
        if not refs:
            found = [wire(service, ts, tags) for ts in service.task_sets]
        for ref in refs or []:
            try:
                found.append(wire(service, _find(service, ref), tags))
            except TaskSetNotFoundException:
                failures.append({"arn": ref, "reason": "MISSING"})
        return {"taskSets": found, "failures": failures}

    return {
        "CreateTaskSet": create_task_set,
        "UpdateTaskSet": update_task_set,
        "UpdateServicePrimaryTaskSet": update_service_primary_task_set,
        "DeleteTaskSet": delete_task_set,
        "DescribeTaskSets": describe_task_sets,
    }
