"""The agent of one host: register, heartbeat, run assignments through a driver, report.

agent = Agent(link, driver, clock, data_dir, cluster="default")
runner = asyncio.create_task(agent.run())
...
await agent.stop()   # containers keep running; a new agent on data_dir adopts them

A task the server stops listing is stopped only when the server says it stopped it; a task
the server does not know at all (its state was reset or restored) keeps running, orphaned,
and is reported to the server for the operator (core/orphans.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any, cast

from dockyard import __version__
from dockyard.agent import host, stats
from dockyard.agent.credentials import RoleCredentials
from dockyard.agent.ec2_identity import IdentitySource, IdentityUnavailable
from dockyard.agent.metadata import MetadataServer
from dockyard.agent.runner import TaskRunner, without_secrets
from dockyard.agent.state import AgentState
from dockyard.agent.stats import StatsSampler
from dockyard.core.agentlink import ServerLink, UnknownInstance
from dockyard.core.agentstats import StatsLink
from dockyard.core.clock import Clock
from dockyard.core.orphans import OrphanLink, OrphanReport, Verdict
from dockyard.core.rolecredentials import TemporaryCredentials
from dockyard.core.taskspec import Assignment, DesiredStatus, TaskSpec, TaskStatus
from dockyard.drivers.base import AdoptedContainer, Driver, UsageDriver

log = logging.getLogger(__name__)

RETRY = 1.0  # first retry after a failed call; doubles up to MAX_RETRY while the server is away
MAX_RETRY = 10.0
HEARTBEAT_INTERVAL = 10.0  # the server marks an agent disconnected after 3 missed heartbeats
FINISHED_MEMORY = 1000  # finished task ARNs remembered, so a late listing does not rerun one


class Agent:
    def __init__(
        self,
        link: ServerLink,
        driver: Driver,
        clock: Clock,
        data_dir: Path,
        cluster: str = "default",
        attributes: dict[str, str | None] | None = None,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        poll_wait: float = 20.0,
        host_ip: str = "127.0.0.1",
        metadata: bool = True,
        identity: IdentitySource | None = None,
    ) -> None:
        self.link = link
        self.driver = driver
        self.clock = clock
        self.cluster = cluster
        self.attributes = dict(attributes or {})
        self.heartbeat_interval = heartbeat_interval
        self.poll_wait = poll_wait
        self.host_ip = host_ip
        # Inside an EC2 instance: where its identity document comes from, sent on registering.
        self.identity = identity
        self.state = AgentState(Path(data_dir))
        self.instance_arn: str | None = None
        self.runners: dict[str, TaskRunner] = {}
        self.ready = asyncio.Event()  # registered and adopted what was left running
        self._runner_tasks: dict[str, asyncio.Task[None]] = {}
        self._dirty: dict[str, TaskStatus] = {}
        self._dirty_event = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._finished_arns: OrderedDict[str, None] = OrderedDict()
        self._unlisted: set[str] = set()  # running here, not in the server's last listing
        self._orphans: set[str] = set()  # reported as orphans since the last registration
        self._warned: set[tuple[str, str]] = set()  # (task, instance) orphans logged
        self._retry = RETRY
        self.role_credentials = RoleCredentials(self._task_credentials, clock)
        self.metadata = (
            MetadataServer(self.runners, driver, clock, Path(data_dir), self.role_credentials)
            if metadata
            else None
        )

    async def _task_credentials(self, task_arn: str) -> TemporaryCredentials:
        """A task role's credentials, from the server, as the instance the task runs on."""
        if self.instance_arn is None:
            raise UnknownInstance("the agent has not registered yet")
        return await self.link.task_credentials(self.instance_arn, task_arn)

    async def _back_off(self) -> None:
        """Wait before calling the server again; longer each time it stays unreachable."""
        await self.clock.sleep(self._retry)
        self._retry = min(self._retry * 2, MAX_RETRY)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Register, adopt, then follow assignments until `stop()`."""
        if self.metadata is not None:
            await self.metadata.start()
        await self._register()
        self._loops = [
            asyncio.create_task(self._report_loop()),
            asyncio.create_task(self._heartbeat_loop()),
        ]
        await self._adopt()
        self.ready.set()
        if isinstance(self.link, StatsLink) and hasattr(self.driver, "usage"):
            sampler = StatsSampler(cast(UsageDriver, self.driver), self.clock)
            self._loops.append(asyncio.create_task(
                stats.report_loop(self.link, sampler, lambda: self.instance_arn, self.runners)
            ))  # fmt: skip
        self._loops.append(asyncio.create_task(self._assignment_loop()))
        await self._stopped.wait()

    async def stop(self, stop_tasks: bool = False) -> None:
        """Stop following the server. Containers keep running unless `stop_tasks`."""
        if stop_tasks:
            for runner in self.runners.values():
                runner.request_stop("UserInitiated", "The agent is shutting down")
            await asyncio.gather(*self._runner_tasks.values(), return_exceptions=True)
            await self._flush_reports()
        for task in [*self._loops, *self._runner_tasks.values()]:
            task.cancel()
        for runner in self.runners.values():
            runner.detach()
        await asyncio.gather(*self._loops, *self._runner_tasks.values(), return_exceptions=True)
        if self.metadata is not None:
            await self.metadata.close()
        await self.driver.close()
        self._stopped.set()

    async def _register(self) -> None:
        caps = self.driver.capabilities()
        registration = host.registration(
            self.cluster, caps.attributes, self.attributes, __version__, self.host_ip
        )
        registration.container_instance_arn = self.state.instance_arn(self.cluster)
        while True:
            try:
                if self.identity is not None and registration.identity_document is None:
                    found = await self.identity()
                    registration.identity_document = found.document
                    registration.identity_signature = found.signature
                self.instance_arn = await self.link.register(registration)
                self._retry = RETRY
                break
            except IdentityUnavailable as exc:
                log.warning("cannot read this instance's identity: %s; retrying", exc)
                await self._back_off()
            except Exception as exc:
                log.warning("cannot register with the server: %s; retrying", exc)
                await self._back_off()
        self.state.save_instance(self.cluster, self.instance_arn)
        self._orphans.clear()  # a server that lost this instance lost its orphans: report again
        log.info("registered as %s (driver %s)", self.instance_arn, caps.name)

    # -- assignments -------------------------------------------------------------------------

    async def _assignment_loop(self) -> None:
        assert self.instance_arn is not None
        while True:
            try:
                assignments = await self.link.assignments(self.instance_arn, self.poll_wait)
            except asyncio.CancelledError:
                raise
            except UnknownInstance as exc:
                log.warning("the server does not know this instance (%s); registering again", exc)
                await self._register()
                continue
            except Exception as exc:
                log.warning("cannot fetch assignments: %s", exc)
                await self._back_off()
                continue
            if self._retry > RETRY:
                log.info("the server answers again")
                self._retry = RETRY
            self.apply(assignments)
            try:
                await self._settle_unlisted()
            except UnknownInstance as exc:
                log.warning("the server does not know this instance (%s); registering again", exc)
                await self._register()

    def apply(self, assignments: Iterable[Assignment]) -> None:
        """Bring what runs here in line with the server's list of assignments."""
        listed: set[str] = set()
        for assignment in assignments:
            arn = assignment.spec.task_arn
            listed.add(arn)
            if arn in self._finished_arns:
                continue
            runner = self.runners.get(arn)
            if assignment.desired_status == DesiredStatus.STOPPED:
                if runner is not None:
                    runner.request_stop(assignment.stop_code, assignment.stopped_reason)
                else:
                    self._report_never_started(assignment)
            elif runner is None:
                runner = self._runner(assignment.spec)
                self._launch(runner, runner.run())
        # Not listed: stopped by the server while this host was away, or unknown to it (a
        # reset, a restored backup): `_settle_unlisted` asks which.
        self._unlisted = {
            arn
            for arn, runner in self.runners.items()
            if arn not in listed and not runner.stopping and arn not in self._orphans
        }

    async def _settle_unlisted(self) -> None:
        """Ask the server about the tasks it did not list: stop those it stopped, keep running
        (orphaned) those it does not know. Raises UnknownInstance when it lost this host."""
        runners = [r for arn in self._unlisted if (r := self.runners.get(arn)) and not r.stopping]
        self._unlisted = set()
        if not runners:
            return
        assert self.instance_arn is not None
        if not hasattr(self.link, "orphans"):  # a link without the call: keep them running
            for runner in runners:
                self._orphaned(runner.spec.task_arn)
            return
        reports = [OrphanReport(without_secrets(r.spec), r.status.status) for r in runners]
        try:
            verdicts = await cast(OrphanLink, self.link).orphans(self.instance_arn, reports)
        except (asyncio.CancelledError, UnknownInstance):
            raise
        except Exception as exc:  # asked again at the next listing; meanwhile they run
            log.warning("cannot ask the server about the tasks it no longer lists: %s", exc)
            return
        for verdict in verdicts:
            told = self.runners.get(verdict.task_arn)
            if told is None:
                continue
            if verdict.verdict == Verdict.STOP:
                told.request_stop(
                    verdict.stop_code or "TaskStopped",
                    verdict.stopped_reason or "The task is no longer assigned to this host",
                )
            elif verdict.verdict == Verdict.ORPHANED:
                self._orphaned(verdict.task_arn)

    def _orphaned(self, task_arn: str) -> None:
        self._orphans.add(task_arn)
        key = (task_arn, self.instance_arn or "")
        if key not in self._warned:
            self._warned.add(key)
            log.warning(
                "ORPHANED TASK %s on container instance %s: the server does not know it (its "
                "state was reset or restored); it keeps running until an operator stops it "
                "(dockyard orphans stop)",
                task_arn,
                self.instance_arn,
            )

    def _runner(self, spec: TaskSpec) -> TaskRunner:
        environment = self.metadata.environment if self.metadata is not None else None
        # A driver that routes tasks (`--runtime auto` with Docker) names the one for this task.
        pick = getattr(self.driver, "driver_for", None)
        driver = cast(Driver, pick(spec)) if pick is not None else self.driver
        return TaskRunner(spec, driver, self.clock, self._changed, self.link.put_logs, environment)

    def _launch(self, runner: TaskRunner, coro: Coroutine[Any, Any, None]) -> None:
        arn = runner.spec.task_arn
        self.runners[arn] = runner
        task = asyncio.create_task(coro)
        self._runner_tasks[arn] = task

        def finished(task: asyncio.Task[None]) -> None:
            if task.cancelled():
                return
            if task.exception() is not None:
                log.error("task runner for %s crashed", arn, exc_info=task.exception())
            self.runners.pop(arn, None)
            self._runner_tasks.pop(arn, None)
            self._orphans.discard(arn)
            self._finished_arns[arn] = None
            while len(self._finished_arns) > FINISHED_MEMORY:
                self._finished_arns.popitem(last=False)

        task.add_done_callback(finished)

    def _report_never_started(self, assignment: Assignment) -> None:
        if assignment.spec.task_arn in self._dirty:
            return
        status = TaskStatus(
            assignment.spec.task_arn,
            "STOPPED",
            stop_code=assignment.stop_code,
            stopped_reason=assignment.stopped_reason,
            execution_stopped_at=self.clock.now(),
        )
        self._dirty[status.task_arn] = status
        self._dirty_event.set()

    # -- reporting ---------------------------------------------------------------------------

    def _changed(self, runner: TaskRunner) -> None:
        arn = runner.spec.task_arn
        if runner.status.status == "STOPPED":
            self.state.forget_task(arn)
        else:
            try:
                self.state.save_task(arn, runner.record())
            except OSError as exc:  # a full disk: the report below still goes to the server
                log.warning("cannot save the state of task %s: %s", arn, exc, extra={"arn": arn})
        self._dirty[arn] = TaskStatus.from_dict(runner.status.to_dict())
        self._dirty_event.set()

    async def _report_loop(self) -> None:
        while True:
            await self._dirty_event.wait()
            await self._flush_reports()

    async def _flush_reports(self) -> None:
        assert self.instance_arn is not None
        self._dirty_event.clear()
        if not self._dirty:
            return
        batch, self._dirty = self._dirty, {}
        try:
            await self.link.report(self.instance_arn, list(batch.values()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("cannot report task states: %s; retrying", exc)
            for arn, status in batch.items():
                self._dirty.setdefault(arn, status)
            await self.clock.sleep(RETRY)
            self._dirty_event.set()

    async def _heartbeat_loop(self) -> None:
        assert self.instance_arn is not None
        while True:
            await self.clock.sleep(self.heartbeat_interval)
            try:
                await self.link.heartbeat(self.instance_arn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("heartbeat failed: %s", exc)

    # -- restart -----------------------------------------------------------------------------

    async def _adopt(self) -> None:
        """Re-attach to what an earlier agent left running; stop what nobody wants."""
        assert self.instance_arn is not None
        found = await self.driver.adopt()
        by_task: dict[str, dict[str, AdoptedContainer]] = {}
        for container in found:
            by_task.setdefault(container.task_arn, {})[container.container_name] = container
        records = {r["spec"]["task_arn"]: r for r in self.state.tasks()}
        while True:
            try:
                wanted = {
                    a.spec.task_arn: a for a in await self.link.assignments(self.instance_arn, 0)
                }
                break
            except Exception as exc:
                log.warning("cannot fetch assignments: %s", exc)
                await self._back_off()
        self._retry = RETRY
        for arn, record in records.items():
            runner = self._runner(TaskSpec.from_dict(record["spec"]))
            assignment = wanted.get(arn)
            if assignment is not None and assignment.desired_status == DesiredStatus.STOPPED:
                runner.request_stop(assignment.stop_code, assignment.stopped_reason)
            self._launch(runner, runner.resume(record, by_task.pop(arn, {})))
            log.info("adopted task %s", arn)
        self.apply(wanted.values())  # the tasks not listed: stopped or orphans, the server says
        try:
            await self._settle_unlisted()
        except UnknownInstance as exc:  # the assignment loop registers again, then asks
            log.warning("the server does not know this instance (%s)", exc)
        for arn, containers in by_task.items():  # running, but no record of the task
            log.warning("stopping unknown task %s left on this host", arn)
            for container in containers.values():
                with contextlib.suppress(Exception):
                    await self.driver.stop(container.runtime_id, 10)
                    await self.driver.remove_container(container.runtime_id)
            with contextlib.suppress(Exception):
                await self.driver.cleanup_task(arn)
