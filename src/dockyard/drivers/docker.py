"""The `docker` driver: containers through a Docker engine (Docker SDK, in worker threads).

Containers carry ECS's labels (`com.amazonaws.ecs.task-arn`, `...container-name`,
`...cluster`) plus `dockyard.managed=true`, which is how a restarted agent finds them again.
awsvpc tasks: the first container joins the `dockyard-awsvpc` network and gets the task's
address (reachable from the host through the network's bridge); the task's other containers
share its network namespace (`container:<id>`), so they talk over localhost as in ECS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from dockyard.core.registryauth import RegistryAuth
from dockyard.core.taskspec import FEATURES, ContainerSpec, NetworkBinding, NetworkMode, TaskSpec
from dockyard.drivers import docker_options, linklocal
from dockyard.drivers.attributes import ecs_attributes
from dockyard.drivers.base import (
    OOM_REASON,
    AdoptedContainer,
    Capabilities,
    DriverError,
    ExitInfo,
    LogLine,
    StartedContainer,
    TaskNetwork,
    Usage,
)
from dockyard.drivers.procenv import read_env_file

log = logging.getLogger(__name__)

# How long an exit by SIGKILL that Dockyard did not cause waits for the engine's word that it
# was an OOM kill (the engine's OOM event can land seconds after the exit on a loaded host).
OOM_SETTLE_TRIES = 100
OOM_SETTLE_INTERVAL = 0.05  # seconds

T = TypeVar("T")
AWSVPC_NETWORK = "dockyard-awsvpc"
AWSVPC_SUBNET = "10.214.0.0/16"
LABEL_TASK = "com.amazonaws.ecs.task-arn"
LABEL_CONTAINER = "com.amazonaws.ecs.container-name"
LABEL_CLUSTER = "com.amazonaws.ecs.cluster"
LABEL_FAMILY = "com.amazonaws.ecs.task-definition-family"
LABEL_REVISION = "com.amazonaws.ecs.task-definition-version"
LABEL_MANAGED = "dockyard.managed"
LABEL_PRIMARY = "dockyard.awsvpc-primary"
NS = 1_000_000_000
HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}


def healthcheck(container: ContainerSpec) -> dict[str, Any] | None:
    hc = container.health_check
    if hc is None:
        return None
    return {
        "test": hc.command,
        "interval": hc.interval * NS,
        "timeout": hc.timeout * NS,
        "retries": hc.retries,
        "start_period": hc.start_period * NS,
    }


def docker_usage(stats: dict[str, Any], measured_at: float) -> Usage | None:
    """A container's usage from the Docker stats API (cgroup v1 or v2 engines)."""
    try:
        cpu_ns = int(stats["cpu_stats"]["cpu_usage"]["total_usage"])
    except (KeyError, TypeError, ValueError):
        return None
    memory = stats.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    inactive = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    used = max(0, int(memory.get("usage") or 0) - int(inactive or 0))
    return Usage(cpu_ns, used, measured_at)


def _parse_ts(raw: str) -> int:
    """Docker's RFC 3339 timestamp with nanoseconds -> epoch nanoseconds."""
    head, _, frac = raw.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return seconds * NS + int((frac + "000000000")[:9])


