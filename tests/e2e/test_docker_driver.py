"""Tasks through the Docker driver and a real engine, with an image built from scratch."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dockyard.agent.agent import Agent
from dockyard.core.clock import RealClock
from dockyard.core.taskspec import (
    ContainerSpec,
    Dependency,
    DependencyCondition,
    HealthCheckSpec,
    NetworkMode,
    PortMapping,
    TaskStatus,
)
from dockyard.drivers.base import OOM_REASON
from dockyard.drivers.docker import LABEL_TASK, DockerDriver
from tests.unit.agent.fakes import FakeLink, task

pytestmark = pytest.mark.e2e
# a shell as PID 1 ignores SIGTERM unless it traps it (then `docker stop` needs SIGKILL)
LONG = "trap 'exit 143' TERM; sleep 300 & wait"


@asynccontextmanager
async def docker_agent(link: FakeLink, data_dir: Path) -> AsyncIterator[Agent]:
    agent = Agent(link, DockerDriver(data_dir), RealClock(), data_dir, poll_wait=5)
    running = asyncio.create_task(agent.run())
    await asyncio.wait_for(agent.ready.wait(), 30)
    try:
        yield agent
    finally:
        await agent.stop(stop_tasks=True)
        await running


def busybox(image: str, name: str, script: str, **kwargs: object) -> ContainerSpec:
    return ContainerSpec(name, image, command=["sh", "-c", script], stop_timeout=2, **kwargs)  # type: ignore[arg-type]


def httpd(image: str, port: int, **kwargs: object) -> ContainerSpec:
    script = (
        f"mkdir -p /www && echo hello-$MODE > /www/index.html && exec httpd -f -p {port} -h /www"
    )
    return busybox(image, "web", script, **kwargs)


def by_name(status: TaskStatus, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in status.containers if c.name == name)


async def http_get(url: str) -> bytes:
    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=2) as response:
            body: bytes = response.read()
            return body

    for _ in range(50):
        try:
            return await asyncio.to_thread(get)
        except OSError:
            await asyncio.sleep(0.2)
    return await asyncio.to_thread(get)


def test_httpd_in_awsvpc_and_bridge_modes_answers_http(busybox_image: str, tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with docker_agent(link, tmp_path):
            vpc = task(
                httpd(busybox_image, 80, environment={"MODE": "awsvpc"}),
                busybox(busybox_image, "sidecar", LONG, essential=False),
                mode=NetworkMode.AWSVPC,
            )
            bridge = task(
                httpd(
                    busybox_image,
                    8080,
                    environment={"MODE": "bridge"},
                    port_mappings=[PortMapping(8080, 0)],
                ),
                mode=NetworkMode.BRIDGE,
            )
            link.run(vpc)
            link.run(bridge)
            a = await link.until_status(vpc.task_arn, "RUNNING", timeout=60)
            b = await link.until_status(bridge.task_arn, "RUNNING", timeout=60)
            assert a.ip_address and a.ip_address.startswith("10.214.")
            assert await http_get(f"http://{a.ip_address}/") == b"hello-awsvpc\n"
            [binding] = by_name(b, "web").network_bindings
            assert binding.container_port == 8080 and binding.host_port > 0
            assert await http_get(f"http://127.0.0.1:{binding.host_port}/") == b"hello-bridge\n"
            link.stop(vpc.task_arn)
            link.stop(bridge.task_arn)
            stopped = await link.until_status(vpc.task_arn, "STOPPED", timeout=60)
            await link.until_status(bridge.task_arn, "STOPPED", timeout=60)
            assert stopped.stop_code == "UserInitiated"

    asyncio.run(main())


def test_memory_limit_kill_is_reported_as_out_of_memory(busybox_image: str, tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with docker_agent(link, tmp_path):
            # 200 MB into a shell variable under a 32 MiB hard limit
            hog = busybox(
                busybox_image,
                "hog",
                "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo $x | wc -c",
                memory=32,
            )
            spec = task(hog)
            link.run(spec)
            stopped = await link.until_status(spec.task_arn, "STOPPED", timeout=60)
        container = by_name(stopped, "hog")
        assert container.exit_code == 137
        assert container.reason == OOM_REASON
        assert stopped.stop_code == "EssentialContainerExited"

    asyncio.run(main())


def test_essential_exit_and_depends_on_order(busybox_image: str, tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with docker_agent(link, tmp_path):
            spec = task(
                busybox(busybox_image, "init", "sleep 1; exit 0", essential=False),
                busybox(
                    busybox_image,
                    "app",
                    "sleep 2; exit 3",
                    depends_on=[Dependency("init", DependencyCondition.SUCCESS)],
                ),
                busybox(busybox_image, "side", LONG, essential=False),
            )
            link.run(spec)
            stopped = await link.until_status(spec.task_arn, "STOPPED", timeout=60)
        init, app, side = (by_name(stopped, n) for n in ("init", "app", "side"))
        assert init.exit_code == 0 and app.exit_code == 3
        assert init.stopped_at <= app.started_at  # type: ignore[operator]
        assert side.exit_code == 143
        assert stopped.stop_code == "EssentialContainerExited"
        assert stopped.stopped_reason == "Essential container in task exited"

    asyncio.run(main())


def test_failing_health_check_makes_the_task_unhealthy(busybox_image: str, tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with docker_agent(link, tmp_path):
            spec = task(
                busybox(
                    busybox_image,
                    "web",
                    LONG,
                    health_check=HealthCheckSpec(["CMD-SHELL", "exit 1"], 1, 1, 1),
                ),
            )
            ok = task(
                busybox(
                    busybox_image,
                    "web",
                    LONG,
                    # A healthy check gets time to answer on a loaded host.
                    health_check=HealthCheckSpec(["CMD", "true"], 1, 30, 3),
                ),
            )
            link.run(spec)
            link.run(ok)
            bad = await link.until(spec.task_arn, lambda s: s.health_status == "UNHEALTHY", 60)
            good = await link.until(ok.task_arn, lambda s: s.health_status == "HEALTHY", 60)
            assert by_name(bad, "web").health_status == "UNHEALTHY"
            assert by_name(good, "web").health_status == "HEALTHY"

    asyncio.run(main())


def test_missing_image_fails_with_cannot_pull(docker_client: object, tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        async with docker_agent(link, tmp_path):
            spec = task(ContainerSpec("app", "dockyard-test/does-not-exist:nope"))
            link.run(spec)
            stopped = await link.until_status(spec.task_arn, "STOPPED", timeout=120)
        assert stopped.stop_code == "TaskFailedToStart"
        assert (stopped.stopped_reason or "").startswith("CannotPullContainerError: ")

    asyncio.run(main())


def test_running_containers_are_adopted_by_a_new_agent(busybox_image: str, tmp_path: Path) -> None:
    async def main() -> None:
        link = FakeLink()
        spec = task(busybox(busybox_image, "app", LONG))
        first = Agent(link, DockerDriver(tmp_path), RealClock(), tmp_path, poll_wait=5)
        running = asyncio.create_task(first.run())
        link.run(spec)
        before = await link.until_status(spec.task_arn, "RUNNING", timeout=60)
        await first.stop()
        await running
        async with docker_agent(link, tmp_path) as second:
            assert spec.task_arn in second.runners
            again = await link.until_status(spec.task_arn, "RUNNING", timeout=30)
            assert again.containers[0].runtime_id == before.containers[0].runtime_id
            link.stop(spec.task_arn)
            stopped = await link.until_status(spec.task_arn, "STOPPED", timeout=60)
        assert stopped.containers[0].exit_code == 143

    asyncio.run(main())


def test_containers_carry_ecs_labels(docker_client, busybox_image: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        link = FakeLink()
        async with docker_agent(link, tmp_path):
            spec = task(busybox(busybox_image, "app", LONG))
            link.run(spec)
            await link.until_status(spec.task_arn, "RUNNING", timeout=60)
            [found] = docker_client.containers.list(
                filters={"label": f"{LABEL_TASK}={spec.task_arn}"}
            )
            assert found.labels["com.amazonaws.ecs.container-name"] == "app"
            assert found.labels["com.amazonaws.ecs.cluster"] == spec.cluster_arn

    asyncio.run(main())
