"""The agent's task role credentials endpoint: what botocore in a container reads, who may
read it, refreshing, and that nothing of it is written to the agent's files."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request
from pathlib import Path

import pytest

from dockyard.agent.credentials import RoleCredentials, document
from dockyard.agent.metadata import MetadataServer
from dockyard.agent.runner import TaskRunner
from dockyard.core.clock import ManualClock, RealClock
from dockyard.core.rolecredentials import TemporaryCredentials
from dockyard.core.taskspec import NetworkMode, TaskSpec
from dockyard.drivers.base import TaskNetwork
from dockyard.drivers.process import ProcessDriver
from tests.unit.agent.conftest import running_agent
from tests.unit.agent.fakes import INSTANCE, FakeLink, sh, task

ROLE = "arn:aws:iam::123456789012:role/app"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"


def creds(expiration: float, key: str = "ASIAEXAMPLE0001") -> TemporaryCredentials:
    return TemporaryCredentials(key, SECRET, "session-token-1", expiration, ROLE)


def role_task(*containers: object) -> TaskSpec:
    spec = task(*containers)  # type: ignore[arg-type]
    spec.task_role_arn = ROLE
    return spec


async def _no_logs(*args: object) -> None:
    return None


def test_botocore_in_a_container_signs_with_the_task_role(tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    script = (
        "import json, os, botocore.session\n"
        "c = botocore.session.get_session().get_credentials()\n"
        "f = c.get_frozen_credentials()\n"
        f"open({str(out)!r}, 'w').write(json.dumps({{'method': c.method, 'key': f.access_key,"
        " 'secret': f.secret_key, 'token': f.token,"
        " 'uri': os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']}))\n"
    )

    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path) as agent:
            spec = role_task(sh("app", f'exec {sys.executable} -c "$SCRIPT"',
                                environment={"SCRIPT": script}))  # fmt: skip
            link.role_credentials[spec.task_arn] = creds(RealClock().now() + 3600)
            link.run(spec)
            await link.until_status(spec.task_arn, "STOPPED")
            assert link.credential_calls == [(INSTANCE, spec.task_arn)]
            files = [p for p in tmp_path.rglob("*") if p.is_file() and p != out]
            for path in files:  # nothing of it in the agent's files
                data = path.read_bytes()
                assert SECRET.encode() not in data, path
                assert b"session-token-1" not in data, path
            assert agent.metadata is not None
            _, token = agent.metadata._credentials_keys(spec.task_arn)
            assert not any(token.encode() in p.read_bytes() for p in files)
        seen = json.loads(out.read_text())
        assert seen["method"] == "container-role"
        assert (seen["key"], seen["secret"], seen["token"]) == (
            "ASIAEXAMPLE0001",
            SECRET,
            "session-token-1",
        )
        assert seen["uri"].startswith("http://127.0.0.1:")  # host network: loopback

    asyncio.run(main())


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")
def test_a_bridge_task_reaches_the_endpoint_at_the_link_local_address(tmp_path: Path) -> None:
    out = tmp_path / "seen.txt"
    script = (
        "import os, botocore.session\n"
        "f = botocore.session.get_session().get_credentials().get_frozen_credentials()\n"
        f"open({str(out)!r}, 'w').write(f.access_key + ' ' + "
        "os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'])\n"
    )

    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            spec = role_task(sh("app", f'exec {sys.executable} -c "$SCRIPT"',
                                environment={"SCRIPT": script}))  # fmt: skip
            spec.network_mode = NetworkMode.BRIDGE
            link.role_credentials[spec.task_arn] = creds(RealClock().now() + 3600)
            link.run(spec)
            status = await link.until_status(spec.task_arn, "STOPPED")
            assert status.containers[0].exit_code == 0, status
        key, uri = out.read_text().split(" ")
        assert key == "ASIAEXAMPLE0001"
        assert uri.startswith("http://169.254.170.2:")

    asyncio.run(main())


def test_a_task_without_role_gets_no_credentials_variables(tmp_path: Path) -> None:
    async def main() -> None:
        fetched: list[str] = []

        async def fetch(arn: str) -> TemporaryCredentials:
            fetched.append(arn)
            return creds(4_000_000_000)

        server = MetadataServer({}, ProcessDriver(tmp_path), RealClock(), tmp_path,
                                RoleCredentials(fetch, RealClock()))  # fmt: skip
        await server.start()
        try:
            spec = task(sh("app", "true"))
            env = await server.environment(
                spec, spec.containers[0], TaskNetwork(spec.task_arn, NetworkMode.HOST)
            )
            assert not any(k.startswith("AWS_CONTAINER_") for k in env)
            assert fetched == []
        finally:
            await server.close()

    asyncio.run(main())


def test_only_the_holder_of_a_tasks_id_and_token_reads_its_credentials(tmp_path: Path) -> None:
    async def main() -> None:
        async def fetch(arn: str) -> TemporaryCredentials:
            return creds(4_000_000_000, key="ASIA" + arn[-8:].upper())

        driver = ProcessDriver(tmp_path)
        specs = [role_task(sh("app", "true")), role_task(sh("app", "true"))]
        runners = {
            s.task_arn: TaskRunner(s, driver, RealClock(), lambda r: None, _no_logs) for s in specs
        }
        server = MetadataServer(runners, driver, RealClock(), tmp_path,
                                RoleCredentials(fetch, RealClock()))  # fmt: skip
        await server.start()
        try:
            envs = [
                await server.environment(
                    s, s.containers[0], TaskNetwork(s.task_arn, NetworkMode.HOST)
                )
                for s in specs
            ]
            paths = [e["AWS_CONTAINER_CREDENTIALS_FULL_URI"].split(":", 2)[2] for e in envs]
            paths = ["/" + p.split("/", 1)[1] for p in paths]
            tokens = [e["AWS_CONTAINER_AUTHORIZATION_TOKEN"] for e in envs]
            assert paths[0] != paths[1] and tokens[0] != tokens[1]
            code, body = await server.answer(paths[0], tokens[0])
            assert code == 200
            assert body == {
                "RoleArn": ROLE,
                "AccessKeyId": "ASIA" + specs[0].task_arn[-8:].upper(),
                "SecretAccessKey": SECRET,
                "Token": "session-token-1",
                "Expiration": "2096-10-02T07:06:40Z",
            }
            for path, token in [(paths[0], tokens[1]), (paths[1], tokens[0]), (paths[0], None)]:
                code, body = await server.answer(path, token)
                assert code == 400
                assert body["code"] == "InvalidIdInRequest"
            code, body = await server.answer("/v2/credentials", tokens[0])
            assert code == 400
        finally:
            await server.close()

    asyncio.run(main())


def test_credentials_are_refreshed_once_half_their_lifetime_passed() -> None:
    clock = ManualClock(start=1_700_000_000.0)
    issued: list[float] = []

    async def fetch(arn: str) -> TemporaryCredentials:
        issued.append(clock.now())
        return creds(clock.now() + 3600, key=f"ASIA{len(issued):04d}")

    async def main() -> None:
        held = RoleCredentials(fetch, clock)
        first = await held.get("t")
        clock.advance(1700)
        assert await held.get("t") is first
        await held.refresh_due(["t"])
        assert issued == [1_700_000_000.0]
        clock.advance(200)  # past half the hour: refreshed ahead of the SDK's own refresh
        await held.refresh_due(["t"])
        assert issued == [1_700_000_000.0, 1_700_001_900.0]
        assert (await held.get("t")).access_key_id == "ASIA0002"
        await held.refresh_due([])  # the task is gone: its credentials are let go
        await held.get("t")
        assert len(issued) == 3

    asyncio.run(main())


def test_concurrent_requests_fetch_once() -> None:
    calls: list[str] = []

    async def fetch(arn: str) -> TemporaryCredentials:
        calls.append(arn)
        await asyncio.sleep(0.05)
        return creds(4_000_000_000)

    async def main() -> None:
        held = RoleCredentials(fetch, RealClock())
        results = await asyncio.gather(*(held.get("t") for _ in range(5)))
        assert len(calls) == 1 and all(r is results[0] for r in results)

    asyncio.run(main())


def test_a_task_whose_credentials_cannot_be_had_fails_to_start(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with running_agent(link, tmp_path):
            spec = role_task(sh("app", "sleep 30"))
            link.run(spec)  # no credentials for it on the server
            status = await link.until_status(spec.task_arn, "STOPPED")
        assert status.stop_code == "TaskFailedToStart"
        assert status.stopped_reason is not None
        assert "unable to assume the role" in status.stopped_reason
        assert status.containers[0].runtime_id is None  # never started

    asyncio.run(main())


def test_the_document_is_what_botocore_reads() -> None:
    doc = document(creds(1_700_003_600.0))
    assert set(doc) == {"RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
    assert doc["Expiration"] == "2023-11-14T23:13:20Z"


@pytest.mark.parametrize("path", ["/v2/credentials/", "/v2/credentials/x/y"])
def test_malformed_credentials_paths_are_refused(tmp_path: Path, path: str) -> None:
    async def main() -> None:
        server = MetadataServer({}, None, RealClock(), tmp_path)
        code, body = await server.answer(path, "t")
        assert code == 400 and body["code"] == "InvalidIdInRequest"

    asyncio.run(main())


def test_a_restarted_agent_serves_the_credentials_of_the_tasks_it_adopts(tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = role_task(sh("app", "sleep 30"))
        link.role_credentials[spec.task_arn] = creds(RealClock().now() + 3600)
        network = TaskNetwork(spec.task_arn, NetworkMode.HOST)
        async with running_agent(link, tmp_path, stop_tasks=False) as first:
            link.run(spec)
            await link.until_status(spec.task_arn, "RUNNING")
            assert first.metadata is not None
            given = await first.metadata._credentials_environment(spec, network)
        link.credential_calls.clear()
        async with running_agent(link, tmp_path) as second:
            assert spec.task_arn in second.runners
            uri = given["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
            token = given["AWS_CONTAINER_AUTHORIZATION_TOKEN"]

            def fetch() -> dict[str, str]:
                request = urllib.request.Request(uri, headers={"Authorization": token})
                with urllib.request.urlopen(request, timeout=5) as response:
                    return dict(json.loads(response.read()))

            doc = await asyncio.to_thread(fetch)  # the URL and token the container was given
            assert doc["AccessKeyId"] == "ASIAEXAMPLE0001"
            assert link.credential_calls == [(INSTANCE, spec.task_arn)]  # fetched again
            link.stop(spec.task_arn)
            await link.until_status(spec.task_arn, "STOPPED")
            assert second.metadata is not None
            path = "/" + uri.split("/", 3)[3]
            code, _ = await second.metadata.answer(path, token)
            assert code == 400  # a stopped task's credentials are no longer served

    asyncio.run(main())
