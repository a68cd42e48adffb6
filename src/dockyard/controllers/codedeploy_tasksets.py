"""CODE_DEPLOY services: their task sets kept at scale (as EXTERNAL services' are), and each
task set's running tasks registered in that task set's own target group. A task set being
deleted, and a task that stopped, leave their target groups first."""

from __future__ import annotations

from dockyard.controllers.service_apply import reconcile_task_sets
from dockyard.controllers.service_observe import service_tasks, target_of
from dockyard.core.loadbalancing import TargetGroups
from dockyard.core.taskspec import DesiredStatus
from dockyard.services.ecs.deployments.model import EcsService, TaskSetStatus
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.model import LastStatus


def sync_targets(ecs: Ecs, service: EcsService, groups: TargetGroups) -> bool:
    """Register running tasks of live task sets, deregister the others; True if any changed."""
    scope = service.scope
    sets = {ts.id: ts for ts in service.task_sets}
    changed = False
    for task in service_tasks(ecs, service):
        ts = sets.get(task.started_by or "")
        if ts is None:
            continue
        wanted = (
            ts.status != TaskSetStatus.DRAINING
            and not task.is_stopped
            and task.desired_status == DesiredStatus.RUNNING
            and task.last_status == LastStatus.RUNNING
        )
        for lb in ts.load_balancers:
            tg = str(lb.get("targetGroupArn") or "")
            target = target_of(ecs, task, lb)
            if not tg or target is None:
                continue
            state = groups.health(scope.account_id, scope.region, tg, target)
            if wanted and state == "unused":
                groups.register(scope.account_id, scope.region, tg, target)
                changed = True
            elif not wanted and state not in ("unused", "draining"):
                groups.deregister(scope.account_id, scope.region, tg, target)
                changed = True
    return changed


def reconcile(ecs: Ecs, service: EcsService, groups: TargetGroups | None,
              now: float) -> float | None:  # fmt: skip
    """One look at a CODE_DEPLOY service; seconds until the next look when it is unsettled."""
    changed = sync_targets(ecs, service, groups) if groups is not None else False
    again = reconcile_task_sets(ecs, service, now)
    if groups is not None:
        changed = sync_targets(ecs, service, groups) or changed
    return 1.0 if changed else again
