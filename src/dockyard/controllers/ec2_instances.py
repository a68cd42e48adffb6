"""The EC2 instance controller: makes each instance's machine what its state asks and moves
the state as the machine does. Level-triggered: every pass reads all instances and the
hosts `HostRuntime` has, asks the pure `ec2_instances_plan.plan` what to do for each, and
does it through the runtime and the `Instances` domain API (pending -> boot -> running;
stopping -> halt -> stopped; shutting-down -> destroy -> terminated; a running host whose
process tree died -> stopped, instance initiated). A host that cannot boot terminates its
instance with `Server.InternalError` and what went wrong; a failed halt or destroy is logged
and retried on the next pass.

Each pass also resolves every running instance's security groups to ingress rules
(`services/ec2/instances/firewall.py`) and hands the runtime those that differ from what it
was last given, so a changed rule or a member coming or going reaches the firewall within a
pass.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping

from dockyard.controllers.ec2_instances_plan import Step, plan
from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.hosts import BootKind, HostAddress, HostRuntime, HostSpec, IngressRule
from dockyard.services.ec2.instances import firewall
from dockyard.services.ec2.instances.instances import private_dns
from dockyard.services.ec2.instances.model import Instance, InstanceState
from dockyard.services.ec2.network.model import SecurityGroup, Subnet, Vpc
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


# What an ECS-optimized host is handed in its environment to join its cluster (a join
# token): called with the instance and the cluster, at each boot.
SecretEnv = Callable[[Instance, str], Mapping[str, str]]


class InstanceController:
    def __init__(
        self,
        ec2: Ec2,
        runtime: HostRuntime,
        clock: Clock,
        *,
        agent_env: SecretEnv | None = None,
        balancer_groups: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.ec2 = ec2
        self.runtime = runtime
        self.clock = clock
        self.agent_env = agent_env
        self.balancer_groups = balancer_groups
        self.applied: dict[str, tuple[IngressRule, ...]] = {}  # instance id -> last rules

    def spec(self, instance: Instance) -> HostSpec:
        records = self.ec2.records
        vpc = records.find(instance.scope, instance.vpc_id, Vpc)
        subnet = records.find(instance.scope, instance.subnet_id, Subnet)
        image = self.ec2.images.get(instance.scope, instance.image_id)
        user_data = user_data_of(instance)
        cluster = cluster_of(user_data)
        secret_env: Mapping[str, str] = {}
        if image.boot == BootKind.ECS_AGENT and self.agent_env is not None:
            secret_env = self.agent_env(instance, cluster)
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
            cluster=cluster,
            secret_env=secret_env,
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
                reboot = instance.reboots > instance.rebooted
                await self._do(instance, plan(instance.state, exists, alive, reboot))
        for orphan in sorted(hosts - seen):
            await self._guarded(orphan, self.runtime.destroy(orphan))
        await self.apply_firewalls()

    def desired_firewalls(self) -> dict[str, tuple[IngressRule, ...]]:
        """Each running instance's ingress rules, its groups' sources resolved."""
        balancer_groups = set(self.balancer_groups()) if self.balancer_groups else set()
        records = self.ec2.records
        out: dict[str, tuple[IngressRule, ...]] = {}
        for scope in self.ec2.instances.scopes():
            everything = self.ec2.instances.all(scope)
            members = firewall.members(everything)
            groups = {g.id: g for g in records.all(scope, SecurityGroup)}
            for instance in everything:
                if instance.state != InstanceState.RUNNING:
                    continue
                subnet = records.find(scope, instance.subnet_id, Subnet)
                out[instance.id] = firewall.ingress(
                    instance, groups, members, balancer_groups, subnet
                )
        return out

    async def apply_firewalls(self) -> None:
        desired = self.desired_firewalls()
        for gone in set(self.applied) - set(desired):
            del self.applied[gone]
        for instance_id, rules in sorted(desired.items()):
            if self.applied.get(instance_id) == rules:
                continue
            if await self._guarded(instance_id, self.runtime.firewall(instance_id, rules)):
                self.applied[instance_id] = rules

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
                await self._boot(instance)
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
            case Step.REBOOT:
                await self._reboot(instance)
            case Step.DIED:
                domain.died(instance)
            case Step.NOTHING:
                pass

    async def _reboot(self, instance: Instance) -> None:
        """Halt and boot the host again; the instance stays running (as EC2's do)."""
        if not await self._guarded(instance.id, self.runtime.halt(instance.id)):
            return
        booted = await self._guarded(instance.id, self.runtime.boot(self.spec(instance)))
        current = self._unchanged(instance)
        if booted and current is not None:
            self.ec2.instances.restarted(current, instance.reboots)
            self.applied.pop(instance.id, None)

    async def _boot(self, instance: Instance) -> None:
        try:
            await self.runtime.boot(self.spec(instance))
            problem = None if self.runtime.running(instance.id) else "its boot program exited"
        except Exception as exc:  # whatever the machine says, the instance cannot run
            problem = str(exc) or type(exc).__name__
        current = self._unchanged(instance)
        if current is None:
            return  # stopped or terminated meanwhile: the next pass does what that asks
        if problem is None:
            domain_booted = self.ec2.instances.booted(current)
            self.applied.pop(domain_booted.id, None)  # a new host has a new firewall
            return
        log.warning("instance %s could not boot: %s", instance.id, problem)
        await self._guarded(instance.id, self.runtime.destroy(instance.id))
        self.ec2.instances.failed(current, problem)

    async def run(self, interval: float = INTERVAL) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:  # a pass must never end the loop
                log.exception("EC2 instance controller pass failed")
            await self.clock.sleep(interval)
