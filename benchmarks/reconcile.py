"""The service controller's cost: one full reconcile pass (every service once) and one
single-service pass, with SERVICES services of TASKS tasks each, steady, on simulated container
instances (in-process agents that run what they are assigned at once).

    .venv/bin/python benchmarks/reconcile.py [--services 1000] [--tasks 10] [--sizes 100,300]

For each size it prints the mean time of a full pass and of a single-service pass. A
single-service pass should not grow with the number of services: it touches only its
service's tasks. No reference server runs this loop, so the reference is the same code at
different sizes: the ratio of the single-service time at the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dockyard.api.context import RequestContext
from dockyard.controllers.services import ServiceController
from dockyard.core.agentlink import Registration
from dockyard.core.clock import ManualClock
from dockyard.core.taskspec import FEATURES, ContainerStatus, NetworkMode, TaskStatus
from dockyard.drivers.attributes import ecs_attributes
from dockyard.services.ecs import Ecs, provider
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from dockyard.store.sqlite import SqliteStore

ACCOUNT, REGION = "123456789012", "us-east-1"
INSTANCES = 20


class Logs:
    def __call__(self, *args: Any) -> None:
        pass


class Simulated:
    """An ECS domain with simulated container instances that run whatever they are given."""

    def __init__(self) -> None:
        self.clock = ManualClock(start=1_700_000_000.0)
        self.ecs = Ecs(SqliteStore(":memory:"), self.clock)
        self.ecs.load()
        self.handlers = provider(self.ecs).handlers
        self.link = EmbeddedLink(self.ecs, Logs(), account_id=ACCOUNT, region=REGION)
        self.controller = ServiceController(self.ecs, self.clock)
        attrs: dict[str, str | None] = ecs_attributes(
            "process", [NetworkMode.BRIDGE], True, FEATURES
        )
        attrs.update({"ecs.os-type": "linux"})
        self.hosts = [
            asyncio.run(
                self.link.register(
                    Registration(
                        cluster="default",
                        cpu=10_000_000,
                        memory=10_000_000,
                        attributes=attrs,
                        hostname=f"sim-{i}",
                        agent_version="0.1.0",
                    )
                )
            )
            for i in range(INSTANCES)
        ]

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext("ecs", operation, ACCOUNT, REGION, "bench")
        result = self.handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result

    async def run_assigned(self) -> None:
        for host in self.hosts:
            statuses = []
            for a in await self.link.assignments(host, 0):
                status = "STOPPED" if a.desired_status == "STOPPED" else "RUNNING"
                statuses.append(TaskStatus(
                    task_arn=a.spec.task_arn, status=status,
                    containers=[ContainerStatus(name=c.name, status=status, runtime_id="sim",
                                                exit_code=0 if status == "STOPPED" else None)
                                for c in a.spec.containers],
                ))  # fmt: skip
            if statuses:
                await self.link.report(host, statuses)

    async def full_pass(self) -> None:
        for arn in list(self.ecs.services.by_arn):
            await self.controller.reconcile(arn)


def build(services: int, tasks: int) -> Simulated:
    sim = Simulated()
    td = sim.call(
        "RegisterTaskDefinition", family="web", networkMode="bridge",
        containerDefinitions=[{"name": "app", "image": "process:/", "memory": 16, "cpu": 8}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    for i in range(services):
        sim.call("CreateService", serviceName=f"svc-{i}", taskDefinition=td, desiredCount=tasks)

    async def settle() -> None:
        for _ in range(3):
            await sim.full_pass()
            await sim.run_assigned()
            sim.clock.advance(60.0)  # past the 40 s a task without health checks settles in
        await sim.full_pass()

    asyncio.run(settle())
    running = sum(1 for t in sim.ecs.tasks.by_arn.values() if t.last_status == "RUNNING")
    assert running == services * tasks, f"{running} of {services * tasks} tasks running"
    return sim


def measure(sim: Simulated, rounds: int) -> tuple[float, float]:
    """(seconds per full pass, seconds per single-service pass), steady state."""
    arns = list(sim.ecs.services.by_arn)

    async def passes() -> tuple[float, float]:
        full = []
        for _ in range(rounds):
            started = time.perf_counter()
            await sim.full_pass()
            full.append(time.perf_counter() - started)
        single = []
        for arn in arns[: min(len(arns), 200)]:
            started = time.perf_counter()
            await sim.controller.reconcile(arn)
            single.append(time.perf_counter() - started)
        return statistics.mean(full), statistics.median(single)

    return asyncio.run(passes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--sizes", default="100,300", help="smaller service counts to compare")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sizes = sorted({*(int(s) for s in args.sizes.split(",") if s), args.services})
    results: dict[int, tuple[float, float]] = {}
    print(f"{'services':>8} {'tasks':>7} {'full pass':>12} {'one service':>12}")
    for n in sizes:
        sim = build(n, args.tasks)
        results[n] = measure(sim, args.rounds)
        full, single = results[n]
        print(f"{n:8d} {n * args.tasks:7d} {full * 1000:10.1f}ms {single * 1000:10.3f}ms")
    small, large = sizes[0], sizes[-1]
    ratio = results[large][1] / results[small][1]
    print(f"single-service pass, {large} services vs {small}: {ratio:.2f}x "
          f"(services grew {large / small:.0f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
