"""Letting go of finished ECS records, as ECS does, so a long-running server stays bounded.

One key on the controller runtime, looked at every `check_every` seconds of the injected
clock (so `--time-scale` shortens the hour): observe the finished records, ask the pure
`retention_plan.plan` what is due, and forget those through the domains, which delete from
memory and the store in one step. Forgotten tasks and services answer DescribeTasks /
DescribeServices with a MISSING failure, as unknown ones do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dockyard.controllers.retention_plan import (
    Finished,
    Host,
    Observed,
    Policy,
    RetentionPlan,
    plan,
)
from dockyard.controllers.runtime import Runtime
from dockyard.core.clock import Clock
from dockyard.services.ecs.deployments.model import ServiceStatus
from dockyard.services.ecs.instances.domain import InstanceStatus
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.taskdefs.domain import TaskDefinitionStatus

log = logging.getLogger(__name__)

CHECK_EVERY = 60.0  # clock seconds between sweeps
AGAIN_SOON = 1.0  # after a full batch
KEY = "ecs"
DEFAULT_POLICY = Policy()

LastContact = Callable[[str], float | None]


def taskdefs_in_use(ecs: Ecs) -> frozenset[str]:
    """Revisions something active still needs: a task not STOPPED, or a service not INACTIVE
    (its task definition, its live deployments' and its task sets')."""
    used = {t.task_definition_arn for t in ecs.tasks.by_arn.values() if not t.is_stopped}
    for service in ecs.services.by_arn.values():
        if service.status == ServiceStatus.INACTIVE:
            continue
        if service.task_definition_arn:
            used.add(service.task_definition_arn)
        used.update(d.task_definition_arn for d in service.live_deployments())
        used.update(ts.task_definition_arn for ts in service.task_sets)
    return frozenset(used)


def observe(ecs: Ecs, last_contact: LastContact, started: float) -> Observed:
    stopped = [
        Finished(t.arn, t.stopped_at or t.execution_stopped_at)
        for t in ecs.tasks.by_arn.values()
        if t.is_stopped
    ]
    services = [
        Finished(s.arn, s.inactive_at)
        for s in ecs.services.by_arn.values()
        if s.status == ServiceStatus.INACTIVE
    ]
    # An agent not heard from since this server started counts from the start: one that is
    # still there has its chance to poll before its instance is let go.
    hosts = [
        Host(
            arn=i.arn,
            since=i.deregistered_at,
            assigned_tasks=len(ecs.tasks.assigned(i.arn)),
            last_contact=last_contact(i.arn) or started,
        )
        for i in ecs.instances.by_arn.values()
        if i.status == InstanceStatus.INACTIVE
    ]
    deleting = [
        Finished(td.arn, _number(td.document.get("deleteRequestedAt")))
        for td in ecs.taskdefs.by_arn.values()
        if td.status == TaskDefinitionStatus.DELETE_IN_PROGRESS
    ]
    return Observed(stopped, services, hosts, deleting, taskdefs_in_use(ecs))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _no_contact(_arn: str) -> float | None:
    return None


class RetentionController:
    def __init__(
        self,
        ecs: Ecs,
        clock: Clock,
        last_contact: LastContact = _no_contact,
        *,
        policy: Policy = DEFAULT_POLICY,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self.ecs = ecs
        self.clock = clock
        self.last_contact = last_contact
        self.policy = policy
        self.check_every = check_every
        self._started = clock.now()
        self.runtime = Runtime("ecs-retention", self.reconcile, clock, workers=1)

    def start(self) -> None:
        self._started = self.clock.now()
        self.runtime.start()
        self.runtime.enqueue(KEY)

    async def stop(self) -> None:
        await self.runtime.stop()

    async def reconcile(self, key: str) -> float:
        decided = self.sweep()
        return AGAIN_SOON if decided.more else self.check_every

    def sweep(self) -> RetentionPlan:
        """Forget whatever is due now; returns what was decided."""
        now = self.clock.now()
        decided = plan(observe(self.ecs, self.last_contact, self._started), now, self.policy)
        forgotten = (
            sum(map(self.ecs.tasks.forget, decided.tasks)),
            sum(map(self.ecs.services.forget, decided.services)),
            sum(map(self.ecs.instances.forget, decided.instances)),
            sum(map(self.ecs.taskdefs.forget, decided.taskdefs)),
        )
        if any(forgotten):
            log.info(
                "let go of %d stopped tasks, %d deleted services, %d deregistered container "
                "instances and %d deleted task definition revisions",
                *forgotten,
            )
        return decided
