"""Sampling what the containers on this host use, for the server's `AWS/ECS` metrics.

Every `interval` seconds of the task clock the agent reads each running container's
cumulative CPU time and its memory from the driver; CPU use is the difference from the
previous reading over the wall time between them, in CPU units (1024 per core).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from dockyard.agent.runner import TaskRunner
from dockyard.core.agentstats import ContainerStats, StatsLink
from dockyard.core.clock import Clock
from dockyard.drivers.base import Usage, UsageDriver

log = logging.getLogger(__name__)

CPU_UNITS_PER_CORE = 1024
MIB = 1024 * 1024
INTERVAL = 20.0  # seconds of the task clock between samples


def cpu_units(previous: Usage, current: Usage) -> float:
    wall = current.measured_at - previous.measured_at
    if wall <= 0:
        return 0.0
    used = max(0, current.cpu_ns - previous.cpu_ns) / 1e9
    return used / wall * CPU_UNITS_PER_CORE


class StatsSampler:
    def __init__(self, driver: UsageDriver, clock: Clock) -> None:
        self.driver = driver
        self.clock = clock
        self._previous: dict[str, Usage] = {}  # runtime id -> last reading

    async def sample(self, runners: Iterable[TaskRunner]) -> list[ContainerStats]:
        """One reading of every running container; containers seen for the first time give
        their CPU use from the next reading on."""
        out: list[ContainerStats] = []
        alive: set[str] = set()
        now = self.clock.now()
        for runner in list(runners):
            for container in runner.status.containers:
                rid = container.runtime_id
                if rid is None or container.status != "RUNNING":
                    continue
                try:
                    current = await self.driver.usage(rid)
                except Exception as exc:
                    log.debug("cannot measure container %s: %s", rid, exc)
                    continue
                if current is None:
                    continue
                alive.add(rid)
                previous = self._previous.get(rid)
                self._previous[rid] = current
                if previous is None:
                    continue
                out.append(ContainerStats(
                    runner.spec.task_arn, container.name, cpu_units(previous, current),
                    current.memory_bytes / MIB, now,
                ))  # fmt: skip
        for rid in set(self._previous) - alive:
            del self._previous[rid]
        return out


async def report_loop(
    link: StatsLink,
    sampler: StatsSampler,
    instance_arn: Callable[[], str | None],
    runners: dict[str, TaskRunner],
    interval: float = INTERVAL,
) -> None:
    """Sample and report until cancelled; a failed report is dropped (the next one follows)."""
    while True:
        await sampler.clock.sleep(interval)
        try:
            stats = await sampler.sample(runners.values())
            arn = instance_arn()
            if stats and arn is not None:
                await link.report_stats(arn, stats)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("cannot report container stats: %s", exc)
