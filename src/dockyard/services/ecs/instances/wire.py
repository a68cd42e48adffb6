"""A container instance as DescribeContainerInstances shows it, and the state change event it
sends when it changes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from dockyard.services.ecs.instances.domain import (
    ContainerInstance,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.wire import instance_to_wire, state_change_event


def describe_instance(
    ecs: Ecs, instance: ContainerInstance, include: Collection[str] = ()
) -> dict[str, Any]:
    usage = ecs.tasks.usage(instance.arn)
    return instance_to_wire(
        instance,
        remaining_cpu=instance.cpu - usage.cpu,
        remaining_memory=instance.memory - usage.memory,
        used_ports=usage.ports,
        running=usage.running,
        pending=usage.pending,
        include=include,
    )


def record_instance_event(ecs: Ecs, instance: ContainerInstance) -> None:
    detail = describe_instance(ecs, instance)
    detail["clusterArn"] = instance.cluster_arn
    ecs.events.append(
        state_change_event(
            "ECS Container Instance State Change", instance.arn, detail, ecs.clock.now()
        )
    )