class DockerDriver:
    def __init__(self, data_dir: Path | None = None, client: Any = None) -> None:
        import docker

        self._client = client or docker.from_env()
        # waits and log streams block a thread each for a container's lifetime
        self._pool = concurrent.futures.ThreadPoolExecutor(64, thread_name_prefix="docker")
        self._primary: dict[str, str] = {}  # task ARN -> container id holding the awsvpc netns
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._stopping: set[str] = set()  # containers Dockyard asked to stop: kills of its own

    @staticmethod
    def available(client: Any = None) -> bool:
        try:
            import docker

            (client or docker.from_env(timeout=3)).ping()
            return True
        except Exception:
            return False

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    def capabilities(self) -> Capabilities:
        modes = [NetworkMode.AWSVPC, NetworkMode.BRIDGE, NetworkMode.HOST, NetworkMode.NONE]
        attrs = ecs_attributes(
            "docker",
            modes,
            True,
            FEATURES,
            (
                "ecs.capability.docker-plugin.local",
                # repositoryCredentials: the pull uses the secret's username and password
                "ecs.capability.private-registry-authentication.secretsmanager",
                "ecs.capability.execution-role-ecr-pull",
                "com.amazonaws.ecs.capability.ecr-auth",
                "dockyard.capability.oci-images",
            ),
        )
        return Capabilities("docker", modes, True, True, True, attrs)

    # -- task network ------------------------------------------------------------------------

    async def prepare_task(self, spec: TaskSpec) -> TaskNetwork:
        if spec.network_mode == NetworkMode.AWSVPC:
            await self._call(self._ensure_awsvpc_network)
        if spec.volumes:
            await self._call(docker_options.ensure_volumes, self._client, spec)
        return TaskNetwork(spec.task_arn, spec.network_mode)

    async def metadata_host(self, network: TaskNetwork) -> str | None:
        """Where a container on `network` reaches the host: loopback in host mode, the
        gateway of its Docker network in bridge and awsvpc modes; nowhere from `none`."""
        if network.mode == NetworkMode.HOST:
            return "127.0.0.1"
        if network.mode == NetworkMode.BRIDGE:
            return await self._call(self._gateway, "bridge")
        if network.mode == NetworkMode.AWSVPC:
            return await self._call(self._gateway, AWSVPC_NETWORK)
        return None

    async def credentials_host(self, network: TaskNetwork) -> str | None:
        """Where a container on `network` reaches the task credentials endpoint at an
        address AWS SDKs accept: loopback in host mode, 169.254.170.2 (held by the host,
        reached through the Docker network's gateway) in bridge and awsvpc modes."""
        if network.mode == NetworkMode.HOST:
            return "127.0.0.1"
        if network.mode in (NetworkMode.BRIDGE, NetworkMode.AWSVPC):
            return await asyncio.to_thread(linklocal.ensure)
        return None

    def _gateway(self, name: str) -> str | None:
        import docker.errors

        try:
            attrs = self._client.networks.get(name).attrs
        except docker.errors.APIError:
            return None
        for config in (attrs.get("IPAM") or {}).get("Config") or []:
            gateway = config.get("Gateway")
            if gateway and ":" not in gateway:
                return str(gateway)
            subnet = config.get("Subnet")
            if subnet and ":" not in subnet:
                return str(next(ipaddress.IPv4Network(subnet).hosts()))
        return None

    def _ensure_awsvpc_network(self) -> None:
        import docker.errors
        from docker.types import IPAMConfig, IPAMPool

        try:
            self._client.networks.get(AWSVPC_NETWORK)
        except docker.errors.NotFound:
            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=AWSVPC_SUBNET)])
            with contextlib.suppress(docker.errors.APIError):  # a racing agent created it
                self._client.networks.create(
                    AWSVPC_NETWORK, driver="bridge", ipam=ipam, labels={LABEL_MANAGED: "true"}
                )

    async def cleanup_task(self, task_arn: str) -> None:
        await self._call(docker_options.remove_task_volumes, self._client, task_arn)
        self._primary.pop(task_arn, None)
        with self._locks_lock:
            self._locks.pop(task_arn, None)

    # -- images ------------------------------------------------------------------------------

    async def ensure_image(self, spec: TaskSpec, container: ContainerSpec) -> None:
        await self._call(self._ensure_image, container.image, container.registry_auth)

    def _ensure_image(self, image: str, auth: RegistryAuth | None = None) -> None:
        import docker.errors
        from docker.utils import parse_repository_tag

        try:
            self._client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            raise DriverError(f"CannotPullContainerError: {exc.explanation or exc}") from exc
        repository, tag = parse_repository_tag(image)
        try:
            # With the task's registry credentials: an ECR token of this server's registry
            # or the container's repositoryCredentials.
            credentials = {"username": auth.username, "password": auth.password} if auth else None
            self._client.images.pull(repository, tag=tag or "latest", auth_config=credentials)
        except docker.errors.APIError as exc:
            raise DriverError(f"CannotPullContainerError: {exc.explanation or exc}") from exc

    # -- containers --------------------------------------------------------------------------

    async def start_container(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> StartedContainer:
        return await self._call(self._start, spec, container, network)

    def _start(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> StartedContainer:
        if network.mode != NetworkMode.AWSVPC:
            return self._create_and_start(spec, container, network)
        with self._locks_lock:
            lock = self._locks.setdefault(spec.task_arn, threading.Lock())
        with lock:  # one container of the task creates its namespace; the others join it
            return self._create_and_start(spec, container, network)

    def _create_and_start(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> StartedContainer:
        import docker.errors

        env: dict[str, str] = {}
        for path in container.environment_files:
            env.update(read_env_file(path))
        env.update(container.environment)
        labels = {
            **container.labels,
            LABEL_TASK: spec.task_arn,
            LABEL_CONTAINER: container.name,
            LABEL_CLUSTER: spec.cluster_arn,
            LABEL_FAMILY: spec.family,
            LABEL_REVISION: str(spec.revision),
            LABEL_MANAGED: "true",
        }
        kwargs: dict[str, Any] = {
            "image": container.image,
            "name": docker_options.container_name(spec, container.name),
            "command": container.command,
            "entrypoint": container.entry_point,
            "environment": env,
            "working_dir": container.working_directory,
            "user": container.user,
            "labels": labels,
            "healthcheck": healthcheck(container),
            "privileged": container.privileged,
            "detach": True,
        }
        memory = container.memory or (spec.memory if len(spec.containers) == 1 else None)
        if memory:
            kwargs["mem_limit"] = f"{memory}m"
            kwargs["memswap_limit"] = f"{memory}m"
        kwargs.update(docker_options.options(self._client, spec, container, memory))
        if container.memory_reservation:
            kwargs["mem_reservation"] = f"{container.memory_reservation}m"
        if container.cpu:
            kwargs["cpu_shares"] = max(2, container.cpu)
        mode = network.mode
        if mode == NetworkMode.AWSVPC:
            primary = self._primary.get(spec.task_arn) or self._find_primary(spec.task_arn)
            if primary:
                kwargs["network_mode"] = f"container:{primary}"
            else:
                kwargs["network"] = AWSVPC_NETWORK
                labels[LABEL_PRIMARY] = "true"
        elif mode == NetworkMode.BRIDGE:
            kwargs["network_mode"] = "bridge"
            kwargs["ports"] = {
                f"{p.container_port}/{p.protocol}": p.host_port or None
                for p in container.port_mappings
            }
        else:
            kwargs["network_mode"] = str(mode)
        try:
            created = self._client.containers.create(**kwargs)
        except docker.errors.APIError as exc:
            raise DriverError(f"CannotCreateContainerError: {exc.explanation or exc}") from exc
        try:
            created.start()
        except docker.errors.APIError as exc:
            with contextlib.suppress(docker.errors.APIError):
                created.remove(force=True)
            raise DriverError(f"CannotStartContainerError: {exc.explanation or exc}") from exc
        created.reload()
        if labels.get(LABEL_PRIMARY):
            self._primary[spec.task_arn] = created.id
        ip = self._task_ip(spec.task_arn) if mode == NetworkMode.AWSVPC else None
        network.ip_address = network.ip_address or ip
        return StartedContainer(created.id, self._bindings(created.attrs, mode, container), ip)

    def _find_primary(self, task_arn: str) -> str | None:
        found = self._client.containers.list(
            all=True, filters={"label": [f"{LABEL_TASK}={task_arn}", f"{LABEL_PRIMARY}=true"]}
        )
        return str(found[0].id) if found else None

    def _task_ip(self, task_arn: str) -> str | None:
        primary = self._primary.get(task_arn) or self._find_primary(task_arn)
        if primary is None:
            return None
        attrs = self._client.api.inspect_container(primary)
        net = attrs["NetworkSettings"]["Networks"].get(AWSVPC_NETWORK) or {}
        return net.get("IPAddress") or None

    @staticmethod
    def _bindings(
        attrs: dict[str, Any], mode: NetworkMode, container: ContainerSpec
    ) -> list[NetworkBinding]:
        if mode == NetworkMode.HOST:
            return [
                NetworkBinding(
                    p.container_port, p.host_port or p.container_port, protocol=p.protocol
                )
                for p in container.port_mappings
            ]
        if mode != NetworkMode.BRIDGE:
            return []
        bindings = []
        for key, published in (attrs["NetworkSettings"].get("Ports") or {}).items():
            port, _, proto = key.partition("/")
            for entry in published or []:
                if ":" in entry.get("HostIp", ""):
                    continue  # the IPv6 twin of the same binding
                bindings.append(
                    NetworkBinding(
                        int(port),
                        int(entry["HostPort"]),
                        entry["HostIp"] or "0.0.0.0",
                        proto or "tcp",
                    )
                )
        return bindings

    def _exit_info(self, runtime_id: str, settle: bool = False) -> ExitInfo:
        state = self._client.api.inspect_container(runtime_id)["State"]
        # The engine learns of an OOM kill from an event of its own, which can land after the
        # exit on a busy host: a container that just died by a SIGKILL (137) that Dockyard did
        # not send is asked again for a while before it is taken for a plain kill. (Runs in a
        # worker thread.)
        for _ in range(OOM_SETTLE_TRIES if settle and runtime_id not in self._stopping else 0):
            if state.get("OOMKilled") or state.get("ExitCode") != 137:
                break
            time.sleep(OOM_SETTLE_INTERVAL)
            state = self._client.api.inspect_container(runtime_id)["State"]
        if state.get("OOMKilled"):
            return ExitInfo(137, OOM_REASON, True)
        error = state.get("Error") or None
        return ExitInfo(
            state.get("ExitCode"), f"CannotStartContainerError: {error}" if error else None
        )

    async def usage(self, runtime_id: str) -> Usage | None:
        import docker.errors

        try:
            stats = await self._call(
                self._client.api.stats, runtime_id, stream=False, one_shot=True
            )
        except (docker.errors.NotFound, docker.errors.APIError):
            return None
        return docker_usage(stats, time.monotonic())

    async def wait(self, runtime_id: str) -> ExitInfo:
        import docker.errors

        try:
            await self._call(self._client.api.wait, runtime_id)
            return await self._call(self._exit_info, runtime_id, settle=True)
        except docker.errors.NotFound:
            return ExitInfo(None, "ContainerRuntimeError: the container no longer exists")

    async def stop(self, runtime_id: str, timeout: float) -> None:
        import docker.errors

        self._stopping.add(runtime_id)
        with contextlib.suppress(docker.errors.NotFound):
            await self._call(self._client.api.stop, runtime_id, timeout=int(timeout))

    async def exec_health_check(self, runtime_id: str, command: list[str], timeout: float) -> bool:
        return await self.engine_health(runtime_id) == "HEALTHY"

    async def engine_health(self, runtime_id: str) -> str:
        import docker.errors

        try:
            attrs = await self._call(self._client.api.inspect_container, runtime_id)
        except docker.errors.NotFound:
            return "UNKNOWN"
        status = ((attrs.get("State") or {}).get("Health") or {}).get("Status", "")
        return HEALTH.get(status, "UNKNOWN")

    async def logs(self, runtime_id: str, since: int = 0) -> AsyncIterator[LogLine]:
        queue: asyncio.Queue[LogLine | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        readers = [
            loop.run_in_executor(self._pool, self._follow, runtime_id, name, since, loop, queue)
            for name in ("stdout", "stderr")
        ]
        ended = 0
        try:
            while ended < len(readers):
                line = await queue.get()
                if line is None:
                    ended += 1
                else:
                    yield line
        finally:
            for reader in readers:
                reader.cancel()

    def _follow(
        self,
        runtime_id: str,
        stream: str,
        since: int,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[LogLine | None],
    ) -> None:
        import docker.errors

        try:
            last = since

            def read(follow: bool) -> None:
                nonlocal last
                chunks: Iterator[bytes] = self._client.api.logs(
                    runtime_id,
                    stdout=stream == "stdout",
                    stderr=stream == "stderr",
                    stream=True,
                    follow=follow,
                    timestamps=True,
                    since=last / NS if last else None,
                )
                pending = b""
                for chunk in chunks:
                    pending += chunk
                    *complete, pending = pending.split(b"\n")
                    for raw in complete:
                        emit(raw)
                if pending:  # the last line a container printed without a newline
                    emit(pending)

            def emit(raw: bytes) -> None:
                nonlocal last
                ts, _, message = raw.decode("utf-8", "replace").partition(" ")
                try:
                    stamp = _parse_ts(ts)
                except ValueError:
                    return
                if stamp > last:
                    last = stamp
                    line = LogLine(stamp // 1_000_000, stream, message.rstrip("\r"), stamp)
                    loop.call_soon_threadsafe(queue.put_nowait, line)

            read(follow=True)
            # Docker may end a followed stream as the container exits before sending its
            # last lines: read once more what it logged since the last line seen.
            read(follow=False)
        except (docker.errors.APIError, OSError) as exc:
            log.debug("log stream of %s ended: %s", runtime_id, exc)
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, None)

    async def remove_container(self, runtime_id: str) -> None:
        import docker.errors

        self._stopping.add(runtime_id)
        try:
            with contextlib.suppress(docker.errors.NotFound):
                await self._call(self._client.api.remove_container, runtime_id, force=True)
        finally:
            self._stopping.discard(runtime_id)

    async def adopt(self) -> list[AdoptedContainer]:
        found = await self._call(
            self._client.containers.list, all=True, filters={"label": f"{LABEL_MANAGED}=true"}
        )
        adopted = []
        for container in found:
            labels = container.labels
            running = container.status in ("running", "restarting", "paused")
            if labels.get(LABEL_PRIMARY):
                self._primary[labels[LABEL_TASK]] = container.id
            mode = (
                NetworkMode(container.attrs["HostConfig"]["NetworkMode"])
                if container.attrs["HostConfig"]["NetworkMode"] in ("bridge", "host", "none")
                else NetworkMode.AWSVPC
            )
            adopted.append(
                AdoptedContainer(
                    runtime_id=container.id,
                    task_arn=labels[LABEL_TASK],
                    container_name=labels[LABEL_CONTAINER],
                    running=running,
                    exit=None if running else await self._call(self._exit_info, container.id),
                    network_bindings=self._bindings(
                        container.attrs, mode, ContainerSpec(labels[LABEL_CONTAINER], "")
                    ),
                )
            )
        return adopted

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._client.close()
