"""The process driver on this host: namespaces, published ports, cgroup limits, environment."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from dockyard.core.taskspec import ContainerSpec, NetworkMode, PortMapping, TaskSpec
from dockyard.drivers import cgroups, hostnet
from dockyard.drivers.base import OOM_REASON, DriverError, LogLine
from dockyard.drivers.process import ProcessDriver

root_only = pytest.mark.skipif(not hostnet.available(), reason="needs root and network namespaces")
_n = 0


def spec_of(*containers: ContainerSpec, mode: NetworkMode = NetworkMode.HOST) -> TaskSpec:
    global _n
    _n += 1
    return TaskSpec(
        f"arn:aws:ecs:us-east-1:123456789012:task/default/drv{os.getpid()}x{_n}",
        "arn:aws:ecs:us-east-1:123456789012:cluster/default",
        "t",
        1,
        mode,
        list(containers),
    )


async def lines(stream: AsyncIterator[LogLine]) -> list[str]:
    return [line.message async for line in stream]


def run(scenario: Callable[[ProcessDriver], Awaitable[None]], data_dir: Path) -> None:
    async def main() -> None:
        driver = ProcessDriver(data_dir)
        try:
            await scenario(driver)
        finally:
            await driver.close()

    asyncio.run(main())


async def http_get(url: str, attempts: int = 50) -> tuple[int, bytes]:
    def get() -> tuple[int, bytes]:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()

    for _ in range(attempts):
        try:
            return await asyncio.to_thread(get)
        except OSError:
            await asyncio.sleep(0.1)
    return await asyncio.to_thread(get)


def http_server(port: int, directory: Path) -> ContainerSpec:
    return ContainerSpec(
        "web",
        f"process:{directory}",
        command=[sys.executable, "-m", "http.server", str(port), "--bind", "0.0.0.0"],
        port_mappings=[PortMapping(port, 0)],
    )


@pytest.mark.netns
@root_only
def test_awsvpc_task_gets_its_own_address_reachable_from_the_host(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("awsvpc ok")

    async def scenario(driver: ProcessDriver) -> None:
        spec = spec_of(http_server(8080, tmp_path), mode=NetworkMode.AWSVPC)
        network = await driver.prepare_task(spec)
        try:
            assert network.ip_address and network.ip_address.startswith("10.213.")
            started = await driver.start_container(spec, spec.containers[0], network)
            status, body = await http_get(f"http://{network.ip_address}:8080/index.html")
            assert (status, body) == (200, b"awsvpc ok")
            # the port is not open on the host: the task has its own namespace
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", 8080), timeout=0.5).close()
            await driver.stop(started.runtime_id, 5)
            await driver.remove_container(started.runtime_id)
        finally:
            await driver.cleanup_task(spec.task_arn)
        assert not os.path.exists(str(network.netns))

    run(scenario, tmp_path / "data")


@pytest.mark.netns
@root_only
def test_bridge_task_publishes_a_dynamic_host_port(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("bridge ok")

    async def scenario(driver: ProcessDriver) -> None:
        spec = spec_of(http_server(8081, tmp_path), mode=NetworkMode.BRIDGE)
        network = await driver.prepare_task(spec)
        try:
            started = await driver.start_container(spec, spec.containers[0], network)
            [binding] = started.network_bindings
            assert binding.container_port == 8081
            assert 32768 <= binding.host_port <= 60999
            status, body = await http_get(f"http://127.0.0.1:{binding.host_port}/index.html")
            assert (status, body) == (200, b"bridge ok")
            await driver.stop(started.runtime_id, 5)
        finally:
            await driver.cleanup_task(spec.task_arn)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", binding.host_port), timeout=0.5).close()

    run(scenario, tmp_path / "data")


@pytest.mark.netns
@root_only
def test_none_mode_has_only_loopback(tmp_path: Path) -> None:
    script = "import socket; print(sorted(n for _, n in socket.if_nameindex()))"

    async def scenario(driver: ProcessDriver) -> None:
        spec = spec_of(
            ContainerSpec("c", "x", command=[sys.executable, "-c", script]), mode=NetworkMode.NONE
        )
        network = await driver.prepare_task(spec)
        try:
            started = await driver.start_container(spec, spec.containers[0], network)
            assert (await driver.wait(started.runtime_id)).exit_code == 0
            assert await lines(driver.logs(started.runtime_id)) == ["['lo']"]
        finally:
            await driver.cleanup_task(spec.task_arn)

    run(scenario, tmp_path / "data")


@pytest.mark.netns
@pytest.mark.skipif(not cgroups.available(), reason="needs cgroup v1 memory and cpu controllers")
def test_memory_limit_kill_is_reported_as_out_of_memory(tmp_path: Path) -> None:
    hog = "x = bytearray(200 * 1024 * 1024); print('survived')"

    async def scenario(driver: ProcessDriver) -> None:
        spec = spec_of(
            ContainerSpec("hog", "x", command=[sys.executable, "-c", hog], memory=64, cpu=256)
        )
        network = await driver.prepare_task(spec)
        started = await driver.start_container(spec, spec.containers[0], network)
        info = await driver.wait(started.runtime_id)
        assert (info.exit_code, info.reason, info.oom) == (137, OOM_REASON, True)
        assert "survived" not in await lines(driver.logs(started.runtime_id))
        await driver.remove_container(started.runtime_id)
        await driver.cleanup_task(spec.task_arn)

    run(scenario, tmp_path / "data")


def test_environment_files_working_directory_and_exit_code(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("# comment\nFROM_FILE=file\nOVERRIDDEN=file\n\nWITH_EQ=a=b\n")
    workdir = tmp_path / "work"
    workdir.mkdir()

    async def scenario(driver: ProcessDriver) -> None:
        spec = spec_of(
            ContainerSpec(
                "c",
                "process:/",
                entry_point=["/bin/sh", "-c"],
                command=['echo "$FROM_FILE $OVERRIDDEN $WITH_EQ $PLAIN"; pwd; exit 5'],
                environment={"OVERRIDDEN": "env", "PLAIN": "plain"},
                environment_files=[str(env_file)],
                working_directory=str(workdir),
            )
        )
        started = await driver.start_container(
            spec, spec.containers[0], await driver.prepare_task(spec)
        )
        assert (await driver.wait(started.runtime_id)).exit_code == 5
        assert await lines(driver.logs(started.runtime_id)) == ["file env a=b plain", str(workdir)]

    run(scenario, tmp_path / "data")


def test_image_directory_is_the_default_working_directory(tmp_path: Path) -> None:
    async def scenario(driver: ProcessDriver) -> None:
        spec = spec_of(ContainerSpec("c", f"process:{tmp_path}", command=["pwd"]))
        await driver.ensure_image(spec, spec.containers[0])
        started = await driver.start_container(
            spec, spec.containers[0], await driver.prepare_task(spec)
        )
        await driver.wait(started.runtime_id)
        assert await lines(driver.logs(started.runtime_id)) == [str(tmp_path)]
        missing = spec_of(ContainerSpec("c", "process:/does/not/exist", command=["pwd"]))
        with pytest.raises(DriverError, match=r"^CannotPullContainerError: "):
            await driver.ensure_image(missing, missing.containers[0])

    run(scenario, tmp_path / "data")


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_user_by_name_and_uid_gid(tmp_path: Path) -> None:
    async def scenario(driver: ProcessDriver) -> None:
        for user, expected in (("nobody", "65534:65534"), ("1234:2345", "1234:2345")):
            spec = spec_of(
                ContainerSpec(
                    "c", "x", command=["/bin/sh", "-c", 'echo "$(id -u):$(id -g)"'], user=user
                )
            )
            started = await driver.start_container(
                spec, spec.containers[0], await driver.prepare_task(spec)
            )
            await driver.wait(started.runtime_id)
            assert await lines(driver.logs(started.runtime_id)) == [expected]
        bad = spec_of(ContainerSpec("c", "x", command=["true"], user="no-such-user"))
        with pytest.raises(DriverError, match="unable to find user no-such-user"):
            await driver.start_container(bad, bad.containers[0], await driver.prepare_task(bad))

    run(scenario, tmp_path / "data")


def test_process_survives_a_new_driver_and_is_adopted(tmp_path: Path) -> None:
    async def main() -> None:
        first = ProcessDriver(tmp_path)
        spec = spec_of(ContainerSpec("c", "x", command=["/bin/sh", "-c", "sleep 30"]))
        started = await first.start_container(
            spec, spec.containers[0], await first.prepare_task(spec)
        )
        await first.close()
        second = ProcessDriver(tmp_path)
        [adopted] = await second.adopt()
        assert (adopted.runtime_id, adopted.task_arn, adopted.container_name, adopted.running) == (
            started.runtime_id,
            spec.task_arn,
            "c",
            True,
        )
        await second.stop(adopted.runtime_id, 5)
        assert (await second.wait(adopted.runtime_id)).exit_code == 143
        [gone] = await second.adopt()
        assert not gone.running and gone.exit is not None and gone.exit.exit_code == 143
        await second.close()

    asyncio.run(main())


@pytest.mark.netns
@root_only
def test_namespaces_left_by_dead_tasks_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    import subprocess
    import time
    import uuid

    net = hostnet.HostNetwork(bridge="dysweep0", subnet="10.219.7.0/24", state_dir=tmp_path)
    empty, busy = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    net.create(empty, net.allocate(empty))
    net.create(busy, net.allocate(busy))
    sleeper = subprocess.Popen(["nsenter", f"--net={net.netns_path(busy)}", "sleep", "60"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # nsenter has entered the namespace
            if (
                os.stat(f"/proc/{sleeper.pid}/ns/net").st_ino
                == os.stat(net.netns_path(busy)).st_ino
            ):
                break
            time.sleep(0.05)
        # a fresh namespace is left alone: its task may be about to start in it
        assert net.sweep(keys={empty, busy}) == []
        later = time.time() + hostnet.STALE_AFTER + 1
        assert net.sweep(now=later, keys={empty, busy}) == [empty]
        assert not net.exists(empty) and net.exists(busy)
    finally:
        sleeper.kill()
        sleeper.wait()
        net.destroy(busy)
        net.destroy(empty)
        from pyroute2 import IPRoute

        with IPRoute() as ipr:
            if ipr.link_lookup(ifname="dysweep0"):
                ipr.link("del", ifname="dysweep0")
