"""The agent runs assigned tasks through the real process driver (host network mode)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from dockyard.agent.runner import TaskRunner
from dockyard.core.clock import ScaledClock
from dockyard.core.taskspec import (
    ContainerSpec,
    Dependency,
    DependencyCondition,
    HealthCheckSpec,
    LogSpec,
)
from dockyard.drivers.process import ProcessDriver
from tests.unit.agent.conftest import running_agent
from tests.unit.agent.fakes import FakeLink, sh, task


def by_name(status: object, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in status.containers if c.name == name)  # type: ignore[attr-defined]


def test_registers_host_resources_and_driver_attributes(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            pass
        reg = link.registrations[0]
        assert reg.cpu >= 1024 and reg.cpu % 1024 == 0
        assert reg.memory > 0
        assert reg.attributes["ecs.os-type"] == "linux"
        assert reg.attributes["ecs.cpu-architecture"] in ("x86_64", "arm64")
        assert reg.attributes["dockyard.driver"] == "process"
        assert "dockyard.network-mode.host" in reg.attributes
        assert "com.amazonaws.ecs.capability.docker-remote-api.1.18" in reg.attributes
        # a second agent on the same data dir re-registers in place
        async with running_agent(FakeLink(), tmp_path) as again:
            assert again.instance_arn is not None
        assert (tmp_path / "agent" / "instance.json").exists()

    asyncio.run(main())


def test_reregisters_with_remembered_instance_arn(tmp_path: Path) -> None:
    async def main() -> None:
        first, second = FakeLink(), FakeLink()
        async with running_agent(first, tmp_path) as agent:
            arn = agent.instance_arn
        async with running_agent(second, tmp_path):
            pass
        assert first.registrations[0].container_instance_arn is None
        assert second.registrations[0].container_instance_arn == arn

    asyncio.run(main())


def test_essential_container_exit_stops_the_task(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            spec = task(sh("app", "sleep 0.3; exit 3"), sh("side", "sleep 30", essential=False))
            link.run(spec)
            running = await link.until_status(spec.task_arn, "RUNNING")
            assert running.started_at is not None
            assert running.pull_started_at is not None and running.pull_stopped_at is not None
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.stop_code == "EssentialContainerExited"
        assert stopped.stopped_reason == "Essential container in task exited"
        assert by_name(stopped, "app").exit_code == 3
        assert by_name(stopped, "side").exit_code == 143  # SIGTERM
        assert all(c.status == "STOPPED" for c in stopped.containers)
        assert stopped.execution_stopped_at is not None

    asyncio.run(main())


def test_non_essential_exit_keeps_the_task_running(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            spec = task(sh("app", "sleep 30"), sh("once", "exit 0", essential=False))
            link.run(spec)
            status = await link.until(
                spec.task_arn,
                lambda s: by_name(s, "once").status == "STOPPED" and s.status == "RUNNING",
            )
            assert status.status == "RUNNING"
            assert by_name(status, "once").exit_code == 0
            await asyncio.sleep(0.3)
            assert link.latest[spec.task_arn].status == "RUNNING"
            link.stop(spec.task_arn)
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.stop_code == "UserInitiated"
        assert by_name(stopped, "app").exit_code == 143

    asyncio.run(main())


def test_depends_on_order(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        marker = tmp_path / "initialized"
        async with running_agent(link, tmp_path):
            spec = task(
                sh("init", f"sleep 0.3; echo ok > {marker}", essential=False),
                sh(
                    "app",
                    f"test -f {marker} || exit 9; sleep 30",
                    depends_on=[Dependency("init", DependencyCondition.SUCCESS)],
                ),
                sh(
                    "sidecar",
                    "sleep 30",
                    essential=False,
                    depends_on=[Dependency("app", DependencyCondition.START)],
                ),
            )
            link.run(spec)
            status = await link.until(
                spec.task_arn, lambda s: by_name(s, "sidecar").status == "RUNNING"
            )
            assert status.status == "RUNNING"
            init, app, sidecar = (by_name(status, n) for n in ("init", "app", "sidecar"))
            assert init.exit_code == 0
            assert app.status == "RUNNING"
            assert init.stopped_at <= app.started_at <= sidecar.started_at  # type: ignore[operator]
            link.stop(spec.task_arn)
            await link.until_status(spec.task_arn, "STOPPED")

    asyncio.run(main())


def test_failed_success_dependency_fails_the_task(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            spec = task(
                sh("init", "exit 4", essential=False),
                sh("app", "sleep 30", depends_on=[Dependency("init", DependencyCondition.SUCCESS)]),
            )
            link.run(spec)
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.stop_code == "TaskFailedToStart"
        assert "did not reach the SUCCESS condition" in (stopped.stopped_reason or "")
        assert by_name(stopped, "app").runtime_id is None
        assert by_name(stopped, "init").exit_code == 4

    asyncio.run(main())


def test_start_timeout_gives_up_on_a_dependency(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        clock = ScaledClock(20)  # the 4 s startTimeout takes 0.2 s
        async with running_agent(link, tmp_path, clock=clock):
            spec = task(
                sh("db", "sleep 30", essential=False, start_timeout=4),
                sh("app", "sleep 30", depends_on=[Dependency("db", DependencyCondition.COMPLETE)]),
            )
            link.run(spec)
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.stop_code == "TaskFailedToStart"
        reason = stopped.stopped_reason or ""
        assert "did not reach the COMPLETE condition within its startTimeout of 4 seconds" in reason
        assert by_name(stopped, "app").runtime_id is None  # never started
        assert by_name(stopped, "db").exit_code == 143  # stopped with the task

    asyncio.run(main())


def test_health_checks_set_container_and_task_health(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        clock = ScaledClock(20)  # 5 s check intervals take 0.25 s
        async with running_agent(link, tmp_path, clock=clock):
            good = task(
                sh("web", "sleep 30", health_check=HealthCheckSpec(["CMD-SHELL", "true"], 5, 2, 2)),
                sh("plain", "sleep 30"),
            )
            bad = task(
                sh("web", "sleep 30", health_check=HealthCheckSpec(["CMD", "false"], 5, 2, 2)),
            )
            link.run(good)
            link.run(bad)
            healthy = await link.until(good.task_arn, lambda s: s.health_status == "HEALTHY")
            assert by_name(healthy, "web").health_status == "HEALTHY"
            assert by_name(healthy, "plain").health_status == "UNKNOWN"
            unhealthy = await link.until(bad.task_arn, lambda s: s.health_status == "UNHEALTHY")
            assert by_name(unhealthy, "web").health_status == "UNHEALTHY"
            assert unhealthy.status == "RUNNING"  # the agent reports; the server replaces

    asyncio.run(main())


def test_stop_sends_sigterm_then_sigkill_after_stop_timeout(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        stubborn = (
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)"
        )
        async with running_agent(link, tmp_path):
            spec = task(
                ContainerSpec(
                    "stubborn",
                    "process:/",
                    command=[sys.executable, "-c", stubborn],
                    stop_timeout=1,
                ),
                sh("polite", "sleep 30", stop_timeout=10),
            )
            link.run(spec)
            await link.until_status(spec.task_arn, "RUNNING")
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            began = loop.time()
            link.stop(spec.task_arn, "UserInitiated", "Stopped by test")
            stopped = await link.until_status(spec.task_arn, "STOPPED")
            took = loop.time() - began
        assert stopped.stop_code == "UserInitiated"
        assert stopped.stopped_reason == "Stopped by test"
        assert by_name(stopped, "stubborn").exit_code == 137
        assert by_name(stopped, "polite").exit_code == 143
        assert 0.9 < took < 5

    asyncio.run(main())


def test_task_that_cannot_start_is_stopped_with_the_reason(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            missing = task(ContainerSpec("app", "process:/", command=["no-such-binary-here"]))
            no_image = task(ContainerSpec("app", "process:/no/such/dir", command=["true"]))
            link.run(missing)
            link.run(no_image)
            a = await link.until_status(missing.task_arn, "STOPPED")
            b = await link.until_status(no_image.task_arn, "STOPPED")
        assert a.stop_code == "TaskFailedToStart"
        assert a.stopped_reason == (
            'CannotStartContainerError: exec: "no-such-binary-here": executable file not '
            "found in $PATH"
        )
        assert b.stop_code == "TaskFailedToStart"
        assert (b.stopped_reason or "").startswith("CannotPullContainerError:")
        assert b.pull_stopped_at is None

    asyncio.run(main())


def test_awslogs_lines_are_shipped_to_group_and_stream(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        options = {
            "awslogs-group": "/ecs/test",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "web",
            "awslogs-create-group": "true",
        }
        async with running_agent(link, tmp_path):
            spec = task(
                sh("app", "echo hello; echo oops >&2; echo bye", log=LogSpec("awslogs", options)),
                sh("quiet", "echo unshipped; sleep 30", essential=False),
            )
            link.run(spec)
            await link.until_status(spec.task_arn, "STOPPED")
        streams = {(call.group, call.stream, call.create_group) for call in link.logs}
        assert streams == {("/ecs/test", f"web/app/{spec.task_id}", True)}
        messages = [e.message for call in link.logs for e in call.events]
        assert sorted(messages) == ["bye", "hello", "oops"]
        assert all(e.timestamp_ms > 1_600_000_000_000 for call in link.logs for e in call.events)

    asyncio.run(main())


class _SwallowingDriver(ProcessDriver):
    """Its health check ignores the first cancellation, as Python 3.11's `asyncio.wait_for`
    does when the awaited check finishes at the moment the task is cancelled."""

    swallowed = 0

    async def exec_health_check(self, runtime_id: str, command: list[str], timeout: float) -> bool:
        try:
            return await super().exec_health_check(runtime_id, command, timeout)
        except asyncio.CancelledError:
            if self.swallowed:
                raise
            self.swallowed += 1
            await asyncio.sleep(0.05)
            return True


def test_a_task_stops_even_if_its_health_check_swallows_the_cancellation(tmp_path: Path) -> None:
    async def main() -> None:
        driver = _SwallowingDriver(tmp_path)
        slow_check = HealthCheckSpec(["CMD-SHELL", "sleep 5"], 5, 10, 1)
        spec = task(sh("app", "sleep 30", health_check=slow_check))
        statuses: list[str] = []
        runner = TaskRunner(
            spec, driver, ScaledClock(50), lambda r: statuses.append(r.status.status), _no_logs
        )
        run = asyncio.create_task(runner.run())
        while runner.status.status != "RUNNING":
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # 5 s of task time: the first check is under way
        runner.request_stop("UserInitiated", "test")
        await asyncio.wait_for(run, 10)
        assert driver.swallowed == 1
        assert runner.status.status == "STOPPED"
        assert statuses[-1] == "STOPPED"

    asyncio.run(main())


async def _no_logs(*args: object) -> None:
    return None
