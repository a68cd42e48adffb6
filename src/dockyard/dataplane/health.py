"""Health checks of targets, as ALB and NLB run them: every interval a probe (an HTTP GET of
the path whose status must match, or a TCP connect) that must answer within the timeout. A
new target is healthy after one passing check; a healthy one turns unhealthy after
`unhealthy_threshold` failures in a row and back after `healthy_threshold` successes.

Each transition (and each change of failure reason) is reported as
`report(target_group_arn, target_key, state, reason, description)`. Intervals and timeouts
run on the injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.dataplane.config import HealthCheckConfig, TargetGroupConfig
from dockyard.dataplane.upstream import client_tls

log = logging.getLogger(__name__)

Report = Callable[[str, str, str, "str | None", "str | None"], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    reason: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    host: str
    port: int
    check: HealthCheckConfig


def matches(matcher: tuple[tuple[int, int], ...], status: int) -> bool:
    return any(lo <= status <= hi for lo, hi in matcher)


async def probe_http(spec: ProbeSpec) -> Outcome:
    tls = client_tls() if spec.check.protocol == "HTTPS" else None
    try:
        reader, writer = await asyncio.open_connection(spec.host, spec.port, ssl=tls)
    except OSError:
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    try:
        writer.write(
            f"GET {spec.check.path} HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\n"
            "User-Agent: ELB-HealthChecker/2.0\r\nAccept-Encoding: gzip, compressed\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        line = await reader.readline()
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
        status = int(parts[1])
        if matches(spec.check.matcher, status):
            return Outcome(True)
        return Outcome(
            False,
            "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{status}]",
        )
    except OSError:
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def probe_tcp(spec: ProbeSpec) -> Outcome:
    try:
        _, writer = await asyncio.open_connection(spec.host, spec.port)
    except OSError:
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(True)


class HealthChecker:
    def __init__(self, clock: Clock, report: Report) -> None:
        self.clock = clock
        self.report = report
        self._probes: dict[tuple[str, str], tuple[ProbeSpec, asyncio.Task[None]]] = {}

    def apply(self, groups: Mapping[str, TargetGroupConfig]) -> None:
        """Probe exactly the targets that need it: registered, not draining, in a target group
        that a listener uses and whose health checks are on."""
        wanted: dict[tuple[str, str], tuple[ProbeSpec, str]] = {}
        for group in groups.values():
            if not group.in_use or not group.health.enabled:
                continue
            for target in group.targets:
                if target.state == "draining":
                    continue
                port = group.health.port or target.port
                wanted[(group.arn, target.key)] = (
                    ProbeSpec(target.host, port, group.health),
                    target.state,
                )
        for key in list(self._probes):
            spec, task = self._probes[key]
            if key not in wanted or wanted[key][0] != spec:
                task.cancel()
                del self._probes[key]
        for key, (spec, state) in wanted.items():
            if key not in self._probes:
                task = asyncio.get_running_loop().create_task(
                    self._run(key[0], key[1], spec, state), name=f"health {key[1]}"
                )
                self._probes[key] = (spec, task)

    def stop(self) -> None:
        for _, task in self._probes.values():
            task.cancel()
        self._probes.clear()

    async def _once(self, spec: ProbeSpec) -> Outcome:
        probe = probe_tcp(spec) if spec.check.protocol == "TCP" else probe_http(spec)
        task = asyncio.ensure_future(probe)
        timer = asyncio.ensure_future(self.clock.sleep(spec.check.timeout))
        try:
            done, _ = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if task in done:
            return task.result()
        task.cancel()
        return Outcome(False, "Target.Timeout", "Request timed out")

    async def _run(self, tg_arn: str, key: str, spec: ProbeSpec, state: str) -> None:
        check = spec.check
        successes = failures = 0
        reason: str | None = None
        description: str | None = None
        if state not in ("healthy", "unhealthy"):
            state = "initial"
        while True:
            try:
                outcome = await self._once(spec)
            except asyncio.CancelledError:
                raise
            except Exception:  # a probe must never end the loop
                log.exception("health check of %s failed unexpectedly", key)
                outcome = Outcome(False, "Elb.InternalError", "Health checks failed")
            if outcome.ok:
                successes, failures = successes + 1, 0
            else:
                successes, failures = 0, failures + 1
            new = step(state, reason, description, outcome, successes, failures, check)
            if new != (state, reason, description):
                self.report(tg_arn, key, *new)
            state, reason, description = new
            await self.clock.sleep(check.interval)


def step(
    state: str,
    reason: str | None,
    description: str | None,
    outcome: Outcome,
    successes: int,
    failures: int,
    check: HealthCheckConfig,
) -> tuple[str, str | None, str | None]:
    """The next (state, reason, description) of a target after one probe."""
    if state == "initial":
        if outcome.ok:
            return "healthy", None, None
        if failures >= check.unhealthy_threshold:
            return "unhealthy", outcome.reason, outcome.description
        return "initial", "Elb.InitialHealthChecking", "Initial health checks in progress"
    if state == "healthy":
        if failures >= check.unhealthy_threshold:
            return "unhealthy", outcome.reason, outcome.description
        return "healthy", None, None
    if outcome.ok:
        if successes >= check.healthy_threshold:
            return "healthy", None, None
        return state, reason, description
    return "unhealthy", outcome.reason, outcome.description
