"""A restarted agent (new Agent and driver on the same data dir) re-attaches to its tasks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.unit.agent.conftest import running_agent
from tests.unit.agent.fakes import FakeLink, sh, task


def test_running_task_is_adopted_and_stays_running(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = task(sh("app", "echo before; sleep 1.5; echo after; sleep 30"))
        async with running_agent(link, tmp_path, stop_tasks=False) as first:
            link.run(spec)
            running = await link.until_status(spec.task_arn, "RUNNING")
            runtime_id = running.containers[0].runtime_id
            await asyncio.sleep(0.5)
            assert first.runners
        link.reports.clear()
        async with running_agent(link, tmp_path) as second:
            assert spec.task_arn in second.runners
            again = await link.until_status(spec.task_arn, "RUNNING")
            assert again.containers[0].runtime_id == runtime_id
            await asyncio.sleep(1.5)
            assert link.latest[spec.task_arn].status == "RUNNING"
            link.stop(spec.task_arn)
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.containers[0].exit_code == 143

    asyncio.run(main())


def test_container_that_exited_while_the_agent_was_down_is_reported(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = task(sh("app", "sleep 0.5; exit 7"))
        async with running_agent(link, tmp_path, stop_tasks=False):
            link.run(spec)
            await link.until_status(spec.task_arn, "RUNNING")
        await asyncio.sleep(1.0)
        async with running_agent(link, tmp_path):
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.stop_code == "EssentialContainerExited"
        assert stopped.containers[0].exit_code == 7

    asyncio.run(main())


def test_task_the_server_no_longer_assigns_is_stopped_on_adoption(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = task(sh("app", "sleep 30"))
        async with running_agent(link, tmp_path, stop_tasks=False):
            link.run(spec)
            running = await link.until_status(spec.task_arn, "RUNNING")
        link.forget(spec.task_arn)
        async with running_agent(link, tmp_path):
            stopped = await link.until_status(spec.task_arn, "STOPPED")
        assert stopped.containers[0].exit_code == 143
        assert stopped.stop_code == "TaskStopped"
        assert not (
            tmp_path / "process" / "containers" / str(running.containers[0].runtime_id)
        ).exists()

    asyncio.run(main())


def test_awslogs_resume_from_the_last_shipped_line(tmp_path: Path) -> None:
    async def main() -> None:
        from dockyard.core.taskspec import LogSpec

        link = FakeLink()
        log = LogSpec("awslogs", {"awslogs-group": "g", "awslogs-stream-prefix": "p"})
        spec = task(sh("app", "echo one; sleep 1; echo two; sleep 30", log=log))
        async with running_agent(link, tmp_path, stop_tasks=False):
            link.run(spec)
            await link.until_status(spec.task_arn, "RUNNING")
            await asyncio.sleep(0.6)
        async with running_agent(link, tmp_path):
            await asyncio.sleep(1.2)
            link.stop(spec.task_arn)
            await link.until_status(spec.task_arn, "STOPPED")
        messages = [e.message for call in link.logs for e in call.events]
        assert messages == ["one", "two"]

    asyncio.run(main())
