"""A reset (or a restored backup, another --store) does not stop the tasks agents run: they
keep running, orphaned, as ECS leaves the tasks of a deregistered instance; the agents report
them and the operator lists and stops them with `dockyard orphans`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or sys.platform != "linux", reason="the process runtime needs root"
)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[DockyardProcess]]:
    started: list[DockyardProcess] = []
    yield started
    for server in started:
        server.forget_tasks()
        server.stop()


def web_taskdef(ecs: Any, port: int) -> str:
    arn: str = ecs.register_task_definition(
        family="orphan-web-" + uuid.uuid4().hex[:6],
        networkMode="host",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{
            "name": "web",
            "image": "process:/tmp",
            "memory": 64,
            "essential": True,
            "entryPoint": [sys.executable, "-u", "-m", "http.server", str(port)],
            "portMappings": [{"containerPort": port, "hostPort": port}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    return arn


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def running(ecs: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        task: dict[str, Any] = ecs.describe_tasks(cluster="default", tasks=[arn])["tasks"][0]
        return task if task["lastStatus"] == "RUNNING" else None

    return wait_for(check, 20, f"task {arn} RUNNING")


def main_pid(agent_dir: Path, runtime_id: str) -> int:
    pid_file = next(agent_dir.glob(f"**/containers/{runtime_id}/pid.json"))
    return int(json.loads(pid_file.read_text())["pid"])


def instances(ecs: Any) -> list[str]:
    try:
        return list(ecs.list_container_instances()["containerInstanceArns"])
    except ecs.exceptions.ClusterNotFoundException:  # until an agent registers into default
        return []


def dockyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def test_after_a_reset_the_embedded_agent_keeps_its_task_as_an_orphan(
    servers: list[DockyardProcess], tmp_path: Path
) -> None:
    server = DockyardProcess(tmp_path / "data", "--runtime", "process").start()
    servers.append(server)
    ecs = make_client("ecs", server.endpoint)
    port = free_port()
    arn = ecs.run_task(taskDefinition=web_taskdef(ecs, port))["tasks"][0]["taskArn"]
    task = running(ecs, arn)
    pid = main_pid(server.data_dir / "agent", task["containers"][0]["runtimeId"])
    wait_for(lambda: answers(port), 20, "the web task answering")

    server.reset()
    assert ecs.list_tasks()["taskArns"] == []
    orphans = wait_for(server.orphans, 20, "the orphan reported")
    # The agent registered again: the server, which forgot the old instance, knows a new one.
    instance = ecs.list_container_instances()["containerInstanceArns"][0]
    assert instance != task["containerInstanceArn"]
    assert [(o["taskArn"], o["containerInstanceArn"]) for o in orphans] == [(arn, instance)]
    assert orphans[0]["lastStatus"] == "RUNNING"
    assert orphans[0]["containers"] == ["web"]
    assert answers(port)  # the task still serves
    assert Path(f"/proc/{pid}").exists()
    assert f"ORPHANED TASK {arn} on container instance {instance}" in server.log()
    # The agent kept its record of the task (it adopts it after a restart too).
    assert list((server.data_dir / "agent" / "agent" / "tasks").glob("*.json"))

    listed = dockyard("orphans", "list", "--server", server.endpoint)
    assert listed.returncode == 0, listed.stderr
    assert arn in listed.stdout and instance in listed.stdout

    # New work runs beside the orphan.
    other = free_port()
    second = ecs.run_task(taskDefinition=web_taskdef(ecs, other))["tasks"][0]["taskArn"]
    running(ecs, second)

    stopped = dockyard("orphans", "stop", arn, "--server", server.endpoint)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert f"stopped {arn}" in stopped.stdout
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "the orphan's process gone")
    assert not answers(port)
    assert server.orphans() == []
    assert "no orphaned tasks" in dockyard("orphans", "list", "--server", server.endpoint).stdout
    assert running(ecs, second)["lastStatus"] == "RUNNING"  # only the orphan was stopped

    unknown = dockyard("orphans", "stop", second, "--server", server.endpoint)
    assert unknown.returncode == 1
    assert f"{second} is not an orphaned task" in unknown.stderr


def test_a_remote_agent_reports_its_orphans_after_the_reset(
    servers: list[DockyardProcess], tmp_path: Path
) -> None:
    server = DockyardProcess(tmp_path / "data", "--no-local-agent").start()
    servers.append(server)
    agent_dir = tmp_path / "agent"
    log = open(tmp_path / "agent.log", "ab")  # noqa: SIM115 - owned by the child
    agent = subprocess.Popen(
        [sys.executable, "-m", "dockyard", "agent", "--server", server.endpoint,
         "--data-dir", str(agent_dir), "--runtime", "process"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    try:
        ecs = make_client("ecs", server.endpoint)
        wait_for(lambda: instances(ecs), 20, "the agent registered")
        port = free_port()
        arn = ecs.run_task(taskDefinition=web_taskdef(ecs, port), launchType="EC2")["tasks"][0][
            "taskArn"
        ]
        task = running(ecs, arn)
        pid = main_pid(agent_dir, task["containers"][0]["runtimeId"])
        wait_for(lambda: answers(port), 20, "the web task answering")

        server.reset()
        orphans = wait_for(server.orphans, 40, "the remote agent's orphan reported")
        assert [o["taskArn"] for o in orphans] == [arn]
        assert orphans[0]["containerInstanceArn"] in instances(ecs)
        assert answers(port)
        assert Path(f"/proc/{pid}").exists()
        agent_log = (tmp_path / "agent.log").read_text()
        assert f"ORPHANED TASK {arn}" in agent_log
        assert f"orphaned task {arn}" in server.log()

        # The remote agent's own data dir is private too, and keeps the orphan's record.
        assert list(agent_dir.glob("agent/tasks/*.json"))
        for path in [agent_dir, *agent_dir.rglob("*")]:
            want = 0o700 if path.is_dir() else 0o600
            assert stat.S_IMODE(path.lstat().st_mode) == want, path

        assert server.stop_orphans() == [arn]
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 20, "the orphan's process gone")
        wait_for(lambda: server.orphans() == [], 20, "the orphan gone from the list")
        assert agent.poll() is None  # the agent is fine and still serving
    finally:  # leave nothing running, even after a failure
        with contextlib.suppress(OSError):
            server.reset()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(
                not (d / "exit.json").exists() for d in agent_dir.glob("process/containers/*")
            ):
                server.stop_orphans()
                time.sleep(0.2)
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
