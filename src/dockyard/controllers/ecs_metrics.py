"""`AWS/ECS` service metrics from what the agents measured.

Agents report each running container's CPU (in CPU units) and memory every few seconds. Each
minute of clock time the samples of that minute are averaged per task and published, per
ClusterName and ServiceName, as ECS defines them:

  CPUUtilization    = CPU units used by the service's tasks / CPU units they reserve * 100
  MemoryUtilization = MiB used by the service's tasks / MiB they reserve * 100

as a statistic set over the tasks: Average is the service's utilization, Minimum and Maximum
are those of its least and most loaded task, SampleCount is the number of tasks measured.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from dockyard.controllers.runtime import Runtime
from dockyard.core.agentstats import ContainerStats
from dockyard.core.clock import Clock
from dockyard.core.metrics import Datum, MetricSink
from dockyard.services.ecs.service import Ecs

log = logging.getLogger(__name__)

NAMESPACE = "AWS/ECS"
PERIOD = 60
SETTLE = 0.1  # seconds after a minute ends before it is published
KEY = "ecs-metrics"


@dataclass(slots=True)
class TaskUsage:
    """One task's samples within a minute, per container."""

    cluster: str
    service: str
    cpu_reserved: float
    memory_reserved: float
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    memory: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def used(self) -> tuple[float, float]:
        """Average CPU units and MiB used over the minute (containers summed)."""
        cpu = sum(sum(v) / len(v) for v in self.cpu.values() if v)
        memory = sum(sum(v) / len(v) for v in self.memory.values() if v)
        return cpu, memory


def utilization(tasks: list[TaskUsage]) -> dict[str, tuple[float, float, float, int]]:
    """Metric name -> (service utilization %, lowest task %, highest task %, tasks) (pure)."""
    cpu: list[tuple[float, float]] = []
    memory: list[tuple[float, float]] = []
    for t in tasks:
        used_cpu, used_memory = t.used()
        if t.cpu_reserved > 0:
            cpu.append((used_cpu, t.cpu_reserved))
        if t.memory_reserved > 0:
            memory.append((used_memory, t.memory_reserved))
    out: dict[str, tuple[float, float, float, int]] = {}
    for name, measured in (("CPUUtilization", cpu), ("MemoryUtilization", memory)):
        if not measured:
            continue
        total_used = sum(used for used, _ in measured)
        total_reserved = sum(reserved for _, reserved in measured)
        each = [used / reserved * 100 for used, reserved in measured]
        out[name] = (total_used / total_reserved * 100, min(each), max(each), len(measured))
    return out


class EcsServiceMetrics:
    def __init__(self, ecs: Ecs, sink: MetricSink, clock: Clock) -> None:
        self.ecs = ecs
        self.sink = sink
        self.clock = clock
        self._minutes: dict[float, dict[str, TaskUsage]] = {}  # minute -> task ARN -> usage
        self.runtime = Runtime("ecs-metrics", self.reconcile, clock, workers=1)

    def start(self) -> None:
        self.runtime.start()
        self.runtime.enqueue(KEY)

    async def stop(self) -> None:
        await self.runtime.stop()

    def record(self, instance_arn: str, stats: list[ContainerStats]) -> None:
        """An agent's report (the link's stats sink); samples of tasks of no service, or not
        on that instance, are ignored."""
        minute = _align(self.clock.now())
        tasks = self._minutes.setdefault(minute, {})
        for s in stats:
            task = self.ecs.tasks.by_arn.get(s.task_arn)
            if task is None or task.host_arn != instance_arn or task.is_stopped:
                continue
            if not task.group.startswith("service:"):
                continue
            usage = tasks.get(task.arn)
            if usage is None:
                cluster = task.cluster_arn.rsplit("/", 1)[-1]
                service = task.group.removeprefix("service:")
                usage = tasks[task.arn] = TaskUsage(cluster, service, task.cpu, task.memory)
            usage.cpu[s.container_name].append(max(0.0, s.cpu_units))
            usage.memory[s.container_name].append(max(0.0, s.memory_mib))

    async def reconcile(self, key: str) -> float | None:
        now = self.clock.now()
        current = _align(now)
        for minute in sorted(m for m in self._minutes if m < current):
            self.publish(minute, self._minutes.pop(minute))
        return current + PERIOD + SETTLE - now

    def publish(self, minute: float, tasks: dict[str, TaskUsage]) -> None:
        by_service: dict[tuple[str, str, str, str], list[TaskUsage]] = defaultdict(list)
        for arn, usage in tasks.items():
            parts = arn.split(":")
            by_service[(parts[4], parts[3], usage.cluster, usage.service)].append(usage)
        for (account, region, cluster, service), members in by_service.items():
            dims = (("ClusterName", cluster), ("ServiceName", service))
            data = [
                Datum(NAMESPACE, name, dims, minute, "Percent", count=float(n),
                      sum=avg * n, minimum=low, maximum=high)
                for name, (avg, low, high, n) in utilization(members).items()
            ]  # fmt: skip
            if data:
                self.sink.publish(account, region, data)


def _align(ts: float) -> float:
    return ts - ts % PERIOD
