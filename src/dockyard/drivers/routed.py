"""`--runtime auto` on a host with a Docker engine: a task whose images are all `process:`
runs with the process driver, any other with Docker, so the README's `process:` tasks and
real images both run on one agent.

A task's calls go to its driver (`driver_for`); calls that name only a container are routed
by its runtime id, which tells the drivers apart: a process container's id is 32 hex digits
(a UUID), a Docker container's 64."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dockyard.core.taskspec import ContainerSpec, TaskSpec
from dockyard.drivers.base import (
    AdoptedContainer,
    Capabilities,
    ExitInfo,
    LogLine,
    StartedContainer,
    TaskNetwork,
    Usage,
)
from dockyard.drivers.docker import DockerDriver
from dockyard.drivers.process import ProcessDriver

PROCESS_IMAGE = "process:"
PROCESS_ID_LENGTH = 32


def runs_as_processes(spec: TaskSpec) -> bool:
    return bool(spec.containers) and all(c.image.startswith(PROCESS_IMAGE) for c in spec.containers)


class RoutedDriver:
    def __init__(self, docker: DockerDriver, process: ProcessDriver) -> None:
        self.docker = docker
        self.process = process
        self._task_driver: dict[str, DockerDriver | ProcessDriver] = {}

    def driver_for(self, spec: TaskSpec) -> DockerDriver | ProcessDriver:
        driver = self.process if runs_as_processes(spec) else self.docker
        self._task_driver[spec.task_arn] = driver
        return driver

    def _by_id(self, runtime_id: str) -> DockerDriver | ProcessDriver:
        return self.process if len(runtime_id) == PROCESS_ID_LENGTH else self.docker

    def capabilities(self) -> Capabilities:
        docker, process = self.docker.capabilities(), self.process.capabilities()
        modes = list(dict.fromkeys([*docker.network_modes, *process.network_modes]))
        attributes = {**process.attributes, **docker.attributes}
        return Capabilities(
            "docker", modes, docker.cgroups, docker.netns, docker.engine_health, attributes
        )

    async def prepare_task(self, spec: TaskSpec) -> TaskNetwork:
        return await self.driver_for(spec).prepare_task(spec)

    async def ensure_image(self, spec: TaskSpec, container: ContainerSpec) -> None:
        await self.driver_for(spec).ensure_image(spec, container)

    async def start_container(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> StartedContainer:
        return await self.driver_for(spec).start_container(spec, container, network)

    async def metadata_host(self, network: TaskNetwork) -> str | None:
        driver = self._task_driver.get(network.task_arn, self.docker)
        return await driver.metadata_host(network)

    async def credentials_host(self, network: TaskNetwork) -> str | None:
        driver = self._task_driver.get(network.task_arn, self.docker)
        return await driver.credentials_host(network)

    async def wait(self, runtime_id: str) -> ExitInfo:
        return await self._by_id(runtime_id).wait(runtime_id)

    async def stop(self, runtime_id: str, timeout: float) -> None:
        await self._by_id(runtime_id).stop(runtime_id, timeout)

    async def exec_health_check(self, runtime_id: str, command: list[str], timeout: float) -> bool:
        return await self._by_id(runtime_id).exec_health_check(runtime_id, command, timeout)

    async def engine_health(self, runtime_id: str) -> str:
        return await self._by_id(runtime_id).engine_health(runtime_id)

    def logs(self, runtime_id: str, since: int = 0) -> AsyncIterator[LogLine]:
        return self._by_id(runtime_id).logs(runtime_id, since)

    async def usage(self, runtime_id: str) -> Usage | None:
        return await self._by_id(runtime_id).usage(runtime_id)

    async def remove_container(self, runtime_id: str) -> None:
        await self._by_id(runtime_id).remove_container(runtime_id)

    async def cleanup_task(self, task_arn: str) -> None:
        driver = self._task_driver.pop(task_arn, None)
        every: list[DockerDriver | ProcessDriver] = [self.process, self.docker]
        for each in [driver] if driver is not None else every:
            await each.cleanup_task(task_arn)

    async def adopt(self) -> list[AdoptedContainer]:
        return [*await self.process.adopt(), *await self.docker.adopt()]

    async def close(self) -> None:
        await self.process.close()
        await self.docker.close()
