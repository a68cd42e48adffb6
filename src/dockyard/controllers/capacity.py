"""Cluster auto scaling: the controller of capacity providers on Auto Scaling groups.

Every few seconds of clock time, for each capacity provider with a group:

1. `managed.sync` keeps on the group what ECS manages there (a target tracking policy per
   associated cluster, the draining hook), so an association made by CreateCluster, a
   deleted cluster or a refused call is caught up with;
2. container instances of this cluster whose EC2 instance is in the group join the
   provider (`capacityProviderName`), as ECS records it;
3. tasks waiting in PROVISIONING are placed on the provider's ACTIVE instances, if they
   fit now;
4. the pure plan (`capacity_plan.plan`) says what to publish, which instances to protect
   from scale-in or release, which to drain, whose lifecycle action to complete, and which
   waiting tasks ran out of time; this applies it.

`CapacityProviderReservation` is published once a minute (the minute's timestamp), per
ClusterName and CapacityProviderName, to `AWS/ECS/ManagedScaling` through the metric sink,
so the group's own target tracking alarms scale it.
"""

from __future__ import annotations

import logging

from dockyard.controllers.capacity_plan import Host, Observed, Plan, Settings, Waiting, plan
from dockyard.controllers.runtime import Runtime
from dockyard.core.autoscalinggroups import GroupRequestRefused, GroupView
from dockyard.core.clock import Clock
from dockyard.core.metrics import Datum, MetricSink
from dockyard.core.scope import Scope
from dockyard.services.ecs.capacity import managed
from dockyard.services.ecs.capacity.domain import CapacityProvider, ProviderStatus
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.deployments.model import SchedulingStrategy
from dockyard.services.ecs.instances.domain import ContainerInstance, InstanceStatus
from dockyard.services.ecs.instances.wire import record_instance_event
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.model import StopCode, Task

log = logging.getLogger(__name__)

KEY = "capacity"
INTERVAL = 5.0  # seconds between reconciles
PERIOD = 60
EXPIRED_REASON = (
    "Capacity provider could not provide capacity for this task within 30 minutes: "
    "it stayed in PROVISIONING."
)


def settings_of(provider: CapacityProvider) -> Settings:
    asg = provider.auto_scaling_group_provider
    scaling = asg.get("managedScaling") or {}
    return Settings(
        target_capacity=int(scaling.get("targetCapacity", 100)),
        min_step=int(scaling.get("minimumScalingStepSize", 1)),
        max_step=int(scaling.get("maximumScalingStepSize", 10000)),
        scaling=scaling.get("status") == "ENABLED",
        termination_protection=asg.get("managedTerminationProtection") == "ENABLED",
        draining=asg.get("managedDraining") == "ENABLED",
        draining_hook=managed.DRAINING_HOOK,
    )


def scope_of_arn(arn: str) -> Scope:
    parts = arn.split(":")
    return Scope(parts[4], parts[3])


def is_daemon(ecs: Ecs, task: Task) -> bool:
    if not task.group.startswith("service:"):
        return False
    service = ecs.services.find(scope_of_arn(task.arn), task.cluster_arn,
                                task.group.removeprefix("service:"))  # fmt: skip
    return service is not None and service.scheduling_strategy == SchedulingStrategy.DAEMON


def members_in_cluster(
    ecs: Ecs, cluster: Cluster, provider: CapacityProvider, group: GroupView
) -> dict[str, ContainerInstance]:
    """EC2 instance id -> its container instance in this cluster (ACTIVE or DRAINING)."""
    ids = {m.instance_id for m in group.members}
    return {
        i.ec2_instance_id: i
        for i in ecs.instances.in_cluster(cluster.arn, ("ACTIVE", "DRAINING"))
        if i.ec2_instance_id in ids or i.capacity_provider_name == provider.name
    }


def observe(ecs: Ecs, cluster: Cluster, provider: CapacityProvider,
            group: GroupView) -> Observed:  # fmt: skip
    instances = members_in_cluster(ecs, cluster, provider, group)
    hosts = []
    for m in group.members:
        inst = instances.get(m.instance_id)
        tasks = ecs.tasks.assigned(inst.arn) if inst is not None else []
        hosts.append(Host(
            instance_id=m.instance_id, lifecycle_state=m.lifecycle_state, protected=m.protected,
            waiting_hook=m.waiting_hook, container_instance=inst.arn if inst else None,
            status=inst.status if inst else "ACTIVE", cpu=inst.cpu if inst else 0,
            memory=inst.memory if inst else 0,
            tasks=sum(1 for t in tasks if not is_daemon(ecs, t)), all_tasks=len(tasks),
        ))  # fmt: skip
    waiting = []
    for task in ecs.tasks.waiting(cluster.arn):
        if task.capacity_provider_name != provider.name:
            continue
        needs, _ = ecs.tasks.needs_of(task)
        waiting.append(Waiting(task.arn, needs.cpu, needs.memory, len(needs.ports),
                               task.created_at))  # fmt: skip
    return Observed(settings_of(provider), tuple(hosts), tuple(waiting))


