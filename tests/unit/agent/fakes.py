"""An in-memory server side of the agent link, for agent unit tests."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from dockyard.core.agentlink import LogEvent, Registration
from dockyard.core.orphans import OrphanReport, OrphanVerdict, Verdict
from dockyard.core.rolecredentials import TemporaryCredentials
from dockyard.core.taskspec import (
    Assignment,
    ContainerSpec,
    DesiredStatus,
    NetworkMode,
    TaskSpec,
    TaskStatus,
)

INSTANCE = "arn:aws:ecs:us-east-1:123456789012:container-instance/default/0123456789abcdef"


@dataclass
class PutLogsCall:
    group: str
    stream: str
    events: list[LogEvent]
    create_group: bool


class FakeLink:
    def __init__(self) -> None:
        self.registrations: list[Registration] = []
        self.assigned: dict[str, Assignment] = {}
        self.reports: list[list[TaskStatus]] = []
        self.latest: dict[str, TaskStatus] = {}
        self.logs: list[PutLogsCall] = []
        self.heartbeats = 0
        self.stopped_here: dict[str, tuple[str, str]] = {}  # forgotten: (stop code, reason)
        self.orphan_reports: list[OrphanReport] = []
        # Task role credentials the server would issue, by task ARN; what the agent asked.
        self.role_credentials: dict[str, TemporaryCredentials] = {}
        self.credential_calls: list[tuple[str, str]] = []
        self._changed = asyncio.Event()
        self._reported = asyncio.Event()

    async def register(self, registration: Registration) -> str:
        self.registrations.append(registration)
        return registration.container_instance_arn or INSTANCE

    async def heartbeat(self, instance_arn: str) -> None:
        self.heartbeats += 1

    async def assignments(self, instance_arn: str, wait: float) -> list[Assignment]:
        if not self._changed.is_set() and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)
        self._changed.clear()
        return list(self.assigned.values())

    async def report(self, instance_arn: str, statuses: list[TaskStatus]) -> None:
        self.reports.append(statuses)
        for status in statuses:
            self.latest[status.task_arn] = status
            if status.status == "STOPPED":
                self.assigned.pop(status.task_arn, None)
        self._reported.set()

    async def put_logs(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[LogEvent],
        create_group: bool,
    ) -> None:
        self.logs.append(PutLogsCall(group, stream, events, create_group))

    async def orphans(self, instance_arn: str, reports: list[OrphanReport]) -> list[OrphanVerdict]:
        verdicts = []
        for report in reports:
            arn = report.spec.task_arn
            if arn in self.stopped_here:
                code, reason = self.stopped_here[arn]
                verdicts.append(OrphanVerdict(arn, Verdict.STOP, code, reason))
            else:
                self.orphan_reports.append(report)
                verdicts.append(OrphanVerdict(arn, Verdict.ORPHANED))
        return verdicts

    async def task_credentials(self, instance_arn: str, task_arn: str) -> TemporaryCredentials:
        self.credential_calls.append((instance_arn, task_arn))
        found = self.role_credentials.get(task_arn)
        if found is None:
            raise LookupError(f"ECS was unable to assume the role for {task_arn}")
        return found

    # -- test helpers --------------------------------------------------------------------------

    def run(self, spec: TaskSpec) -> None:
        self.assigned[spec.task_arn] = Assignment(spec, DesiredStatus.RUNNING)
        self._changed.set()

    def stop(self, task_arn: str, code: str = "UserInitiated", reason: str = "stop") -> None:
        a = self.assigned[task_arn]
        a.desired_status, a.stop_code, a.stopped_reason = DesiredStatus.STOPPED, code, reason
        self._changed.set()

    def forget(self, task_arn: str) -> None:
        """The server stopped the task while the agent was away: no longer listed."""
        self.assigned.pop(task_arn, None)
        self.stopped_here[task_arn] = ("TaskStopped", "The task is no longer assigned")
        self._changed.set()

    def lose(self, task_arn: str) -> None:
        """The server no longer knows the task at all (a reset, a restored backup)."""
        self.assigned.pop(task_arn, None)
        self._changed.set()

    async def until(
        self, task_arn: str, check: Callable[[TaskStatus], bool], timeout: float = 15
    ) -> TaskStatus:
        async def wait() -> TaskStatus:
            while True:
                status = self.latest.get(task_arn)
                if status is not None and check(status):
                    return status
                self._reported.clear()
                await self._reported.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def until_status(self, task_arn: str, status: str, timeout: float = 15) -> TaskStatus:
        return await self.until(task_arn, lambda s: s.status == status, timeout)


def task(*containers: ContainerSpec, mode: NetworkMode = NetworkMode.HOST) -> TaskSpec:
    task_id = uuid.uuid4().hex
    return TaskSpec(
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/default/{task_id}",
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/default",
        family="test",
        revision=1,
        network_mode=mode,
        containers=list(containers),
        account_id="123456789012",
        region="us-east-1",
    )


def sh(name: str, script: str, **kwargs: object) -> ContainerSpec:
    return ContainerSpec(name=name, image="process:/", command=["/bin/sh", "-c", script], **kwargs)  # type: ignore[arg-type]
