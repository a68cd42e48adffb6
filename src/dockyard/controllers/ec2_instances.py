"""The EC2 instance controller: makes each instance's machine what its state asks and moves
the state as the machine does. Level-triggered, on the keyed work queue of
`controllers/runtime.py`: one key per instance, enqueued by the `Instances` domain the
moment a call launches, stops, starts, reboots or terminates it (so a new instance boots at
once, not at the next pass), and a sweep every `INTERVAL` that enqueues every instance (a
host whose process tree died is noticed there) and removes hosts no instance names.

Reconciling an instance reads its record and what `HostRuntime` shows of its host (off the
event loop), asks the pure `ec2_instances_plan.plan` what to do and does it through the
runtime and the `Instances` domain API (pending -> boot -> running; stopping -> halt ->
stopped; shutting-down -> destroy -> terminated; a running host whose process tree died ->
stopped, instance initiated). Instances are reconciled side by side (up to `WORKERS`), so a
launch of many boots them together, and a host halting does not hold up another booting. A
host that cannot boot terminates its instance with `Server.InternalError` and what went
wrong; a failed halt or destroy is logged and retried with backoff.

Firewalls are a key of their own: every running instance's security groups resolved to
ingress rules (`services/ec2/instances/firewall.py`), and those that differ from what the
runtime was last given handed to it. It runs every `INTERVAL` and whenever an instance
changed state (a member coming or going changes its groups' rules). A host boots with its
own rules (`HostSpec.rules`), in place before its instance shows `running`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping

from dockyard.controllers.ec2_instances_plan import Step, plan
from dockyard.controllers.runtime import Runtime
from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.hosts import BootKind, HostAddress, HostRuntime, HostSpec, IngressRule
from dockyard.core.scope import Scope
from dockyard.services.ec2.instances import firewall
from dockyard.services.ec2.instances.instances import private_dns
from dockyard.services.ec2.instances.model import Instance, InstanceState
from dockyard.services.ec2.network.model import SecurityGroup, Subnet, Vpc
from dockyard.services.ec2.service import Ec2

log = logging.getLogger(__name__)

INTERVAL = 2.0  # seconds between sweeps (and firewall passes)
WORKERS = 16  # instances reconciled at once
SWEEP = "sweep"  # the work queue's key for "look at every instance and host"
FIREWALLS = "firewalls"  # ... and for "bring every running host's rules up to date"
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
        self.queue = Runtime("ec2-instances", self._reconcile_key, clock, workers=WORKERS)
        self._unwatch: Callable[[], None] | None = None

    def spec(self, instance: Instance, rules: tuple[IngressRule, ...] | None = None) -> HostSpec:
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
            rules=rules,
        )

    # -- the work queue --------------------------------------------------------------------

    def start(self) -> None:
        """Reconcile from now on: every instance at once, then as they change."""
        if self._unwatch is None:
            self._unwatch = self.ec2.instances.watch(self.wake)
        self.queue.start()
        self.queue.enqueue(SWEEP)
        self.queue.enqueue(FIREWALLS)

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        await self.queue.stop()

    async def run(self) -> None:
        """`start`, until cancelled; then `stop`."""
        self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def wake(self, instance: Instance) -> None:
        """A call changed `instance` (the domain's watcher): reconcile it now."""
        self.queue.enqueue(instance_key(instance.scope, instance.id))

    async def _reconcile_key(self, key: str) -> float | None:
        if key == SWEEP:
            await self.sweep()
            return INTERVAL
        if key == FIREWALLS:
            await self.apply_firewalls()
            return INTERVAL
        scope, instance_id = parse_key(key)
        instance = self.ec2.records.find(scope, instance_id, Instance)
        if instance is not None and await self.reconcile_instance(instance):
            self.queue.enqueue(FIREWALLS)
        return None

    async def sweep(self) -> None:
        """Every instance enqueued; hosts that no instance names removed."""
        hosts = set(await self.runtime.hosts())
        seen: set[str] = set()
        for scope in self.ec2.instances.scopes():
            for instance in self.ec2.instances.all(scope):
                seen.add(instance.id)
                self.queue.enqueue(instance_key(scope, instance.id))
        for orphan in sorted(hosts - seen):
            await self._guarded(orphan, self.runtime.destroy(orphan))

    # -- reconciling -------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """One pass over every instance (side by side) and every host, then the firewalls,
        without the work queue."""
        hosts = set(await self.runtime.hosts())
        every = [i for s in self.ec2.instances.scopes() for i in self.ec2.instances.all(s)]
        await asyncio.gather(*(self.reconcile_instance(i) for i in every))
        for orphan in sorted(hosts - {i.id for i in every}):
            await self._guarded(orphan, self.runtime.destroy(orphan))
        await self.apply_firewalls()

    async def reconcile_instance(self, instance: Instance) -> bool:
        """Do what the plan says for one instance; whether it did anything."""
        alive = await self.runtime.running(instance.id)
        exists = alive
        if not alive and instance.state == InstanceState.TERMINATED:
            exists = instance.id in await self.runtime.hosts()
        reboot = instance.reboots > instance.rebooted
        step = plan(instance.state, exists, alive, reboot)
        await self._do(instance, step)
        return step is not Step.NOTHING

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

    def rules_for(self, instance: Instance) -> tuple[IngressRule, ...]:
        """One instance's ingress rules, its groups' sources resolved (running or not)."""
        balancer_groups = set(self.balancer_groups()) if self.balancer_groups else set()
        records = self.ec2.records
        scope = instance.scope
        members = firewall.members(self.ec2.instances.all(scope))
        groups = {g.id: g for g in records.all(scope, SecurityGroup)}
        subnet = records.find(scope, instance.subnet_id, Subnet)
        return firewall.ingress(instance, groups, members, balancer_groups, subnet)

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
        spec = self.spec(instance, rules=self.rules_for(instance))
        booted = await self._guarded(instance.id, self.runtime.boot(spec))
        current = self._unchanged(instance)
        if booted and current is not None:
            self.ec2.instances.restarted(current, instance.reboots)
            self.applied[instance.id] = spec.rules or ()

    async def _boot(self, instance: Instance) -> None:
        # Its security groups hold from the moment it shows running.
        spec = self.spec(instance, rules=self.rules_for(instance))
        try:
            await self.runtime.boot(spec)
            alive = await self.runtime.running(instance.id)
            problem = None if alive else "its boot program exited"
        except Exception as exc:  # whatever the machine says, the instance cannot run
            problem = str(exc) or type(exc).__name__
        current = self._unchanged(instance)
        if current is None:
            return  # stopped or terminated meanwhile: the next pass does what that asks
        if problem is None:
            self.ec2.instances.booted(current)
            self.applied[instance.id] = spec.rules or ()
            return
        log.warning("instance %s could not boot: %s", instance.id, problem)
        await self._guarded(instance.id, self.runtime.destroy(instance.id))
        self.ec2.instances.failed(current, problem)


def instance_key(scope: Scope, instance_id: str) -> str:
    return scope.key(instance_id)


def parse_key(key: str) -> tuple[Scope, str]:
    account_id, region, instance_id = key.split("/", 2)
    return Scope(account_id, region), instance_id
