"""ECS task operations: RunTask, StartTask, StopTask, DescribeTasks, ListTasks."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.instances.domain import InstanceStatus
from dockyard.services.ecs.listing import list_page
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks import run as task_run
from dockyard.services.ecs.tasks.domain import TaskFilter
from dockyard.services.ecs.tasks.model import StopCode
from dockyard.services.ecs.tasks.run import MAX_COUNT, RunTaskRequest
from dockyard.services.ecs.tasks.wire import task_to_wire

MAX_REASON = 1024
DESIRED_STATUSES = ("RUNNING", "PENDING", "STOPPED")


def _result(tasks: list[Any], failures: list[dict[str, Any]]) -> Result:
    return {"tasks": [task_to_wire(t, include_tags=True) for t in tasks], "failures": failures}


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def run_task(ctx: RequestContext, p: Params) -> Result:
        request = RunTaskRequest.from_params(p)
        request.policy_key = ctx.access_key_id
        result = task_run.run(ecs, scope_of(ctx), request)
        return _result(result.tasks, result.failures)

    def start_task(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        refs = p.get("containerInstances") or []
        if not 1 <= len(refs) <= MAX_COUNT:
            raise InvalidParameterException(
                f"containerInstances must name 1 to {MAX_COUNT} container instances "
                "(containerInstances)."
            )
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        launch = task_run.launch_of(
            ecs, scope, cluster, p, "EC2", None, ecs.task_policies.for_key(ctx.access_key_id)
        )
        instances, failures = [], []
        for ref in refs:
            instance = ecs.instances.find(scope, cluster.arn, ref)
            if instance is None or instance.status == InstanceStatus.INACTIVE:
                arn = ecs.instances.arn_for(scope, cluster.arn, ref)
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                instances.append(instance)
        tasks, placement_failures = ecs.tasks.start(launch, instances)
        return _result(tasks, failures + placement_failures)

    def stop_task(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        reason = p.get("reason")
        if reason is not None and len(reason) > MAX_REASON:
            raise InvalidParameterException(
                f"reason can be at most {MAX_REASON} characters (reason)."
            )
        task = ecs.tasks.find(scope, cluster.arn, p["task"])
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        ecs.tasks.stop(task, StopCode.USER_INITIATED, reason or "Task stopped by user")
        return {"task": task_to_wire(task, include_tags=True)}

    def describe_tasks(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        refs = p.get("tasks") or []
        if len(refs) > 100:
            raise InvalidParameterException("tasks can have at most 100 items (tasks).")
        include_tags = "TAGS" in (p.get("include") or [])
        found, failures = [], []
        for ref in refs:
            task = ecs.tasks.find(scope, cluster.arn, ref)
            if task is None:
                failures.append(
                    {"arn": ecs.tasks.arn_for(scope, cluster.arn, ref), "reason": "MISSING"}
                )
            else:
                found.append(task_to_wire(task, include_tags))
        return {"tasks": found, "failures": failures}

    def list_tasks(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        desired = p.get("desiredStatus") or "RUNNING"
        if desired not in DESIRED_STATUSES:
            raise InvalidParameterException(f"Invalid desiredStatus {desired!r} (desiredStatus).")
        where = TaskFilter(
            cluster_arn=cluster.arn,
            family=p.get("family"),
            started_by=p.get("startedBy"),
            desired_status=desired,
            launch_type=p.get("launchType"),
        )
        if p.get("serviceName"):
            where.group = f"service:{p['serviceName']}"
        if p.get("containerInstance"):
            where.host_arn = ecs.instances.arn_for(scope, cluster.arn, p["containerInstance"])
        chunk, more = list_page(ecs.tasks.list(where), lambda t: t.arn, p)
        return {"taskArns": [t.arn for t in chunk], **more}

    return {
        "RunTask": run_task,
        "StartTask": start_task,
        "StopTask": stop_task,
        "DescribeTasks": describe_tasks,
        "ListTasks": list_tasks,
    }
