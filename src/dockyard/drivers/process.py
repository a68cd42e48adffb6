"""The `process` driver: containers are host processes, each under a supervisor shim.

Layout under `<data_dir>/process/`:
  containers/<runtime id>/ config.json (what the shim runs), state.json (shim pid, task,
      container), pid.json (the command's pid), output.log (timestamped lines), exit.json
  tasks/<key>.json  the task's network: mode, namespace, address, published ports
  volumes/<key>/<volume>  the task's volumes without a host path (removed with the task)
The shims outlive the agent; `adopt()` re-attaches to them from these files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dockyard.core.private import private_dir, write_private
from dockyard.core.taskspec import (
    ContainerSpec,
    NetworkBinding,
    NetworkMode,
    TaskSpec,
    VolumeKind,
)
from dockyard.drivers import cgroups, hostnet, linklocal, ocilaunch, procmounts, procstat
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
from dockyard.drivers.procenv import launch_for, resolve_user, task_user
from dockyard.drivers.prochealth import SHIM, run_check
from dockyard.drivers.procimages import PulledImages
from dockyard.drivers.proclogs import follow
from dockyard.drivers.proxy import PortProxy

log = logging.getLogger(__name__)

IMAGE_ATTRIBUTE = "dockyard.capability.oci-images"
PRIVATE_REGISTRY = "ecs.capability.private-registry-authentication.secretsmanager"
POLL = 0.05


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_private(path, json.dumps(data))


def _hand_over(shim: subprocess.Popen[bytes], payload: bytes) -> None:
    assert shim.stdin is not None
    try:
        shim.stdin.write(payload)
    except BrokenPipeError:  # the shim died first: its exit or shim.err tells why
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            shim.stdin.close()


def _exit_info(data: dict[str, Any]) -> ExitInfo:
    if data.get("error"):
        return ExitInfo(exit_code=None, reason=f"CannotStartContainerError: {data['error']}")
    if data.get("oom"):
        return ExitInfo(exit_code=137, reason=OOM_REASON, oom=True)
    return ExitInfo(exit_code=data.get("exit_code"))


class ProcessDriver:
    def __init__(
        self,
        data_dir: Path,
        subnet: str | None = None,
        bridge: str | None = None,
        task_user_name: str | None = None,
    ) -> None:
        self.root = Path(data_dir) / "process"
        self._containers = self.root / "containers"
        self._tasks = self.root / "tasks"
        for private in (Path(data_dir), self.root, self._containers, self._tasks):
            private_dir(private)
        self._net = hostnet.HostNetwork(bridge=bridge or hostnet.BRIDGE, subnet=subnet)
        self._netns = hostnet.available()
        self._cgroups = cgroups.available()
        self._mount_ns = procmounts.available()
        self._volumes = self.root / "volumes"
        # OCI images (from a registry or an OCI layout): shared read-only roots, each
        # container with a writable layer of its own (overlayfs, else a copy).
        self._images = PulledImages(self.root / "images", self._mount_ns)
        self._overlay = ocilaunch.overlay_available()
        self._shims: dict[str, subprocess.Popen[bytes]] = {}
        self._proxies: dict[str, list[PortProxy]] = {}
        self._hostname = socket.gethostname()
        # As root, containers without `user` run unprivileged (after their namespaces,
        # cgroups and mounts are set up): the server's root is not the task's.
        self._task_user = task_user(task_user_name)
        if self._task_user is not None:
            log.info("process tasks without a user run as %s", self._task_user)

    # -- capabilities ------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        modes = [NetworkMode.HOST]
        if self._netns:
            modes += [NetworkMode.AWSVPC, NetworkMode.BRIDGE, NetworkMode.NONE]
        return Capabilities(
            name="process",
            network_modes=modes,
            cgroups=self._cgroups,
            netns=self._netns,
            engine_health=False,
            attributes=ecs_attributes(
                "process",
                modes,
                self._cgroups,
                procmounts.features(self._mount_ns),
                # images of a registry or an OCI layout, not only process: ones
                # (pulled with repositoryCredentials or this server's ECR token)
                (IMAGE_ATTRIBUTE, PRIVATE_REGISTRY) if self._mount_ns else (),
            ),
        )

    # -- task network ------------------------------------------------------------------------

    def _task_file(self, task_arn: str) -> Path:
        return self._tasks / f"{hostnet.key_of(task_arn)}.json"

    async def prepare_task(self, spec: TaskSpec) -> TaskNetwork:
        await asyncio.to_thread(procmounts.create_volumes, self._volumes, spec, self._mount_ns)
        await asyncio.to_thread(self._give_volumes, spec)
        saved = _read_json(self._task_file(spec.task_arn))
        if saved is not None:
            return TaskNetwork(
                spec.task_arn, NetworkMode(saved["mode"]), saved["ip"], saved["netns"]
            )
        mode = spec.network_mode
        if mode not in self.capabilities().network_modes:
            raise DriverError(
                f"ResourceInitializationError: network mode {mode} needs network namespaces "
                "(run as root on Linux)"
            )
        key = hostnet.key_of(spec.task_arn)
        network = TaskNetwork(spec.task_arn, mode)
        _write_json(self._task_file(spec.task_arn), self._task_record(network, []))
        if mode != NetworkMode.HOST:
            try:
                ip = None
                if mode != NetworkMode.NONE:
                    ip = await asyncio.to_thread(self._net.allocate, spec.task_arn)
                network.netns = await asyncio.to_thread(self._net.create, key, ip)
                network.ip_address = ip
            except Exception as exc:
                await self.cleanup_task(spec.task_arn)
                raise DriverError(
                    f"ResourceInitializationError: failed to set up the task network: {exc}"
                ) from exc
        _write_json(self._task_file(spec.task_arn), self._task_record(network, []))
        return network

    def _give_volumes(self, spec: TaskSpec) -> None:
        """The task's scratch volumes belong to who writes them: the user its containers
        share (the task user for those without `user`), else the task user."""
        if self._task_user is None:
            return
        users = {c.user or self._task_user for c in spec.containers}
        try:
            uid, gid, _ = resolve_user(users.pop() if len(users) == 1 else self._task_user)
        except DriverError:
            return  # an unknown user: its container reports it as it starts
        for volume in spec.volumes:
            path = procmounts.task_dir(self._volumes, spec.task_arn) / volume.name
            if volume.kind == VolumeKind.TASK and path.is_dir():
                os.chown(path, uid if uid is not None else -1, gid if gid is not None else -1)

    async def metadata_host(self, network: TaskNetwork) -> str | None:
        """Where a container on `network` reaches the host: loopback in host mode, the
        bridge's gateway from a task namespace with an address; nowhere from `none`."""
        if network.mode == NetworkMode.HOST:
            return "127.0.0.1"
        if network.mode in (NetworkMode.BRIDGE, NetworkMode.AWSVPC) and network.ip_address:
            return self._net.gateway
        return None

    async def credentials_host(self, network: TaskNetwork) -> str | None:
        """Where a container on `network` reaches the task credentials endpoint at an
        address AWS SDKs accept: loopback in host mode, 169.254.170.2 (held by the host,
        reached through the namespace's default route) from a task namespace."""
        if network.mode == NetworkMode.HOST:
            return "127.0.0.1"
        if network.mode in (NetworkMode.BRIDGE, NetworkMode.AWSVPC) and network.ip_address:
            return await asyncio.to_thread(linklocal.ensure)
        return None

    @staticmethod
    def _task_record(network: TaskNetwork, ports: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "task_arn": network.task_arn,
            "mode": str(network.mode),
            "ip": network.ip_address,
            "netns": network.netns,
            "ports": ports,
        }

    async def _publish(
        self, network: TaskNetwork, container: ContainerSpec
    ) -> list[NetworkBinding]:
        if network.mode == NetworkMode.HOST:
            return [
                NetworkBinding(
                    p.container_port, p.host_port or p.container_port, protocol=p.protocol
                )
                for p in container.port_mappings
            ]
        if network.mode != NetworkMode.BRIDGE or not container.port_mappings:
            return []
        path = self._task_file(network.task_arn)
        record = _read_json(path) or self._task_record(network, [])
        bindings = []
        for mapping in container.port_mappings:
            if mapping.protocol != "tcp":
                raise DriverError(
                    f"CannotStartContainerError: protocol {mapping.protocol} port mappings are "
                    "not supported by the process runtime"
                )
            assert network.ip_address is not None
            proxy = PortProxy(network.ip_address, mapping.container_port)
            try:
                port = await proxy.start(mapping.host_port)
            except OSError as exc:
                raise DriverError(
                    f"CannotStartContainerError: cannot publish host port "
                    f"{mapping.host_port or 'dynamic'}: {exc.strerror or exc}"
                ) from exc
            self._proxies.setdefault(network.task_arn, []).append(proxy)
            bindings.append(NetworkBinding(mapping.container_port, port, protocol="tcp"))
            record["ports"].append(
                {
                    "container": container.name,
                    "container_port": mapping.container_port,
                    "host_port": port,
                }
            )
        _write_json(path, record)
        return bindings

    async def cleanup_task(self, task_arn: str) -> None:
        for proxy in self._proxies.pop(task_arn, []):
            await proxy.close()
        key = hostnet.key_of(task_arn)
        if self._netns:
            await asyncio.to_thread(self._net.destroy, key)
            await asyncio.to_thread(self._net.release, task_arn)
        if self._cgroups:
            await asyncio.to_thread(cgroups.remove, key)
        await asyncio.to_thread(procmounts.remove_volumes, self._volumes, task_arn)
        self._task_file(task_arn).unlink(missing_ok=True)
        if self._images.active:
            await self._images.prune(await asyncio.to_thread(self._roots_in_use))

    def _roots_in_use(self) -> set[Path]:
        roots = set()
        for cdir in self._containers.iterdir():
            config = _read_json(cdir / "config.json") or {}
            root = (config.get("rootfs") or {}).get("image_root")
            if root:
                roots.add(Path(root))
        return roots

    # -- images ------------------------------------------------------------------------------

    async def ensure_image(self, spec: TaskSpec, container: ContainerSpec) -> None:
        await self._images.ensure(container)

    # -- containers --------------------------------------------------------------------------

    def _dir(self, runtime_id: str) -> Path:
        return self._containers / runtime_id

    async def start_container(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> StartedContainer:
        hostname = container.hostname or self._hostname
        image = await self._images.image_for(container)
        if image is not None:
            launch = ocilaunch.launch_for_image(container, image, hostname, self._task_user)
        else:
            launch = launch_for(container, hostname, self._task_user)
        runtime_id = uuid.uuid4().hex
        key = hostnet.key_of(spec.task_arn)
        cdir = self._dir(runtime_id)
        cdir.mkdir(mode=0o700)
        try:
            isolation = procmounts.config(self._volumes, spec, container, cdir, self._mount_ns)
            if image is not None:
                isolation["rootfs"] = await asyncio.to_thread(
                    ocilaunch.rootfs_config, image, cdir, self._overlay
                )
                isolation["hostname"] = hostname
                files = ocilaunch.etc_files(cdir, hostname)
                for name, path in files.items():
                    isolation.setdefault(name, path)
                isolation.setdefault("mounts", [])
                isolation.setdefault("tmpfs", [])
                isolation["readonly_root"] = container.readonly_root_filesystem
        except (DriverError, OSError, subprocess.CalledProcessError) as exc:
            shutil.rmtree(cdir, ignore_errors=True)
            if isinstance(exc, DriverError):
                raise
            raise DriverError(f"CannotStartContainerError: {exc}") from exc
        config: dict[str, Any] = {
            "argv": launch.argv,  # the environment goes through the shim's stdin, never a file
            "cwd": launch.cwd,
            "uid": launch.uid,
            "gid": launch.gid,
            # not root under a root agent: setuid programs cannot take root back
            "no_new_privs": self._task_user is not None and launch.uid != 0,
            "netns": network.netns,
            "log": str(cdir / "output.log"),
            "exit": str(cdir / "exit.json"),
            "pidfile": str(cdir / "pid.json"),
            "cgroups": [],
            "memory_cgroup": None,
            **isolation,
        }
        if self._cgroups:
            dirs = await asyncio.to_thread(
                cgroups.create, key, runtime_id, container.memory, spec.memory, container.cpu
            )
            config["cgroups"] = [str(d) for d in dirs.values()]
            config["memory_cgroup"] = str(dirs["memory"])
        _write_json(cdir / "config.json", config)
        read_fd, write_fd = os.pipe()
        with open(os.open(cdir / "shim.err", os.O_WRONLY | os.O_CREAT, 0o600), "wb") as err:
            shim = subprocess.Popen(
                [sys.executable, "-I", "-S", SHIM, str(cdir / "config.json"), str(write_fd)],
                pass_fds=(write_fd,),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
        os.close(write_fd)
        self._shims[runtime_id] = shim
        # The environment (with the values of the task's secrets) only ever in memory.
        await asyncio.to_thread(_hand_over, shim, json.dumps(launch.env).encode())
        _write_json(
            cdir / "state.json",
            {
                "task_arn": spec.task_arn,
                "task_key": key,
                "container_name": container.name,
                "image": container.image,
                "shim_pid": shim.pid,
            },
        )
        status = await self._read_status(read_fd)
        if "pid" not in status:
            await self.wait(runtime_id)
            await self.remove_container(runtime_id)
            error = status.get("error") or (cdir / "shim.err").read_text(errors="replace")
            raise DriverError(f"CannotStartContainerError: {error}".strip())
        bindings = await self._publish(network, container)
        return StartedContainer(runtime_id, bindings, network.ip_address)

    @staticmethod
    async def _read_status(fd: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)
        buf = b""
        done: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            nonlocal buf
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                return
            buf += chunk
            if (not chunk or b"\n" in buf) and not done.done():
                done.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await done
        finally:
            loop.remove_reader(fd)
            os.close(fd)
        try:
            data: dict[str, Any] = json.loads(buf.split(b"\n", 1)[0] or b"{}")
            return data
        except ValueError:
            return {}

    def _shim_alive(self, runtime_id: str) -> bool:
        shim = self._shims.get(runtime_id)
        if shim is not None:
            return shim.poll() is None
        state = _read_json(self._dir(runtime_id) / "state.json")
        if not state:
            return False
        try:
            cmdline = Path(f"/proc/{state['shim_pid']}/cmdline").read_bytes()
        except OSError:
            return False
        return str(self._dir(runtime_id) / "config.json").encode() in cmdline

    def _exited(self, runtime_id: str) -> ExitInfo | None:
        data = _read_json(self._dir(runtime_id) / "exit.json")
        return _exit_info(data) if data is not None else None

    async def _wait_shim(self, runtime_id: str) -> None:
        state = _read_json(self._dir(runtime_id) / "state.json")
        pid = state["shim_pid"] if state else None
        try:
            fd = os.pidfd_open(pid) if pid else -1
        except OSError:
            fd = -1
        if fd < 0:
            while self._shim_alive(runtime_id):
                await asyncio.sleep(POLL)
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not done.done():
                done.set_result(None)

        loop.add_reader(fd, ready)
        try:
            if self._shim_alive(runtime_id):
                await done
        finally:
            loop.remove_reader(fd)
            os.close(fd)
            shim = self._shims.get(runtime_id)
            if shim is not None:
                shim.poll()

    async def wait(self, runtime_id: str) -> ExitInfo:
        info = self._exited(runtime_id)
        if info is None:
            await self._wait_shim(runtime_id)
            info = self._exited(runtime_id)
        if info is None:
            return ExitInfo(
                None, "ContainerRuntimeError: the container supervisor ended unexpectedly"
            )
        return info

    def _main_pid(self, runtime_id: str) -> int | None:
        data = _read_json(self._dir(runtime_id) / "pid.json")
        return int(data["pid"]) if data else None

    async def usage(self, runtime_id: str) -> Usage | None:
        return await asyncio.to_thread(self._usage, runtime_id)

    def _usage(self, runtime_id: str) -> Usage | None:
        """CPU time and memory from the container's cgroups, else from /proc."""
        if self._exited(runtime_id) is not None:
            return None
        state = _read_json(self._dir(runtime_id) / "state.json") or {}
        measured = None
        if self._cgroups and state.get("task_key"):
            measured = cgroups.usage(state["task_key"], runtime_id)
        if measured is None:
            pid = self._main_pid(runtime_id)
            measured = procstat.session_usage(pid) if pid is not None else None
        if measured is None:
            return None
        return Usage(measured[0], measured[1], time.monotonic())

    def _signal(self, runtime_id: str, sig: int) -> None:
        pid = self._main_pid(runtime_id)
        if pid is not None and self._exited(runtime_id) is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
        if sig == signal.SIGKILL and self._cgroups:
            state = _read_json(self._dir(runtime_id) / "state.json") or {}
            cgroups.kill_all(state.get("task_key", ""), runtime_id)

    async def stop(self, runtime_id: str, timeout: float) -> None:
        if self._exited(runtime_id) is not None:
            return
        self._signal(runtime_id, signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                await self.wait(runtime_id)
        except TimeoutError:
            self._signal(runtime_id, signal.SIGKILL)
            await self.wait(runtime_id)

    async def exec_health_check(self, runtime_id: str, command: list[str], timeout: float) -> bool:
        return await run_check(self._dir(runtime_id) / "config.json", command, timeout)

    async def engine_health(self, runtime_id: str) -> str:
        return "UNKNOWN"

    async def logs(self, runtime_id: str, since: int = 0) -> AsyncIterator[LogLine]:
        def finished() -> bool:
            return self._exited(runtime_id) is not None or not self._shim_alive(runtime_id)

        async for line in follow(self._dir(runtime_id) / "output.log", since, finished, POLL):
            yield line

    async def remove_container(self, runtime_id: str) -> None:
        state = _read_json(self._dir(runtime_id) / "state.json") or {}
        self._shims.pop(runtime_id, None)
        if self._cgroups and state.get("task_key"):
            await asyncio.to_thread(cgroups.remove, state["task_key"], runtime_id)
        await asyncio.to_thread(shutil.rmtree, self._dir(runtime_id), True)

    # -- restart -----------------------------------------------------------------------------

    async def adopt(self) -> list[AdoptedContainer]:
        if self._netns:
            await asyncio.to_thread(self._net.sweep)
        ports: dict[tuple[str, str], list[NetworkBinding]] = {}
        for path in sorted(self._tasks.glob("*.json")):
            record = _read_json(path)
            if not record:
                continue
            for p in record.get("ports", []):
                proxy = PortProxy(record["ip"], p["container_port"])
                try:
                    await proxy.start(p["host_port"])
                except OSError as exc:
                    log.warning("cannot re-publish port %s: %s", p["host_port"], exc)
                    continue
                self._proxies.setdefault(record["task_arn"], []).append(proxy)
                ports.setdefault((record["task_arn"], p["container"]), []).append(
                    NetworkBinding(p["container_port"], p["host_port"])
                )
        found = []
        for cdir in sorted(self._containers.iterdir()):
            state = _read_json(cdir / "state.json")
            if not state:
                continue
            runtime_id = cdir.name
            info = self._exited(runtime_id)
            running = info is None and self._shim_alive(runtime_id)
            if info is None and not running:
                info = ExitInfo(
                    None,
                    "ContainerRuntimeError: the container supervisor ended "
                    "while the agent was down",
                )
            found.append(
                AdoptedContainer(
                    runtime_id=runtime_id,
                    task_arn=state["task_arn"],
                    container_name=state["container_name"],
                    running=running,
                    exit=info,
                    network_bindings=ports.get((state["task_arn"], state["container_name"]), []),
                )
            )
        return found

    async def task_network(self, task_arn: str) -> TaskNetwork | None:
        saved = _read_json(self._task_file(task_arn))
        if saved is None:
            return None
        return TaskNetwork(task_arn, NetworkMode(saved["mode"]), saved["ip"], saved["netns"])

    async def close(self) -> None:
        for proxies in self._proxies.values():
            for proxy in proxies:
                await proxy.close()
        self._proxies.clear()
