"""ECS with a real EC2 Auto Scaling behind its `AutoScalingGroups` port (the adapter the
server wires), on one manual clock: for the capacity provider and cluster auto scaling
tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockyard.core.metrics import Datum
from dockyard.services.ec2autoscaling.model import Group
from dockyard.services.ec2autoscaling.ports import ServedGroups
from dockyard.services.ecs import Ecs
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from tests.unit.services.ec2autoscaling.fakes import World, make_group, world
from tests.unit.services.ecs.tasks_harness import Client, make_ecs, make_link


@dataclass
class Metrics:
    data: list[tuple[str, str, Datum]]

    def publish(self, account_id: str, region: str, data: list[Datum]) -> None:
        self.data.extend((account_id, region, d) for d in data)


@dataclass
class Setup:
    w: World
    ecs: Ecs
    client: Client
    link: EmbeddedLink
    metrics: Metrics

    def group(self, name: str = "web") -> Group:
        return self.w.asg.groups[f"123456789012/us-east-1/group/{name}"]

    def provider(self, name: str = "cp", group: str = "web", **asg: Any) -> dict[str, Any]:
        out = self.client(
            "CreateCapacityProvider",
            name=name,
            autoScalingGroupProvider={"autoScalingGroupArn": self.group(group).arn, **asg},
        )
        provider: dict[str, Any] = out["capacityProvider"]
        return provider


def setup(**group: Any) -> Setup:
    w = world()
    ecs = make_ecs(clock=w.clock)
    ecs.capacity_providers.groups = ServedGroups(w.asg)
    make_group(w, "web", MinSize=0, DesiredCapacity=0, **group)
    return Setup(w, ecs, Client(ecs), make_link(ecs), Metrics([]))


SCALING = {"status": "ENABLED", "targetCapacity": 100}
