"""Shared by the task and container instance tests: handlers called as the front door calls
them, an in-process agent link, and a fake agent that reports what a real one would."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from dockyard.api.context import RequestContext
from dockyard.core.agentlink import LogEvent, Registration
from dockyard.core.clock import Clock, ManualClock
from dockyard.core.taskspec import (
    FEATURES,
    ContainerStatus,
    NetworkBinding,
    NetworkMode,
    TaskStatus,
)
from dockyard.drivers.attributes import ecs_attributes
from dockyard.services.ecs import Ecs, provider
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from dockyard.store.sqlite import SqliteStore

ACCOUNT, REGION = "123456789012", "us-east-1"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Client:
    """Calls the ECS handlers the way the front door does."""

    def __init__(self, ecs: Ecs) -> None:
        self.ecs = ecs
        self.handlers = provider(ecs).handlers

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext("ecs", operation, ACCOUNT, REGION, "req-1")
        result = self.handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result

    def taskdef(self, family: str = "web", **params: Any) -> str:
        params.setdefault(
            "containerDefinitions",
            [{"name": "app", "image": "busybox", "memory": 128, "cpu": 256}],
        )
        td = self("RegisterTaskDefinition", family=family, **params)["taskDefinition"]
        return str(td["taskDefinitionArn"])

    def run_task(self, taskdef: str = "web", **params: Any) -> dict[str, Any]:
        return self("RunTask", taskDefinition=taskdef, **params)

    def describe(self, task_arn: str, cluster: str = "default") -> dict[str, Any]:
        out = self("DescribeTasks", cluster=cluster, tasks=[task_arn], include=["TAGS"])
        assert not out["failures"], out["failures"]
        task: dict[str, Any] = out["tasks"][0]
        return task

    def instance(self, arn: str, cluster: str = "default") -> dict[str, Any]:
        out = self("DescribeContainerInstances", cluster=cluster, containerInstances=[arn])
        assert not out["failures"], out["failures"]
        instance: dict[str, Any] = out["containerInstances"][0]
        return instance


class LogCollector:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, list[LogEvent], bool]] = []

    def __call__(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[LogEvent],
        create_group: bool,
    ) -> None:
        self.calls.append((account_id, region, group, stream, events, create_group))


def make_ecs(path: str = ":memory:", clock: Clock | None = None) -> Ecs:
    ecs = Ecs(SqliteStore(path), clock or ManualClock(start=1_700_000_000.0))
    ecs.load()
    return ecs


def make_link(ecs: Ecs, **kwargs: Any) -> EmbeddedLink:
    return EmbeddedLink(ecs, LogCollector(), account_id=ACCOUNT, region=REGION, **kwargs)


def registration(
    cluster: str = "default",
    cpu: int = 2048,
    memory: int = 4096,
    modes: tuple[str, ...] = ("awsvpc", "bridge", "host"),
    **attributes: str | None,
) -> Registration:
    # what an agent's driver advertises (its network modes, ECS capabilities, features)
    attrs: dict[str, str | None] = ecs_attributes(
        "process", [NetworkMode(m) for m in modes], True, FEATURES
    )
    attrs.pop("dockyard.driver")
    attrs.pop("dockyard.cgroups")
    attrs.update({"ecs.os-type": "linux", **attributes})
    return Registration(
        cluster=cluster, cpu=cpu, memory=memory, attributes=attrs, hostname="box",
        agent_version="0.1.0",
    )  # fmt: skip


def report(
    task_arn: str,
    status: str,
    *,
    containers: dict[str, str] | None = None,
    exit_code: int | None = None,
    ip: str | None = None,
    bindings: list[NetworkBinding] | None = None,
    started_at: float | None = None,
    stop_code: str | None = None,
    stopped_reason: str | None = None,
) -> TaskStatus:
    """What an agent reports: each named container in `containers` with its status."""
    return TaskStatus(
        task_arn=task_arn,
        status=status,
        containers=[
            ContainerStatus(
                name=name,
                status=cstatus,
                runtime_id=f"pid-{name}",
                exit_code=exit_code if cstatus == "STOPPED" else None,
                network_bindings=list(bindings or []),
            )
            for name, cstatus in (containers or {"app": status}).items()
        ],
        ip_address=ip,
        started_at=started_at,
        stop_code=stop_code,
        stopped_reason=stopped_reason,
    )


class FakeAgent:
    """An agent loop in miniature: runs what it is assigned, stops what it is told to."""

    def __init__(self, link: EmbeddedLink, instance_arn: str, ip: str = "10.0.0.5") -> None:
        self.link, self.instance_arn, self.ip = link, instance_arn, ip
        self.running: set[str] = set()

    async def step(self, wait: float = 0) -> None:
        assignments = await self.link.assignments(self.instance_arn, wait)
        statuses = []
        for a in assignments:
            arn = a.spec.task_arn
            names = {c.name: "RUNNING" for c in a.spec.containers}
            if a.desired_status == "STOPPED":
                stopped = dict.fromkeys(names, "STOPPED")
                statuses.append(report(arn, "STOPPED", containers=stopped, exit_code=143))
                self.running.discard(arn)
            elif arn not in self.running:
                ip = self.ip if a.spec.network_mode == "awsvpc" else None
                statuses.append(report(arn, "PENDING", containers=dict.fromkeys(names, "PENDING")))
                statuses.append(report(arn, "RUNNING", containers=names, ip=ip))
                self.running.add(arn)
        if statuses:
            await self.link.report(self.instance_arn, statuses)
