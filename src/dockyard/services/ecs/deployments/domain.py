"""ECS services: the domain (a service, its deployments, its events) and its state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dockyard.core.ids import arn_resource, is_arn
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.deployments.events import (
    DeploymentEvent,
    ServiceAction,
    emit_action,
    emit_deployment,
)
from dockyard.services.ecs.deployments.model import (
    KIND,
    MAX_HISTORY,
    Deployment,
    DeploymentStatus,
    EcsService,
    RolloutState,
    SchedulingStrategy,
    ServiceDeploymentStatus,
    ServiceStatus,
    Watcher,
    new_numeric_id,
    revision_arn,
    service_arn,
    service_deployment_arn,
)
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.events import EventLog
from dockyard.services.ecs.state import EcsDomain
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)


class Services(EcsDomain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_arn: dict[str, EcsService] = {}
        self._watchers: list[Watcher] = []
        self.events: EventLog | None = None  # the ECS event log, set by `Ecs`

    def load(self) -> None:
        self.by_arn = {}
        for key, body in self.store.load(KIND):
            try:
                service = EcsService.from_dict(body)
            except (KeyError, TypeError, ValueError):
                log.exception("skipping an unreadable service record", extra={"arn": key})
                continue
            self.by_arn[key] = service
            if service.status == ServiceStatus.INACTIVE and service.inactive_at is None:
                self.save(service, notify=False)  # a record from before the time was kept

    def reset(self) -> None:
        self.by_arn.clear()

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` with every service saved (the service controller enqueues it)."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def save(self, service: EcsService, notify: bool = True) -> None:
        if service.status == ServiceStatus.INACTIVE and service.inactive_at is None:
            service.inactive_at = self.clock.now()
        put_record(self.store, KIND, service.arn, service, EcsService.from_dict)
        self.by_arn[service.arn] = service
        if notify:
            for watcher in list(self._watchers):
                watcher(service)

    def forget(self, service_arn: str) -> bool:
        """Let an INACTIVE (deleted) service go, from memory and the store at once. False for
        an unknown service or one not INACTIVE."""
        service = self.by_arn.get(service_arn)
        if service is None or service.status != ServiceStatus.INACTIVE:
            return False
        self.store.delete(KIND, service_arn)
        del self.by_arn[service_arn]
        return True

    def arn_for(self, scope: Scope, cluster_arn: str, ref: str) -> str:
        if is_arn(ref):
            parts = ref.split(":")
            if len(parts) != 6 or parts[2] != "ecs" or not parts[5].startswith("service/"):
                raise InvalidParameterException(f"Invalid service ARN: {ref}")
            resource = arn_resource(ref).split("/")
            # The older ARN format has no cluster name: service/<name>.
            return service_arn(scope, cluster_name(cluster_arn), resource[-1])
        return service_arn(scope, cluster_name(cluster_arn), ref)

    def find(self, scope: Scope, cluster_arn: str, ref: str) -> EcsService | None:
        service = self.by_arn.get(self.arn_for(scope, cluster_arn, ref))
        if service is None or service.cluster_arn != cluster_arn:
            return None
        return service

    def in_cluster(
        self, cluster_arn: str, statuses: tuple[str, ...] = ("ACTIVE",)
    ) -> list[EcsService]:
        return sorted(
            (
                s
                for s in self.by_arn.values()
                if s.cluster_arn == cluster_arn and s.status in statuses
            ),
            key=lambda s: s.arn,
        )

    def by_group(self, cluster_arn: str, group: str) -> EcsService | None:
        if not group.startswith("service:"):
            return None
        name = group.removeprefix("service:")
        for service in self.by_arn.values():
            same = service.cluster_arn == cluster_arn and service.name == name
            if same and service.status != ServiceStatus.INACTIVE:
                return service
        return None

    def set_desired_count(self, service_arn: str, count: int) -> EcsService:
        """Scale a REPLICA service (what Application Auto Scaling calls); the controller
        starts or stops tasks. InvalidParameterException for a service that cannot scale."""
        service = self.by_arn.get(service_arn)
        if service is None or service.status != ServiceStatus.ACTIVE:
            raise InvalidParameterException(f"The service {service_arn} is not ACTIVE.")
        if service.scheduling_strategy != SchedulingStrategy.REPLICA or count < 0:
            raise InvalidParameterException(
                f"Only REPLICA services scale to a non-negative count ({service_arn}: {count})."
            )
        if service.desired_count != count:
            service.desired_count = count
            primary = service.primary
            if primary is not None:
                primary.desired_count = count
                primary.updated_at = self.clock.now()
            service.steady = False
            emit_action(
                self.events, service, ServiceAction.SERVICE_DESIRED_COUNT_UPDATED,
                self.clock.now(),
            )  # fmt: skip
            self.save(service)
        return service

    def new_deployment(
        self, service: EcsService, *, task_definition_arn: str, reason: str = ""
    ) -> Deployment:
        """Start a deployment: it becomes PRIMARY; the previous live ones become ACTIVE (a
        deployment in progress is superseded)."""
        now = self.clock.now()
        number = new_numeric_id()
        sources = []
        for d in service.live_deployments():
            d.status = DeploymentStatus.ACTIVE
            d.updated_at = now
            if d.rollout_state == RolloutState.IN_PROGRESS:
                d.sd_status = ServiceDeploymentStatus.STOPPED
                d.sd_status_reason = "Superseded by a newer service deployment."
                d.stopped_at = now
            sources.append(
                {"arn": d.revision_arn, "requestedTaskCount": d.desired_count,
                 "runningTaskCount": d.running_count, "pendingTaskCount": d.pending_count}
            )  # fmt: skip
        deployment = Deployment(
            id=f"ecs-svc/{number}",
            status=DeploymentStatus.PRIMARY,
            task_definition_arn=task_definition_arn,
            launch_type=service.launch_type,
            created_at=now,
            updated_at=now,
            started_at=now,
            revision_arn=revision_arn(service, number),
            deployment_arn=service_deployment_arn(service, number),
            network_configuration=service.network_configuration,
            load_balancers=list(service.load_balancers),
            capacity_provider_strategy=list(service.capacity_provider_strategy),
            platform_version=service.platform_version,
            desired_count=service.desired_count,
            rollout_state_reason=reason or f"ECS deployment ecs-svc/{number} in progress.",
            source_revisions=sources,
            deployment_configuration=dict(service.deployment_configuration),
        )
        service.deployments.insert(0, deployment)
        service.steady = False
        emit_deployment(
            self.events, service, deployment, DeploymentEvent.SERVICE_DEPLOYMENT_IN_PROGRESS, now
        )
        finished = [d for d in service.deployments if not d.live]
        for old in finished[MAX_HISTORY:]:
            service.deployments.remove(old)
        return deployment

    def last_completed(self, service: EcsService, exclude: str) -> Deployment | None:
        for d in service.deployments:
            if d.id != exclude and d.rollout_state == RolloutState.COMPLETED:
                return d
        return None