class CapacityController:
    def __init__(self, ecs: Ecs, sink: MetricSink | None, clock: Clock) -> None:
        self.ecs = ecs
        self.sink = sink
        self.clock = clock
        self.published: float | None = None  # the last minute published
        self.plans: dict[tuple[str, str], Plan] = {}  # (cluster ARN, provider) -> last plan
        self.runtime = Runtime("capacity", self.reconcile, clock, workers=1)

    def start(self) -> None:
        self.runtime.start()
        self.runtime.enqueue(KEY)

    async def stop(self) -> None:
        await self.runtime.stop()

    def wake(self, *_args: object) -> None:
        """Something changed (a task, an instance, a group): reconcile soon."""
        self.runtime.enqueue(KEY)

    async def reconcile(self, key: str) -> float | None:
        self.step()
        return INTERVAL

    def step(self) -> None:
        """One pass over every provider (synchronous: every call it makes is in memory)."""
        groups = self.ecs.capacity_providers.groups
        if groups is None:
            return
        now = self.clock.now()
        minute = now - now % PERIOD
        publish = self.published is None or minute > self.published
        data: dict[Scope, list[Datum]] = {}
        for provider in sorted(self.ecs.capacity_providers.by_arn.values(), key=lambda p: p.arn):
            if provider.status != ProviderStatus.ACTIVE and not provider.cleanup:
                continue
            scope = scope_of_arn(provider.arn)
            try:
                managed.sync(self.ecs, scope, provider)
            except Exception:  # one provider's trouble never stops the others
                log.exception("capacity provider %s: sync failed", provider.name,
                              extra={"arn": provider.arn})  # fmt: skip
            if provider.status != ProviderStatus.ACTIVE or not provider.group_name:
                continue
            group = groups.group(scope, provider.group_name)
            if group is None:
                continue
            for cluster_arn in self._clusters(provider):
                cluster = self.ecs.clusters.by_arn[cluster_arn]
                result = self._one(scope, cluster, provider, group, now)
                if publish and result is not None and settings_of(provider).scaling:
                    dims = (("CapacityProviderName", provider.name),
                            ("ClusterName", cluster.name))  # fmt: skip
                    data.setdefault(scope, []).append(Datum(
                        managed.NAMESPACE, managed.METRIC, dims, minute, "Percent",
                        value=result.reservation))  # fmt: skip
        if publish:
            self.published = minute
            if self.sink is not None:
                for scope, batch in data.items():
                    self.sink.publish(scope.account_id, scope.region, batch)

    def _clusters(self, provider: CapacityProvider) -> list[str]:
        prefix = provider.arn.split(":capacity-provider/")[0] + ":cluster/"
        return sorted(
            c.arn
            for c in self.ecs.clusters.by_arn.values()
            if c.status == "ACTIVE"
            and c.arn.startswith(prefix)
            and provider.name in c.capacity_providers
        )

    def _one(self, scope: Scope, cluster: Cluster, provider: CapacityProvider,
             group: GroupView, now: float) -> Plan | None:  # fmt: skip
        groups = self.ecs.capacity_providers.groups
        assert groups is not None
        instances = members_in_cluster(self.ecs, cluster, provider, group)
        for inst in instances.values():
            if inst.capacity_provider_name is None:
                inst.capacity_provider_name = provider.name
                inst.version += 1
                self.ecs.instances.save(inst)
        pool = [i for i in instances.values() if i.status == InstanceStatus.ACTIVE]
        self.ecs.tasks.place_waiting(cluster.arn, provider.name, pool)
        result = plan(observe(self.ecs, cluster, provider, group), now)
        self.plans[(cluster.arn, provider.name)] = result
        for arn in result.expire:
            task = self.ecs.tasks.by_arn.get(arn)
            if task is not None:
                self.ecs.tasks.stop(task, StopCode.TASK_FAILED_TO_START, EXPIRED_REASON)
        by_arn = {i.arn: i for i in instances.values()}
        for arn in result.drain:
            inst = by_arn[arn]
            inst.status = InstanceStatus.DRAINING
            inst.version += 1
            self.ecs.instances.save(inst)
            record_instance_event(self.ecs, inst)
            log.info("container instance %s draining: its EC2 instance is terminating", arn,
                     extra={"arn": arn})  # fmt: skip
        try:
            if result.protect:
                groups.set_protection(scope, group.name, result.protect, True)
            if result.unprotect:
                groups.set_protection(scope, group.name, result.unprotect, False)
            for instance_id in result.complete:
                groups.complete_lifecycle_action(scope, group.name, managed.DRAINING_HOOK,
                                                 instance_id, "CONTINUE")  # fmt: skip
        except GroupRequestRefused as exc:
            log.warning("capacity provider %s: group %s refused: %s", provider.name,
                        group.name, exc, extra={"arn": provider.arn})  # fmt: skip
        return result
