"""The ECS service controller: keeps each service's tasks as its deployments want them.

Level-triggered: a reconcile reads the service, its tasks, the cluster's container instances
and (through `TargetGroups`) its targets' health, asks the pure `service_plan.plan` what to do,
and applies that: starting and stopping tasks, registering and draining targets, moving
deployments along, recording service events. Anything that may matter enqueues the service:
a save of the service, a task or container instance state change, and a periodic look while
it is not steady.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dockyard.controllers import codedeploy_tasksets, service_apply
from dockyard.controllers.runtime import Runtime
from dockyard.controllers.service_observe import observe
from dockyard.controllers.service_plan import plan
from dockyard.core.clock import Clock
from dockyard.core.loadbalancing import TargetGroups
from dockyard.services.ecs.deployments.model import EcsService, ServiceStatus
from dockyard.services.ecs.service import Ecs

log = logging.getLogger(__name__)

RESYNC = 30.0  # every service is looked at this often, whatever happened


class ServiceController:
    def __init__(
        self,
        ecs: Ecs,
        clock: Clock,
        target_groups: TargetGroups | None = None,
        *,
        resync: float = RESYNC,
        workers: int = 2,
    ) -> None:
        self.ecs = ecs
        self.clock = clock
        self._target_groups = target_groups
        self.resync = resync
        self.runtime = Runtime("ecs-services", self.reconcile, clock, workers=workers)
        self._unsubscribe: list[Callable[[], None]] = []

    @property
    def target_groups(self) -> TargetGroups | None:
        """The load balancers' target groups: as given, else as wired on the ECS service."""
        return self._target_groups or self.ecs.target_groups

    # -- wiring ---------------------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe.append(self.ecs.services.watch(self._service_saved))
        self._unsubscribe.append(self.ecs.events.subscribe(self._ecs_event))
        self.runtime.start()
        # After a restart every service picks up where it was.
        for service in list(self.ecs.services.by_arn.values()):
            if service.status != ServiceStatus.INACTIVE:
                self.runtime.enqueue(service.arn)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self.runtime.stop()

    def _service_saved(self, service: EcsService) -> None:
        self.runtime.enqueue(service.arn)

    def _ecs_event(self, event: dict[str, Any]) -> None:
        detail = event.get("detail") or {}
        cluster_arn = detail.get("clusterArn")
        if not cluster_arn:
            return
        if event.get("detail-type") == "ECS Task State Change":
            service = self.ecs.services.by_group(cluster_arn, detail.get("group") or "")
            if service is not None:
                self.runtime.enqueue(service.arn)
        elif event.get("detail-type") == "ECS Container Instance State Change":
            for service in self.ecs.services.in_cluster(cluster_arn, ("ACTIVE", "DRAINING")):
                self.runtime.enqueue(service.arn)

    # -- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        service = self.ecs.services.by_arn.get(key)
        if service is None or service.status == ServiceStatus.INACTIVE:
            return None
        now = self.clock.now()
        if service.deployment_controller == "CODE_DEPLOY":
            # CodeDeploy decides the task sets; here they are kept at scale and registered.
            return codedeploy_tasksets.reconcile(self.ecs, service, self.target_groups, now) or (
                self.resync
            )
        if service.deployment_controller == "EXTERNAL":
            return service_apply.reconcile_task_sets(self.ecs, service, now) or self.resync
        desired, observed = observe(self.ecs, service, self.target_groups, now)
        decided = plan(desired, observed, now)
        again = service_apply.apply(self.ecs, service, decided, self.target_groups, now)
        if again is not None:
            return again
        return decided.requeue_after if decided.requeue_after is not None else self.resync
