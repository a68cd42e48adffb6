"""ECS services' tasks in their Cloud Map service (`serviceRegistries`), as ECS keeps them.

A task is registered once it is RUNNING (and HEALTHY when its essential containers have
health checks) and still wanted, under its task id, with the address and port its records
carry: the task's own IP in the awsvpc network mode, the host's IP and the container's host
port in the host and bridge modes. It is deregistered as soon as it is to stop, and when its
service is deleted. Keys are ECS service ARNs; a reconcile compares what should be registered
with what Cloud Map holds on the service's behalf (`plan`, pure) and applies the difference.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockyard.controllers.runtime import Runtime
from dockyard.controllers.service_observe import has_health_check, service_tasks, target_of
from dockyard.core.clock import Clock
from dockyard.core.discovery import ServiceRegistries
from dockyard.core.taskspec import DesiredStatus, NetworkMode
from dockyard.services.ecs.deployments.model import EcsService, ServiceStatus
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.model import LastStatus, Task

log = logging.getLogger(__name__)

RESYNC = 5.0  # every service with registries (and every owner gone) is looked at this often

Key = tuple[str, str]  # (registry ARN, instance id)


@dataclass(slots=True)
class Plan:
    register: dict[Key, dict[str, str]] = field(default_factory=dict)
    deregister: list[Key] = field(default_factory=list)


def plan(desired: dict[Key, dict[str, str]], current: dict[Key, dict[str, str]]) -> Plan:
    """Register what is missing or changed, deregister what should no longer be there."""
    out = Plan()
    for key, attributes in sorted(desired.items()):
        if current.get(key) != attributes:
            out.register[key] = attributes
    out.deregister = sorted(key for key in current if key not in desired)
    return out


def discoverable(task: Task) -> bool:
    if task.desired_status != DesiredStatus.RUNNING or task.last_status != LastStatus.RUNNING:
        return False
    return not has_health_check(task) or task.health_status == "HEALTHY"


def endpoint(ecs: Ecs, task: Task, entry: dict[str, Any]) -> tuple[str, int | None] | None:
    """The IPv4 address and port a task's records carry for one registry entry."""
    name, container_port, port = (
        entry.get("containerName"), entry.get("containerPort"), entry.get("port")
    )  # fmt: skip
    if task.spec.network_mode == NetworkMode.AWSVPC:
        ip = task.attachment.private_ip if task.attachment else None
        if not ip:
            return None
        return ip, int(port) if port is not None else (
            int(container_port) if container_port is not None else None
        )
    if name is None or container_port is None:
        instance = ecs.instances.by_arn.get(task.host_arn)
        return (instance.host_ip, None) if instance else None
    target = target_of(ecs, task, {"containerName": name, "containerPort": container_port})
    return (target.address, target.port) if target else None


def attributes_of(
    ecs: Ecs, service: EcsService, task: Task, entry: dict[str, Any]
) -> dict[str, str] | None:
    found = endpoint(ecs, task, entry)
    if found is None:
        return None
    ip, port = found
    scope = service.scope
    out = {
        "AWS_INSTANCE_IPV4": ip,
        "AVAILABILITY_ZONE": task.availability_zone or f"{scope.region}a",
        "REGION": scope.region,
        "ECS_CLUSTER_NAME": service.cluster_arn.rsplit("/", 1)[-1],
        "ECS_SERVICE_NAME": service.name,
        "ECS_TASK_DEFINITION_FAMILY": task.family,
    }
    if port is not None:
        out["AWS_INSTANCE_PORT"] = str(port)
    instance = ecs.instances.by_arn.get(task.host_arn)
    if instance is not None and task.spec.network_mode != NetworkMode.AWSVPC:
        out["EC2_INSTANCE_ID"] = instance.ec2_instance_id
    return out


def desired(ecs: Ecs, service: EcsService | None) -> dict[Key, dict[str, str]]:
    if service is None or service.status == ServiceStatus.INACTIVE:
        return {}
    out: dict[Key, dict[str, str]] = {}
    for task in service_tasks(ecs, service):
        if not discoverable(task):
            continue
        for entry in service.service_registries:
            attributes = attributes_of(ecs, service, task, entry)
            if attributes is not None:
                out[(str(entry["registryArn"]), task.arn.rsplit("/", 1)[-1])] = attributes
    return out


class RegistryController:
    def __init__(
        self, ecs: Ecs, registries: ServiceRegistries, clock: Clock, *, resync: float = RESYNC
    ) -> None:
        self.ecs = ecs
        self.registries = registries
        self.clock = clock
        self.resync = resync
        self.runtime = Runtime("ecs-service-registries", self.reconcile, clock, workers=1)
        self._unsubscribe: list[Callable[[], None]] = []
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._unsubscribe.append(self.ecs.services.watch(lambda s: self._enqueue(s.arn)))
        self._unsubscribe.append(self.ecs.events.subscribe(self._ecs_event))
        self.runtime.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="registries")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.runtime.stop()

    def _enqueue(self, service_arn: str) -> None:
        self.runtime.enqueue(service_arn)

    def _ecs_event(self, event: dict[str, Any]) -> None:
        if event.get("detail-type") != "ECS Task State Change":
            return
        detail = event.get("detail") or {}
        service = self.ecs.services.by_group(
            str(detail.get("clusterArn") or ""), str(detail.get("group") or "")
        )
        if service is not None and service.service_registries:
            self._enqueue(service.arn)

    def keys(self) -> set[str]:
        """Services with registries, and everyone Cloud Map holds instances for."""
        wanted = {
            s.arn for s in self.ecs.services.by_arn.values()
            if s.service_registries and s.status != ServiceStatus.INACTIVE
        }  # fmt: skip
        return wanted | self.registries.owners()

    async def _sweep(self) -> None:
        while True:
            try:
                for key in self.keys():
                    self._enqueue(key)
            except Exception:
                log.exception("service registries sweep failed")
            await self.clock.sleep(self.resync)

    async def reconcile(self, key: str) -> float | None:
        service = self.ecs.services.by_arn.get(key)
        decided = plan(desired(self.ecs, service), self.registries.owned(key))
        for registry_arn, instance_id in decided.deregister:
            self.registries.deregister(registry_arn, instance_id)
            log.info("deregistered task %s from %s", instance_id, registry_arn,
                     extra={"service": key})  # fmt: skip
        for (registry_arn, instance_id), attributes in decided.register.items():
            try:
                self.registries.register(registry_arn, instance_id, attributes, key)
            except Exception as exc:  # the Cloud Map service was deleted, ...
                log.warning("cannot register task %s in %s: %s", instance_id, registry_arn, exc,
                            extra={"service": key})  # fmt: skip
                continue
            log.info("registered task %s in %s", instance_id, registry_arn,
                     extra={"service": key})  # fmt: skip
        return None
