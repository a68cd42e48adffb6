"""Deployments and their (ECS) targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.codedeploy import errors as e
from dockyard.services.codedeploy.model import DeploymentStatus
from dockyard.services.codedeploy.service import CodeDeploy
from dockyard.services.codedeploy.wire import batch, deployment_to_wire, paged, target_to_wire

MAX_TARGETS = 25


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def handlers(cd: CodeDeploy) -> dict[str, Handler]:
    def create_deployment(ctx: RequestContext, p: Params) -> Result:
        return {"deploymentId": cd.create_deployment(scope_of(ctx), p).id}

    def get_deployment(ctx: RequestContext, p: Params) -> Result:
        return {
            "deploymentInfo": deployment_to_wire(cd.deployment(scope_of(ctx), p["deploymentId"]))
        }

    def batch_get_deployments(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = []
        for deployment_id in batch(p.get("deploymentIds"), "deploymentIds"):
            d = cd.deployments.get(scope.key(deployment_id))
            if d is not None:
                found.append(deployment_to_wire(d))
        return {"deploymentsInfo": found}

    def list_deployments(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        app_name, group_name = p.get("applicationName"), p.get("deploymentGroupName")
        if group_name and not app_name:
            raise e.CodeDeployError(
                "An application name is required with a deployment group name.",
                code="ApplicationNameRequiredException",
            )
        if p.get("externalId"):
            raise e.CodeDeployError(
                "Dockyard deployments have no external IDs (externalId).",
                code="InvalidExternalIdException",
            )
        items = [d for d in cd.deployments.values()
                 if (d.account_id, d.region) == (scope.account_id, scope.region)]  # fmt: skip
        if app_name:
            cd.application(scope, app_name)
            items = [d for d in items if d.application_name == app_name]
        if group_name:
            cd.group(scope, str(app_name), group_name)
            items = [d for d in items if d.group_name == group_name]
        statuses = p.get("includeOnlyStatuses") or []
        for status in statuses:
            if status not in list(DeploymentStatus):
                raise e.InvalidDeploymentStatusException(f"Invalid deployment status: {status}")
        if statuses:
            items = [d for d in items if d.status in statuses]
        window = p.get("createTimeRange") or {}
        start, end = _seconds(window.get("start")), _seconds(window.get("end"))
        if start is not None and end is not None and start > end:
            raise e.CodeDeployError("The start time is after the end time (createTimeRange).",
                                    code="InvalidTimeRangeException")  # fmt: skip
        items = [d for d in items if (start is None or d.created >= start)
                 and (end is None or d.created <= end)]  # fmt: skip
        items.sort(key=lambda d: f"{d.created:020.6f}/{d.id}")
        chunk, token = paged(items, lambda d: f"{d.created:020.6f}/{d.id}", p.get("nextToken"))
        out: Result = {"deployments": [d.id for d in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def stop_deployment(ctx: RequestContext, p: Params) -> Result:
        return cd.stop(scope_of(ctx), p["deploymentId"], p.get("autoRollbackEnabled"))

    def continue_deployment(ctx: RequestContext, p: Params) -> Result:
        cd.continue_(scope_of(ctx), p.get("deploymentId") or "", p.get("deploymentWaitType"))
        return {}

    def list_deployment_targets(ctx: RequestContext, p: Params) -> Result:
        d = cd.deployment(scope_of(ctx), p.get("deploymentId"))
        filters = p.get("targetFilters") or {}
        for name in filters:
            if name not in ("TargetStatus", "ServerInstanceLabel"):
                raise e.CodeDeployError(f"Invalid target filter name: {name}",
                                        code="InvalidTargetFilterNameException")  # fmt: skip
        wanted = filters.get("TargetStatus")
        ids = [d.target_id] if not wanted or d.target_status in wanted else []
        return {"targetIds": ids}

    def targets(ctx: RequestContext, deployment_id: str | None,
                ids: list[str]) -> list[dict[str, Any]]:  # fmt: skip
        d = cd.deployment(scope_of(ctx), deployment_id)
        if len(ids) > MAX_TARGETS:
            raise e.DeploymentTargetListSizeExceededException(
                f"The maximum number of targets that can be requested ({MAX_TARGETS}) was "
                "exceeded (targetIds)."
            )
        for target_id in ids:
            if target_id != d.target_id:
                raise e.DeploymentTargetDoesNotExistException(
                    f"The deployment target {target_id} does not exist in deployment {d.id}."
                )
        return [target_to_wire(d) for _ in ids]

    def batch_get_deployment_targets(ctx: RequestContext, p: Params) -> Result:
        ids = list(p.get("targetIds") or [])
        return {"deploymentTargets": targets(ctx, p.get("deploymentId"), ids)}

    def get_deployment_target(ctx: RequestContext, p: Params) -> Result:
        target_id = p.get("targetId")
        if not target_id:
            raise e.CodeDeployError("A deployment target ID is required (targetId).",
                                    code="DeploymentTargetIdRequiredException")  # fmt: skip
        return {"deploymentTarget": targets(ctx, p.get("deploymentId"), [target_id])[0]}

    return {
        "CreateDeployment": create_deployment,
        "GetDeployment": get_deployment,
        "BatchGetDeployments": batch_get_deployments,
        "ListDeployments": list_deployments,
        "StopDeployment": stop_deployment,
        "ContinueDeployment": continue_deployment,
        "ListDeploymentTargets": list_deployment_targets,
        "BatchGetDeploymentTargets": batch_get_deployment_targets,
        "GetDeploymentTarget": get_deployment_target,
    }
