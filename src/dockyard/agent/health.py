"""Container health checks, with Docker's semantics (interval, timeout, retries, startPeriod).

The process driver runs the command itself (`exec_health_check`, in the task's namespace);
an engine that runs checks (Docker) is only read (`engine_health`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dockyard.core.clock import Clock
from dockyard.core.taskspec import ContainerSpec, HealthCheckSpec
from dockyard.drivers.base import Driver

log = logging.getLogger(__name__)

HEALTHY = "HEALTHY"
UNHEALTHY = "UNHEALTHY"
UNKNOWN = "UNKNOWN"
ENGINE_POLL = 1.0


class HealthTracker:
    """Pure state: feed it check results, read `status`."""

    def __init__(self, spec: HealthCheckSpec, started_at: float) -> None:
        self.spec = spec
        self.started_at = started_at
        self.status = UNKNOWN
        self.failures = 0

    def record(self, ok: bool, now: float) -> str:
        if ok:
            self.failures = 0
            self.status = HEALTHY
        elif now - self.started_at < self.spec.start_period and self.status != HEALTHY:
            pass  # failures in the start period do not count
        else:
            self.failures += 1
            if self.failures >= max(1, self.spec.retries):
                self.status = UNHEALTHY
        return self.status


async def monitor(
    driver: Driver,
    engine_health: bool,
    clock: Clock,
    container: ContainerSpec,
    runtime_id: str,
    on_status: Callable[[str], None],
) -> None:
    """Runs until cancelled, calling `on_status` whenever the container's health changes."""
    spec = container.health_check
    if spec is None:
        return
    current = UNKNOWN
    if engine_health:
        while True:
            status = await driver.engine_health(runtime_id)
            if status != current:
                current = status
                on_status(status)
            await clock.sleep(ENGINE_POLL)
    tracker = HealthTracker(spec, clock.now())
    while True:
        await clock.sleep(spec.interval)
        try:
            ok = await driver.exec_health_check(runtime_id, spec.command, spec.timeout)
        except Exception:
            log.exception("health check of %s failed to run", container.name)
            ok = False
        status = tracker.record(ok, clock.now())
        if status != current:
            current = status
            on_status(status)


def task_health(containers: list[ContainerSpec], statuses: dict[str, str]) -> str:
    """UNHEALTHY if any essential container is; HEALTHY when every essential container with a
    health check is; UNKNOWN otherwise (ECS's rules)."""
    checked = [c for c in containers if c.essential and c.health_check is not None]
    if any(statuses.get(c.name) == UNHEALTHY for c in checked):
        return UNHEALTHY
    if checked and all(statuses.get(c.name) == HEALTHY for c in checked):
        return HEALTHY
    return UNKNOWN
