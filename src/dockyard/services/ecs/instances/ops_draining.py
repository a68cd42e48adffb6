"""Draining and protecting: UpdateContainerInstancesState, UpdateTaskProtection,
GetTaskProtection.

A DRAINING container instance takes no new tasks; the service controller replaces the service
tasks there within each service's minimum healthy and maximum percent. Standalone tasks are
left alone. Protected tasks are not stopped by a service's scale-in.
"""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.taskspec import DesiredStatus
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.instances.wire import describe_instance, record_instance_event
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.model import Task

SETTABLE = ("ACTIVE", "DRAINING")
MAX_INSTANCES = 10
MAX_PROTECTED = 10
DEFAULT_PROTECTION_MINUTES = 120
MAX_PROTECTION_MINUTES = 2880


def protection_to_wire(task: Task, now: float) -> dict[str, Any]:
    until = task.protected_until
    if until is None or until <= now:
        return {"taskArn": task.arn, "protectionEnabled": False}
    return {"taskArn": task.arn, "protectionEnabled": True, "expirationDate": until}


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def update_container_instances_state(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        status = p["status"]
        if status not in SETTABLE:
            raise InvalidParameterException(
                f"Container instance status can be set to ACTIVE or DRAINING (status: {status})."
            )
        refs = p.get("containerInstances") or []
        if not 1 <= len(refs) <= MAX_INSTANCES:
            raise InvalidParameterException(
                f"containerInstances must name 1 to {MAX_INSTANCES} instances (containerInstances)."
            )
        found, failures = [], []
        for ref in refs:
            instance = ecs.instances.find(scope, cluster.arn, ref)
            if instance is None or instance.status not in SETTABLE:
                arn = ecs.instances.arn_for(scope, cluster.arn, ref)
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            if instance.status != status:
                instance.status = status
                instance.version += 1
                ecs.instances.save(instance)
                # The event wakes the service controller for every service of the cluster.
                record_instance_event(ecs, instance)
            found.append(describe_instance(ecs, instance))
        return {"containerInstances": found, "failures": failures}

    def update_task_protection(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        refs = p.get("tasks") or []
        if not 1 <= len(refs) <= MAX_PROTECTED:
            raise InvalidParameterException(f"tasks must name 1 to {MAX_PROTECTED} tasks (tasks).")
        enabled = bool(p["protectionEnabled"])
        minutes = p.get("expiresInMinutes")
        if minutes is None:
            minutes = DEFAULT_PROTECTION_MINUTES
        if enabled and not 1 <= minutes <= MAX_PROTECTION_MINUTES:
            raise InvalidParameterException(
                f"expiresInMinutes must be between 1 and {MAX_PROTECTION_MINUTES} "
                "(expiresInMinutes)."
            )
        now = ecs.clock.now()
        protected, failures = [], []
        for ref in refs:
            task = ecs.tasks.find(scope, cluster.arn, ref)
            if task is None:
                failures.append(
                    {"arn": ecs.tasks.arn_for(scope, cluster.arn, ref), "reason": "MISSING"}
                )
                continue
            if not task.group.startswith("service:"):
                failures.append({"arn": task.arn, "reason": "TASK_NOT_VALID",
                                 "detail": "Only tasks of services can be protected."})  # fmt: skip
                continue
            if task.is_stopped or task.desired_status == DesiredStatus.STOPPED:
                failures.append({"arn": task.arn, "reason": "TASK_NOT_VALID",
                                 "detail": "The task is stopping or stopped."})  # fmt: skip
                continue
            task.protected_until = now + minutes * 60 if enabled else None
            ecs.tasks.save(task)
            protected.append(protection_to_wire(task, now))
        return {"protectedTasks": protected, "failures": failures}

    def get_task_protection(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        now = ecs.clock.now()
        protected, failures = [], []
        for ref in p.get("tasks") or []:
            task = ecs.tasks.find(scope, cluster.arn, ref)
            if task is None:
                failures.append(
                    {"arn": ecs.tasks.arn_for(scope, cluster.arn, ref), "reason": "MISSING"}
                )
            else:
                protected.append(protection_to_wire(task, now))
        return {"protectedTasks": protected, "failures": failures}

    return {
        "UpdateContainerInstancesState": update_container_instances_state,
        "UpdateTaskProtection": update_task_protection,
        "GetTaskProtection": get_task_protection,
    }
