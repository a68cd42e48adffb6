"""Tasks the server no longer knows keep running (orphans); tasks it stopped are stopped; the
values of a task's secrets never reach the agent's files."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from dockyard.core.clock import ScaledClock
from dockyard.core.taskspec import HealthCheckSpec
from tests.unit.agent.conftest import running_agent
from tests.unit.agent.fakes import FakeLink, sh, task

SECRET = "hunter2-Zq8vR1"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main_pid(data_dir: Path, runtime_id: str | None) -> int:
    path = data_dir / "process" / "containers" / str(runtime_id) / "pid.json"
    doc = json.loads(path.read_text())
    return int(doc["pid"])


def test_a_task_the_server_lost_keeps_running_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = task(sh("app", "sleep 30"))
        async with running_agent(link, tmp_path) as agent:
            link.run(spec)
            running = await link.until_status(spec.task_arn, "RUNNING")
            pid = main_pid(tmp_path, running.containers[0].runtime_id)
            with caplog.at_level(logging.WARNING, logger="dockyard.agent.agent"):
                link.lose(spec.task_arn)
                for _ in range(100):
                    if link.orphan_reports:
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
            assert [r.spec.task_arn for r in link.orphan_reports] == [spec.task_arn]
            assert link.orphan_reports[0].last_status == "RUNNING"
            assert alive(pid)
            assert not agent.runners[spec.task_arn].stopping
            assert list((tmp_path / "agent" / "tasks").glob("*.json"))  # its record is kept
            warning = next(r for r in caplog.records if "ORPHANED TASK" in r.getMessage())
            assert warning.levelno == logging.WARNING
            assert spec.task_arn in warning.getMessage()
            assert "container-instance/default/" in warning.getMessage()
            # The operator stops it: the server lists it desired STOPPED.
            link.run(spec)
            link.stop(spec.task_arn)
            await link.until_status(spec.task_arn, "STOPPED")
            assert not alive(pid)

    asyncio.run(main())


def test_a_task_the_server_lost_while_the_agent_was_down_is_adopted_as_an_orphan(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = task(sh("app", "sleep 30"))
        async with running_agent(link, tmp_path, stop_tasks=False):
            link.run(spec)
            running = await link.until_status(spec.task_arn, "RUNNING")
        pid = main_pid(tmp_path, running.containers[0].runtime_id)
        link.lose(spec.task_arn)
        async with running_agent(link, tmp_path) as agent:
            assert [r.spec.task_arn for r in link.orphan_reports] == [spec.task_arn]
            await asyncio.sleep(0.5)
            assert alive(pid)
            assert not agent.runners[spec.task_arn].stopping
        assert not alive(pid)  # stop_tasks=True stops orphans too

    asyncio.run(main())


def test_secret_values_stay_out_of_the_agent_and_driver_files(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        clock = ScaledClock(20)
        check = HealthCheckSpec(["CMD-SHELL", '[ -n "$DB_PASSWORD" ]'], 5, 2, 2)
        app = sh("app", "sleep 30", health_check=check)
        app.secrets = {"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
        app.environment = {"DB_PASSWORD": SECRET, "PLAIN": "visible"}  # as the server hands it
        spec = task(app)
        async with running_agent(link, tmp_path, clock=clock):
            link.run(spec)
            healthy = await link.until(spec.task_arn, lambda s: s.health_status == "HEALTHY")
            pid = main_pid(tmp_path, healthy.containers[0].runtime_id)
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert f"DB_PASSWORD={SECRET}".encode() in environ  # the process has it
            record = next((tmp_path / "agent" / "tasks").glob("*.json")).read_text()
            assert "PLAIN" in record
            assert SECRET not in record
            for path in tmp_path.rglob("*"):
                if path.is_file():
                    assert SECRET.encode() not in path.read_bytes(), path
                    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0 or path.name in (
                        "hosts", "resolv.conf"), path  # fmt: skip
            for path in [tmp_path, tmp_path / "agent", tmp_path / "process"]:
                assert stat.S_IMODE(path.stat().st_mode) == 0o700, path

    asyncio.run(main())
