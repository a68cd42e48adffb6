"""Agents that stopped heartbeating: disconnected first, their tasks stopped after a grace.

Agents heartbeat every 10 s. An instance without a heartbeat (or report) for `timeout`
(30 s: three missed) is `agentConnected: false`, so placement skips it (reason AGENT). Still
disconnected after `grace` more (60 s), its tasks are STOPPED with stop code
TerminationNotice; services replace them on other instances. An agent that comes back later
finds those tasks no longer assigned and stops whatever of them still runs. All times are
the injected clock's, so `--time-scale` shortens them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.services.ecs.instances.domain import ContainerInstance, InstanceStatus
from dockyard.services.ecs.instances.wire import record_instance_event
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.lifecycle import host_lost
from dockyard.services.ecs.tasks.model import StopCode

log = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT = 30.0
DISCONNECT_GRACE = 60.0
CHECK_EVERY = 2.0


@dataclass(frozen=True, slots=True)
class HostState:
    arn: str
    connected: bool
    last_contact: float | None  # the last heartbeat or report, None if never since start
    disconnected_since: float | None  # when it was last seen to disconnect
    active_tasks: int


@dataclass(frozen=True, slots=True)
class HealthPlan:
    disconnect: tuple[str, ...] = ()
    evict: tuple[str, ...] = ()  # hosts whose tasks are stopped


def plan(hosts: Sequence[HostState], now: float, timeout: float, grace: float) -> HealthPlan:
    disconnect, evict = [], []
    for h in hosts:
        if h.connected:
            if h.last_contact is None or now - h.last_contact > timeout:
                disconnect.append(h.arn)
        elif (
            h.active_tasks
            and h.disconnected_since is not None
            and now - h.disconnected_since >= grace
        ):
            evict.append(h.arn)
    return HealthPlan(tuple(disconnect), tuple(evict))


def lost_reason(instance: ContainerInstance, grace: float) -> str:
    return (
        f"Task stopped because the container instance's agent is disconnected: host "
        f"{instance.ec2_instance_id} (container instance {instance.id}) sent no heartbeat "
        f"and stayed disconnected for {grace:g} seconds."
    )


class AgentHealth:
    def __init__(
        self,
        ecs: Ecs,
        clock: Clock,
        last_contact: Callable[[str], float | None],
        *,
        timeout: float = HEARTBEAT_TIMEOUT,
        grace: float = DISCONNECT_GRACE,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self.ecs = ecs
        self.clock = clock
        self.last_contact = last_contact
        self.timeout = timeout
        self.grace = grace
        self.check_every = check_every
        self._started = clock.now()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._started = self.clock.now()
        self._task = asyncio.create_task(self._loop(), name="agent-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self.clock.sleep(self.check_every)
            try:
                self.check()
            except Exception:
                log.exception("checking agent heartbeats failed")

    def observe(self) -> list[HostState]:
        hosts = []
        for instance in list(self.ecs.instances.by_arn.values()):
            if instance.status == InstanceStatus.INACTIVE:
                continue
            # After a server restart every agent starts out disconnected: count from then.
            since = max(instance.health_changed_at, self._started)
            hosts.append(
                HostState(
                    arn=instance.arn,
                    connected=instance.agent_connected,
                    last_contact=self.last_contact(instance.arn),
                    disconnected_since=None if instance.agent_connected else since,
                    active_tasks=len(self.ecs.tasks.assigned(instance.arn)),
                )
            )
        return hosts

    def check(self) -> HealthPlan:
        now = self.clock.now()
        decided = plan(self.observe(), now, self.timeout, self.grace)
        for arn in decided.disconnect:
            instance = self.ecs.instances.by_arn[arn]
            if self.ecs.instances.set_connected(instance, False):
                log.warning(
                    "container instance %s missed its heartbeats: agent disconnected",
                    arn,
                    extra={"arn": arn},
                )
                record_instance_event(self.ecs, instance)
        for arn in decided.evict:
            self._evict(self.ecs.instances.by_arn[arn], now)
        return decided

    def _evict(self, instance: ContainerInstance, now: float) -> None:
        reason = lost_reason(instance, self.grace)
        tasks = self.ecs.tasks.assigned(instance.arn)
        for task in tasks:
            if host_lost(task, StopCode.TERMINATION_NOTICE, reason, now):
                self.ecs.tasks.save(task, event=True)
        self.ecs.tasks.notify(instance.arn)
        log.warning(
            "container instance %s stayed disconnected; stopped its %d tasks",
            instance.arn,
            len(tasks),
            extra={"arn": instance.arn},
        )
