"""The EC2 instance controller: makes each instance's machine what its state asks and moves
the state as the machine does. Level-triggered: every pass reads all instances and the
hosts `HostRuntime` has, asks the pure `ec2_instances_plan.plan` what to do for each, and
does it through the runtime and the `Instances` domain API (pending -> boot -> running;
stopping -> halt -> stopped; shutting-down -> destroy -> terminated; a running host whose
process tree died -> stopped, instance initiated). A failed step is logged and retried on
the next pass.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Awaitable

from dockyard.controllers.ec2_instances_plan import Step, plan
from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.hosts import HostAddress, HostRuntime, HostSpec
from dockyard.services.ec2.instances.instances import private_dns
from dockyard.services.ec2.instances.model import Instance
from dockyard.services.ec2.network.model import Subnet, Vpc
from dockyard.services.ec2.service import Ec2

log = logging.getLogger(__name__)

INTERVAL = 2.0  # seconds between passes
CLUSTER = re.compile(rb"ECS_CLUSTER=[\"']?([A-Za-z0-9_-]{1,255})")


def user_data_of(instance: Instance) -> bytes:
    if not instance.user_data:
        return b""
    try:
        return base64.b64decode(instance.user_data, validate=True)
    except (binascii.Error, ValueError):
        return b""


def cluster_of(user_data: bytes) -> str:
    """The cluster an ECS-optimized host joins: `ECS_CLUSTER=` of its user data."""
    found = CLUSTER.search(user_data)
    return found.group(1).decode() if found else "default"


class InstanceController:
    def __init__(self, ec2: Ec2, runtime: HostRuntime, clock: Clock) -> None:
        self.ec2 = ec2
        self.runtime = runtime
        self.clock = clock

    def spec(self, instance: Instance) -> HostSpec:
        records = self.ec2.records
        vpc = records.find(instance.scope, instance.vpc_id, Vpc)
        subnet = records.find(instance.scope, instance.subnet_id, Subnet)
        image = self.ec2.images.get(instance.scope, instance.image_id)
        user_data = user_data_of(instance)
        return HostSpec(
            instance_id=instance.id,
            image_id=instance.image_id,
            boot=image.boot,
            address=HostAddress(
                vpc_id=instance.vpc_id,
                vpc_cidr=vpc.cidr if vpc else "",
                subnet_cidr=subnet.cidr if subnet else "",
                private_ip=instance.private_ip,
                mac=instance.mac,
            ),
            hostname=private_dns(instance.region, instance.private_ip),
            user_data=user_data,
            cluster=cluster_of(user_data),
        )

    async def reconcile(self) -> None:
        """One pass over every instance and every host."""
        hosts = set(self.runtime.hosts())
        seen: set[str] = set()
        for scope in self.ec2.instances.scopes():
            for instance in self.ec2.instances.all(scope):
                seen.add(instance.id)
                exists = instance.id in hosts
                alive = exists and self.runtime.running(instance.id)
                await self._do(instance, plan(instance.state, exists, alive))
        for orphan in sorted(hosts - seen):
            await self._guarded(orphan, self.runtime.destroy(orphan))

    async def _guarded(self, instance_id: str, step: Awaitable[None]) -> bool:
        try:
            await step
        except (OSError, ServiceError, RuntimeError):
            log.exception(
                "instance %s: the host step failed; retried on the next pass", instance_id
            )
            return False
        return True

    def _unchanged(self, instance: Instance) -> Instance | None:
        """The record now, if no call moved its state while the machine was busy."""
        now = self.ec2.records.find(instance.scope, instance.id, Instance)
        return now if now is not None and now.state == instance.state else None

    async def _do(self, instance: Instance, step: Step) -> None:
        domain = self.ec2.instances
        match step:
            case Step.BOOT:
                if await self._guarded(instance.id, self.runtime.boot(self.spec(instance))):
                    current = self._unchanged(instance)
                    if current is not None and self.runtime.running(instance.id):
                        domain.booted(current)
            case Step.HALT:
                if await self._guarded(instance.id, self.runtime.halt(instance.id)):
                    current = self._unchanged(instance)
                    if current is not None:
                        domain.halted(current)
            case Step.DESTROY:
                if await self._guarded(instance.id, self.runtime.destroy(instance.id)):
                    current = self._unchanged(instance)
                    if current is not None:
                        domain.destroyed(current)
            case Step.REMOVE:
                await self._guarded(instance.id, self.runtime.destroy(instance.id))
            case Step.DIED:
                domain.died(instance)
            case Step.NOTHING:
                pass

    async def run(self, interval: float = INTERVAL) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:  # a pass must never end the loop
                log.exception("EC2 instance controller pass failed")
            await self.clock.sleep(interval)
