"""The task metadata endpoint: its documents, the environment it gives containers, and the
endpoint a real container reads through the process driver."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from dockyard.agent.metadata import MetadataServer, container_document, task_document
from dockyard.agent.runner import TaskRunner
from dockyard.core.clock import RealClock
from dockyard.core.taskspec import LogSpec, NetworkBinding, NetworkMode
from dockyard.drivers.base import TaskNetwork, Usage
from dockyard.drivers.process import ProcessDriver
from tests.unit.agent.conftest import running_agent
from tests.unit.agent.fakes import FakeLink, sh, task

AT = 1_700_000_000.5


async def _no_logs(*args: Any) -> None:
    return None


def _runner(tmp_path: Path, **spec_fields: Any) -> TaskRunner:
    spec = task(
        sh("app", "true", cpu=256, memory=128, labels={"team": "a"},
           log=LogSpec("awslogs", {"awslogs-group": "g"})),
        sh("side", "true", essential=False),
    )  # fmt: skip
    for key, value in spec_fields.items():
        setattr(spec, key, value)
    runner = TaskRunner(spec, ProcessDriver(tmp_path), RealClock(), lambda r: None, _no_logs)
    runner.status.status = "RUNNING"
    runner.status.pull_started_at, runner.status.pull_stopped_at = AT, AT + 1
    app = runner.container("app")
    app.status, app.runtime_id, app.started_at = "RUNNING", "abc123", AT + 2
    app.network_bindings = [NetworkBinding(80, 32768)]
    return runner


def test_container_document_has_the_v4_fields(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    doc = container_document(runner, "app")
    assert doc["DockerId"] == "abc123"
    assert doc["Name"] == "app"
    assert doc["DockerName"] == f"ecs-test-1-app-{runner.spec.task_id[:12]}"
    assert doc["Image"] == "process:/"
    assert doc["DesiredStatus"] == "RUNNING" and doc["KnownStatus"] == "RUNNING"
    assert doc["Limits"] == {"CPU": 256, "Memory": 128}
    assert doc["StartedAt"] == "2023-11-14T22:13:22.500000Z"
    assert doc["Type"] == "NORMAL"
    assert doc["Labels"]["team"] == "a"
    assert doc["Labels"]["com.amazonaws.ecs.task-arn"] == runner.spec.task_arn
    assert doc["Labels"]["com.amazonaws.ecs.cluster"] == "default"
    assert doc["Labels"]["com.amazonaws.ecs.task-definition-version"] == "1"
    assert doc["LogDriver"] == "awslogs" and doc["LogOptions"] == {"awslogs-group": "g"}
    assert doc["Ports"] == [
        {"ContainerPort": 80, "Protocol": "tcp", "HostPort": 32768, "HostIp": "0.0.0.0"}
    ]
    assert doc["Networks"] == [{"NetworkMode": "host"}]
    assert "FinishedAt" not in doc and "ExitCode" not in doc
    side = container_document(runner, "side")
    assert side["KnownStatus"] == "PENDING" and "StartedAt" not in side


def test_task_document_has_the_v4_fields(tmp_path: Path) -> None:
    runner = _runner(tmp_path, cpu=512, memory=1024)
    doc = task_document(runner)
    assert doc["Cluster"] == runner.spec.cluster_arn
    assert doc["TaskARN"] == runner.spec.task_arn
    assert doc["Family"] == "test" and doc["Revision"] == "1"
    assert doc["KnownStatus"] == "RUNNING" and doc["DesiredStatus"] == "RUNNING"
    assert doc["Limits"] == {"CPU": 0.5, "Memory": 1024}
    assert doc["PullStartedAt"] == "2023-11-14T22:13:20.500000Z"
    assert doc["LaunchType"] == "EC2"
    assert [c["Name"] for c in doc["Containers"]] == ["app", "side"]
    runner.request_stop("UserInitiated", "stop")
    assert task_document(runner)["DesiredStatus"] == "STOPPED"


def test_environment_and_paths(tmp_path: Path) -> None:
    async def main() -> None:
        runner = _runner(tmp_path)
        driver = runner.driver
        server = MetadataServer({runner.spec.task_arn: runner}, driver, RealClock(), tmp_path)
        await server.start()
        try:
            app = runner.spec.containers[0]
            host = TaskNetwork(runner.spec.task_arn, NetworkMode.HOST)
            env = await server.environment(runner.spec, app, host)
            assert env["AWS_EXECUTION_ENV"] == "AWS_ECS_EC2"
            assert "AWS_REGION" not in env
            v4 = env["ECS_CONTAINER_METADATA_URI_V4"]
            assert v4.startswith("http://127.0.0.1:")
            token = v4.rsplit("/", 1)[1]
            assert len(token) == 32
            assert env["ECS_CONTAINER_METADATA_URI"] == v4.replace("/v4/", "/v3/")
            assert env["ECS_AGENT_URI"] == v4.replace("/v4/", "/api/")
            other = await server.environment(runner.spec, runner.spec.containers[1], host)
            assert other["ECS_CONTAINER_METADATA_URI_V4"] != v4

            none = TaskNetwork(runner.spec.task_arn, NetworkMode.NONE)
            assert await server.environment(runner.spec, app, none) == {
                "AWS_EXECUTION_ENV": "AWS_ECS_EC2"
            }
            runner.spec.launch_type = "FARGATE"
            fargate = await server.environment(runner.spec, app, host)
            assert fargate["AWS_EXECUTION_ENV"] == "AWS_ECS_FARGATE"
            assert fargate["AWS_REGION"] == fargate["AWS_DEFAULT_REGION"] == "us-east-1"

            def get(url: str) -> tuple[int, Any]:
                try:
                    with urllib.request.urlopen(url, timeout=5) as resp:
                        return int(resp.status), json.loads(resp.read())
                except urllib.error.HTTPError as exc:
                    return exc.code, json.loads(exc.read())

            code, doc = await asyncio.to_thread(get, v4)
            assert code == 200 and doc["Name"] == "app"
            code, doc = await asyncio.to_thread(get, v4.replace("/v4/", "/v3/") + "/task")
            assert code == 200 and doc["TaskARN"] == runner.spec.task_arn
            code, _ = await asyncio.to_thread(get, v4[:-1] + ("0" if v4[-1] != "0" else "1"))
            assert code == 404
            code, _ = await asyncio.to_thread(get, v4 + "/nothing")
            assert code == 404
            code, body = await asyncio.to_thread(
                get, env["ECS_AGENT_URI"] + "/task-protection/v1/state"
            )
            assert code == 501 and body["error"]["Code"] == "NotSupported"
            # a restarted agent answers the same URLs (same secret, same port when free)
            await server.close()
            again = MetadataServer({runner.spec.task_arn: runner}, driver, RealClock(), tmp_path)
            await again.start()
            try:
                code, doc = await asyncio.to_thread(get, v4)
                assert code == 200 and doc["Name"] == "app"
            finally:
                await again.close()
        finally:
            await server.close()

    asyncio.run(main())


def test_stats_are_docker_shaped(tmp_path: Path) -> None:
    class Measured(ProcessDriver):
        async def usage(self, runtime_id: str) -> Usage | None:
            return Usage(cpu_ns=5_000_000, memory_bytes=4096, measured_at=1.0)

    async def main() -> None:
        runner = _runner(tmp_path)
        server = MetadataServer(
            {runner.spec.task_arn: runner}, Measured(tmp_path), RealClock(), tmp_path
        )
        token = server.token(runner.spec.task_arn, "app")
        code, first = await server.answer(f"/v4/{token}/stats")
        assert code == 200
        assert first["id"] == "abc123"
        assert first["cpu_stats"]["cpu_usage"]["total_usage"] == 5_000_000
        assert first["memory_stats"] == {"usage": 4096, "limit": 128 * 1024 * 1024}
        assert first["preread"] == "0001-01-01T00:00:00Z"
        _, second = await server.answer(f"/v4/{token}/stats")
        assert second["precpu_stats"]["cpu_usage"]["total_usage"] == 5_000_000
        assert second["preread"] == first["read"]
        code, per_task = await server.answer(f"/v4/{token}/task/stats")
        assert code == 200 and per_task["abc123"]["id"] == "abc123"
        assert per_task["side"] is None  # not started: no stats, as for a stopped container

    asyncio.run(main())


def test_a_container_reads_its_task_metadata(tmp_path: Path) -> None:
    out = tmp_path / "task.json"
    script = (
        "import os, urllib.request\n"
        "url = os.environ['ECS_CONTAINER_METADATA_URI_V4'] + '/task'\n"
        f"open({str(out)!r}, 'w').write(os.environ['AWS_EXECUTION_ENV'] + '\\n' + "
        "urllib.request.urlopen(url).read().decode())\n"
    )

    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            spec = task(
                sh("reader", f"sleep 0.5; exec {sys.executable} -c \"$SCRIPT\"",
                   environment={"SCRIPT": script, "AWS_EXECUTION_ENV": "mine"}),
            )  # fmt: skip
            link.run(spec)
            await link.until_status(spec.task_arn, "STOPPED")
        execution_env, body = out.read_text().split("\n", 1)
        assert execution_env == "AWS_ECS_EC2"  # the agent's variables win, as in ECS
        doc = json.loads(body)
        assert doc["TaskARN"] == spec.task_arn
        assert doc["KnownStatus"] == "RUNNING"
        assert doc["Containers"][0]["Name"] == "reader"
        assert doc["Containers"][0]["KnownStatus"] == "RUNNING"

    asyncio.run(main())
