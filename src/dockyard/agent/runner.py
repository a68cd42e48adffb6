"""One task on this host: network, images, containers in dependsOn order, health, logs, stop.

A `TaskRunner` owns a `TaskStatus` and calls `on_change` after every observable change; the
agent persists and reports it. `run()` drives the task from PENDING to STOPPED; `resume()`
does the same for a task whose containers an earlier agent started.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dockyard.agent import health, logs
from dockyard.core.clock import Clock
from dockyard.core.taskspec import (
    ContainerSpec,
    ContainerStatus,
    DependencyCondition,
    TaskSpec,
    TaskStatus,
)
from dockyard.drivers.base import AdoptedContainer, Driver, DriverError, ExitInfo, TaskNetwork

log = logging.getLogger(__name__)

# What the agent adds to a container's environment (ECS's own variables), by task and network.
Environment = Callable[[TaskSpec, ContainerSpec, TaskNetwork], Awaitable[dict[str, str]]]

TASK_FAILED_TO_START = "TaskFailedToStart"
ESSENTIAL_EXITED = "EssentialContainerExited"
ESSENTIAL_EXITED_REASON = "Essential container in task exited"
CANCEL_RETRY = 0.5


async def _cancel_until_done(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait for them; cancel again any that swallowed the cancellation
    (Python 3.11's `asyncio.wait_for` does when its awaitable finishes at the same moment)."""
    while pending := [t for t in tasks if not t.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=CANCEL_RETRY)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.warning("side task of a task runner failed: %r", task.exception())


def without_secrets(spec: TaskSpec) -> TaskSpec:
    """`spec` without the environment variables its containers' `secrets` name and without
    registry credentials (the server puts them in the copy it hands the agent)."""
    containers = [
        dataclasses.replace(
            c,
            environment={k: v for k, v in c.environment.items() if k not in c.secrets},
            registry_auth=None,
        )
        if c.secrets or c.registry_auth
        else c
        for c in spec.containers
    ]
    return dataclasses.replace(spec, containers=containers)


class StartFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TaskRunner:
    def __init__(
        self,
        spec: TaskSpec,
        driver: Driver,
        clock: Clock,
        on_change: Callable[[TaskRunner], None],
        put_logs: logs.PutLogs,
        environment: Environment | None = None,
    ) -> None:
        self.spec = spec
        self.environment = environment
        self.driver = driver
        self.clock = clock
        self.on_change = on_change
        self.put_logs = put_logs
        self.status = TaskStatus(
            spec.task_arn, "PENDING", containers=[ContainerStatus(c.name) for c in spec.containers]
        )
        self.log_cursors: dict[str, int] = {}
        self.done = asyncio.Event()
        self._engine_health = driver.capabilities().engine_health
        self._stop = asyncio.Event()
        self._stop_code: str | None = None
        self._stop_reason: str | None = None
        self._tick = asyncio.Event()
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._side: list[asyncio.Task[None]] = []  # health monitors
        self._shippers: list[asyncio.Task[None]] = []

    # -- state -------------------------------------------------------------------------------

    def container(self, name: str) -> ContainerStatus:
        return next(c for c in self.status.containers if c.name == name)

    def _touch(self) -> None:
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()
        self.on_change(self)

    def request_stop(self, code: str | None, reason: str | None) -> None:
        if not self._stop.is_set():
            self._stop_code, self._stop_reason = code, reason
            self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def record(self) -> dict[str, Any]:
        """What the agent keeps on disk: never the values of the task's secrets."""
        return {
            "spec": without_secrets(self.spec).to_dict(),
            "status": self.status.to_dict(),
            "log_cursors": self.log_cursors,
        }

    def detach(self) -> None:
        """Stop watching (the agent is going away); the containers keep running."""
        for task in [*self._watchers.values(), *self._side, *self._shippers]:
            task.cancel()

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        self._touch()
        starting = asyncio.create_task(self._start())
        stop_wait = asyncio.create_task(self._stop.wait())
        await asyncio.wait({starting, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
        try:
            await starting
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
        except StartFailed as exc:
            self.request_stop(TASK_FAILED_TO_START, exc.reason)
        except Exception as exc:
            log.exception("task %s failed to start", self.spec.task_arn)
            self.request_stop(TASK_FAILED_TO_START, f"{type(exc).__name__}: {exc}")
        await self._stop.wait()
        stop_wait.cancel()
        await self._teardown()

    async def resume(self, saved: dict[str, Any], found: dict[str, AdoptedContainer]) -> None:
        """Take over a task from a record and what the driver found still on the host."""
        self.status = TaskStatus.from_dict(saved["status"])
        self.log_cursors = dict(saved.get("log_cursors", {}))
        was_running = self.status.status == "RUNNING"
        for spec in self.spec.containers:
            cs = self.container(spec.name)
            adopted = found.get(spec.name)
            if cs.runtime_id is None:
                continue
            if cs.status == "STOPPED":
                if spec.essential:
                    self.request_stop(ESSENTIAL_EXITED, ESSENTIAL_EXITED_REASON)
                continue
            if adopted is not None and adopted.running:
                self._attach(spec, cs.runtime_id, resumed=True)
            elif adopted is not None:
                self._record_exit(spec, adopted.exit or ExitInfo(None))
            else:
                cs.status, cs.stopped_at = "STOPPED", self.clock.now()
                cs.reason = cs.reason or "Task stopped while the agent was down"
                if spec.essential:
                    self.request_stop(ESSENTIAL_EXITED, ESSENTIAL_EXITED_REASON)
        if not was_running:
            self.request_stop(
                TASK_FAILED_TO_START, "The agent restarted while the task was starting"
            )
        self._touch()
        await self._stop.wait()
        await self._teardown()

    async def _start(self) -> None:
        try:
            network = await self.driver.prepare_task(self.spec)
        except DriverError as exc:
            raise StartFailed(exc.reason) from exc
        self.status.ip_address = network.ip_address
        self.status.pull_started_at = self.clock.now()
        self._touch()
        for container in self.spec.containers:
            try:
                await self.driver.ensure_image(self.spec, container)
            except DriverError as exc:
                self.container(container.name).reason = exc.reason
                raise StartFailed(exc.reason) from exc
        self.status.pull_stopped_at = self.clock.now()
        self._touch()
        launches = [asyncio.create_task(self._launch(c, network)) for c in self.spec.containers]
        try:
            finished, _ = await asyncio.wait(launches, return_when=asyncio.FIRST_EXCEPTION)
            for task in finished:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in launches:
                task.cancel()

    async def _launch(self, container: ContainerSpec, network: TaskNetwork) -> None:
        for dep in container.depends_on:
            await self._dependency(container, dep.container_name, dep.condition)
        launched = container
        if self.environment is not None:  # the agent's variables win over the user's
            extra = await self.environment(self.spec, container, network)
            launched = dataclasses.replace(
                container, environment={**container.environment, **extra}
            )
        try:
            started = await self.driver.start_container(self.spec, launched, network)
        except DriverError as exc:
            cs = self.container(container.name)
            cs.status, cs.reason, cs.stopped_at = "STOPPED", exc.reason, self.clock.now()
            if container.essential or self.status.status != "RUNNING":
                raise StartFailed(exc.reason) from exc
            self._touch()
            return
        cs = self.container(container.name)
        cs.runtime_id = started.runtime_id
        cs.network_bindings = started.network_bindings
        self.status.ip_address = self.status.ip_address or started.ip_address
        cs.status, cs.started_at = "RUNNING", self.clock.now()
        self._attach(container, started.runtime_id, resumed=False)
        if self.status.status == "PENDING" and all(
            self.container(c.name).started_at is not None
            for c in self.spec.containers
            if c.essential
        ):
            self.status.status = "RUNNING"
            self.status.started_at = self.clock.now()
        self._touch()

    async def _dependency(self, container: ContainerSpec, name: str, cond: str) -> None:
        def check() -> bool | None:
            dep = self.container(name)
            exited = dep.status == "STOPPED"
            if cond == DependencyCondition.START:
                return True if dep.started_at is not None else (False if exited else None)
            if cond == DependencyCondition.COMPLETE:
                return True if exited and dep.started_at is not None else None
            if cond == DependencyCondition.SUCCESS:
                return (dep.exit_code == 0) if exited else None
            if dep.health_status == health.HEALTHY:
                return True
            return False if exited or dep.health_status == health.UNHEALTHY else None

        limit = next(c.start_timeout for c in self.spec.containers if c.name == name)
        deadline = None if limit is None else self.clock.now() + limit
        while True:
            tick = self._tick
            result = check()
            if result is not None:
                break
            if deadline is None:
                await tick.wait()
            elif not await self._tick_before(tick, deadline):
                result = False  # startTimeout: the dependent container gives up
                break
        if not result:
            reason = (
                f"CannotStartContainerError: dependency {name} of container {container.name} "
                f"did not reach the {cond} condition"
            )
            if deadline is not None and self.clock.now() >= deadline:
                reason += f" within its startTimeout of {limit} seconds"
            self.container(container.name).reason = reason
            raise StartFailed(reason)

    async def _tick_before(self, tick: asyncio.Event, deadline: float) -> bool:
        """Wait for the next change, until `deadline` (clock time); False when time ran out."""
        remaining = deadline - self.clock.now()
        if remaining <= 0:
            return False
        changed = asyncio.create_task(tick.wait())
        timer = asyncio.create_task(self.clock.sleep(remaining))
        try:
            await asyncio.wait({changed, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            timer.cancel()
        return tick.is_set()

    def _attach(self, container: ContainerSpec, runtime_id: str, resumed: bool) -> None:
        self._watchers[container.name] = asyncio.create_task(self._watch(container, runtime_id))
        if container.health_check is not None:

            def on_health(status: str, name: str = container.name) -> None:
                self.container(name).health_status = status
                statuses = {c.name: c.health_status for c in self.status.containers}
                self.status.health_status = health.task_health(self.spec.containers, statuses)
                self._touch()

            self._side.append(
                asyncio.create_task(
                    health.monitor(
                        self.driver,
                        self._engine_health,
                        self.clock,
                        container,
                        runtime_id,
                        on_health,
                    )
                )
            )
        dest = logs.destination(self.spec, container, runtime_id)
        if dest is not None:

            def shipped(cursor: int, name: str = container.name) -> None:
                self.log_cursors[name] = cursor
                self.on_change(self)

            since = self.log_cursors.get(container.name, 0) if resumed else 0
            self._shippers.append(
                asyncio.create_task(
                    logs.ship(
                        self.driver.logs(runtime_id, since),
                        self.put_logs,
                        self.spec.account_id,
                        self.spec.region,
                        dest,
                        shipped,
                    )
                )
            )

    async def _watch(self, container: ContainerSpec, runtime_id: str) -> None:
        info = await self.driver.wait(runtime_id)
        self._record_exit(container, info)
        self._touch()

    def _record_exit(self, container: ContainerSpec, info: ExitInfo) -> None:
        cs = self.container(container.name)
        cs.status, cs.stopped_at = "STOPPED", self.clock.now()
        cs.exit_code = info.exit_code
        cs.reason = info.reason or cs.reason
        if container.essential:
            self.request_stop(ESSENTIAL_EXITED, ESSENTIAL_EXITED_REASON)

    # -- stopping ----------------------------------------------------------------------------

    def _stop_order(self) -> list[list[ContainerSpec]]:
        """Dependents before their dependencies: groups by dependency depth, deepest first."""
        by_name = {c.name: c for c in self.spec.containers}
        depth: dict[str, int] = {}

        def level(name: str, seen: frozenset[str] = frozenset()) -> int:
            if name not in depth:
                deps = [
                    d.container_name
                    for d in by_name[name].depends_on
                    if d.container_name in by_name and d.container_name not in seen
                ]
                depth[name] = 1 + max((level(d, seen | {name}) for d in deps), default=-1)
            return depth[name]

        for name in by_name:
            level(name)
        groups: dict[int, list[ContainerSpec]] = {}
        for name, d in depth.items():
            groups.setdefault(d, []).append(by_name[name])
        return [groups[d] for d in sorted(groups, reverse=True)]

    async def _teardown(self) -> None:
        self.status.stop_code = self.status.stop_code or self._stop_code
        self.status.stopped_reason = self.status.stopped_reason or self._stop_reason
        self._touch()
        for group in self._stop_order():
            await asyncio.gather(*(self._stop_one(c) for c in group))
        await _cancel_until_done(self._side)
        await asyncio.gather(*self._shippers, return_exceptions=True)
        for cs in self.status.containers:
            if cs.status != "STOPPED":
                cs.status = "STOPPED"
                cs.stopped_at = cs.stopped_at or self.clock.now()
        try:
            await self.driver.cleanup_task(self.spec.task_arn)
        except Exception:
            log.exception("cannot tear down the network of %s", self.spec.task_arn)
        for cs in self.status.containers:
            if cs.runtime_id is not None:
                with contextlib.suppress(Exception):
                    await self.driver.remove_container(cs.runtime_id)
        self.status.status = "STOPPED"
        self.status.execution_stopped_at = self.clock.now()
        self._touch()
        self.done.set()

    async def _stop_one(self, container: ContainerSpec) -> None:
        cs = self.container(container.name)
        if cs.runtime_id is None:
            return
        if cs.status != "STOPPED":
            try:
                await self.driver.stop(cs.runtime_id, container.stop_timeout)
            except Exception:
                log.exception("cannot stop container %s of %s", container.name, self.spec.task_arn)
        watcher = self._watchers.get(container.name)
        if watcher is not None:
            await asyncio.gather(watcher, return_exceptions=True)
        elif cs.status != "STOPPED":
            self._record_exit(container, await self.driver.wait(cs.runtime_id))
