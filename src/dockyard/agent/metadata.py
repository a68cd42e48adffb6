"""The task metadata endpoint (v4, and v3 at the same documents) each container can read.

The agent serves `GET ${ECS_CONTAINER_METADATA_URI_V4}` (the container), `/task`, `/stats`
and `/task/stats` from what it holds of its own tasks: the `TaskSpec` and `TaskStatus` of
every `TaskRunner`, and the driver's `usage` readings. It listens on 127.0.0.1 (host-network
tasks) and on whichever address the driver says a task's network reaches the host at (the
bridge gateway); each container has its own unguessable path, an HMAC of its task and name
under a secret kept in the agent's data directory, so a restarted agent answers the URLs its
adopted containers were given.

server = MetadataServer(runners, driver, clock, data_dir)
await server.start()
env = await server.environment(spec, container, network)   # injected by the task runner
await server.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, cast

from dockyard.agent.credentials import RoleCredentials, document
from dockyard.agent.runner import StartFailed, TaskRunner
from dockyard.core import timefmt
from dockyard.core.clock import Clock
from dockyard.core.private import private_dir, write_private
from dockyard.core.taskspec import ContainerSpec, ContainerStatus, TaskSpec
from dockyard.drivers.base import TaskNetwork, Usage

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
STATE_FILE = "metadata.json"
READ_TIMEOUT = 10.0
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    501: "Not Implemented",
}


class Reachable(Protocol):
    """A driver that knows where its containers reach the host (both built-in drivers do)."""

    async def metadata_host(self, network: TaskNetwork) -> str | None:
        """The host address a container on `network` reaches the agent at; None: none."""
        ...

    async def credentials_host(self, network: TaskNetwork) -> str | None:
        """The address a container on `network` reaches the agent's credentials endpoint
        at, one AWS SDKs accept over plain HTTP (loopback, 169.254.170.2); None: none."""
        ...


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return timefmt.iso(seconds, "us")


def docker_name(spec: TaskSpec, name: str) -> str:
    return f"ecs-{spec.family}-{spec.revision}-{name}-{spec.task_id[:12]}"


def execution_env(spec: TaskSpec) -> str:
    return "AWS_ECS_FARGATE" if spec.launch_type == "FARGATE" else "AWS_ECS_EC2"


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


# -- documents ---------------------------------------------------------------------------------


def container_document(runner: TaskRunner, name: str) -> dict[str, Any]:
    spec = runner.spec
    container = next(c for c in spec.containers if c.name == name)
    status = runner.container(name)
    labels = {
        **container.labels,
        "com.amazonaws.ecs.cluster": spec.cluster_arn.rsplit("/", 1)[-1],
        "com.amazonaws.ecs.container-name": name,
        "com.amazonaws.ecs.task-arn": spec.task_arn,
        "com.amazonaws.ecs.task-definition-family": spec.family,
        "com.amazonaws.ecs.task-definition-version": str(spec.revision),
    }
    limits: dict[str, Any] = {"CPU": container.cpu}
    if container.memory is not None:
        limits["Memory"] = container.memory
    doc: dict[str, Any] = {
        "DockerId": status.runtime_id or "",
        "Name": name,
        "DockerName": docker_name(spec, name),
        "Image": container.image,
        "Labels": labels,
        "DesiredStatus": "STOPPED" if runner.stopping else "RUNNING",
        "KnownStatus": status.status,
        "Limits": limits,
        "CreatedAt": iso(status.started_at),
        "StartedAt": iso(status.started_at),
        "FinishedAt": iso(status.stopped_at),
        "Type": "NORMAL",
    }
    if status.status == "STOPPED" and status.exit_code is not None:
        doc["ExitCode"] = status.exit_code
    if container.health_check is not None:
        doc["Health"] = {"status": status.health_status}
    if status.network_bindings:
        doc["Ports"] = [
            {
                "ContainerPort": b.container_port,
                "Protocol": b.protocol,
                "HostPort": b.host_port,
                "HostIp": b.bind_ip,
            }
            for b in status.network_bindings
        ]
    if container.log is not None:
        doc["LogDriver"] = container.log.driver
        doc["LogOptions"] = dict(container.log.options)
    network: dict[str, Any] = {"NetworkMode": str(spec.network_mode)}
    if runner.status.ip_address:
        network["IPv4Addresses"] = [runner.status.ip_address]
    doc["Networks"] = [network]
    return _drop_none(doc)


def task_document(runner: TaskRunner) -> dict[str, Any]:
    spec, status = runner.spec, runner.status
    doc: dict[str, Any] = {
        "Cluster": spec.cluster_arn,
        "TaskARN": spec.task_arn,
        "Family": spec.family,
        "Revision": str(spec.revision),
        "DesiredStatus": "STOPPED" if runner.stopping else "RUNNING",
        "KnownStatus": status.status,
        "Containers": [container_document(runner, c.name) for c in spec.containers],
        "PullStartedAt": iso(status.pull_started_at),
        "PullStoppedAt": iso(status.pull_stopped_at),
        "ExecutionStoppedAt": iso(status.execution_stopped_at),
        "LaunchType": spec.launch_type,
    }
    limits: dict[str, Any] = {}
    if spec.cpu is not None:
        limits["CPU"] = spec.cpu / 1024
    if spec.memory is not None:
        limits["Memory"] = spec.memory
    if limits:
        doc["Limits"] = limits
    return _drop_none(doc)


def system_cpu_ns() -> int | None:
    """The host's CPU time so far, every core (Docker's `system_cpu_usage`)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    ticks = sum(int(v) for v in fields[:8])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def stats_document(
    runtime_id: str,
    name: str,
    now: float,
    current: Usage,
    system_ns: int | None,
    previous: tuple[float, Usage, int | None] | None,
    memory_limit: int | None,
) -> dict[str, Any]:
    """Docker's container stats shape, from two readings of the driver's usage."""
    cpus = os.cpu_count() or 1

    def cpu_stats(usage: Usage | None, system: int | None) -> dict[str, Any]:
        if usage is None:
            return {"cpu_usage": {"total_usage": 0}, "online_cpus": cpus}
        return _drop_none(
            {
                "cpu_usage": {"total_usage": usage.cpu_ns},
                "system_cpu_usage": system,
                "online_cpus": cpus,
            }
        )

    memory: dict[str, Any] = {"usage": current.memory_bytes}
    if memory_limit is not None:
        memory["limit"] = memory_limit
    before = previous[1] if previous else None
    return {
        "read": iso(now),
        "preread": iso(previous[0]) if previous else "0001-01-01T00:00:00Z",
        "id": runtime_id,
        "name": f"/{name}",
        "num_procs": 0,
        "cpu_stats": cpu_stats(current, system_ns),
        "precpu_stats": cpu_stats(before, previous[2] if previous else None),
        "memory_stats": memory,
    }


# -- the server --------------------------------------------------------------------------------


class MetadataServer:
    def __init__(
        self,
        runners: Mapping[str, TaskRunner],
        driver: object,
        clock: Clock,
        data_dir: Path,
        credentials: RoleCredentials | None = None,
    ) -> None:
        self.runners = runners
        self.credentials = credentials  # task role credentials (None: none served)
        self.driver = driver
        self.clock = clock
        self._state_path = Path(data_dir) / STATE_FILE
        self._secret = b""
        self._ports: dict[str, int] = {}  # host address -> port wanted there
        self._servers: dict[str, asyncio.Server] = {}
        self._lock = asyncio.Lock()
        self._readings: dict[str, tuple[float, Usage, int | None]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            saved = json.loads(self._state_path.read_text())
            self._secret = bytes.fromhex(saved["secret"])
            self._ports = {str(k): int(v) for k, v in saved.get("ports", {}).items()}
        except (OSError, ValueError, KeyError, TypeError):
            self._secret = secrets.token_bytes(32)
        await self._listen(LOOPBACK)
        if self.credentials is not None:
            self.credentials.start(lambda: list(self.runners))

    async def close(self) -> None:
        if self.credentials is not None:
            await self.credentials.close()
        for server in self._servers.values():
            server.close()
        for server in self._servers.values():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await server.wait_closed()
        self._servers.clear()

    def _save(self) -> None:
        private_dir(self._state_path.parent)
        write_private(
            self._state_path, json.dumps({"secret": self._secret.hex(), "ports": self._ports})
        )

    async def _listen(self, host: str) -> int | None:
        """The port this server answers at on `host`, listening there first if need be."""
        async with self._lock:
            server = self._servers.get(host)
            if server is not None:
                port: int = server.sockets[0].getsockname()[1]
                return port
            wanted = [p for p in (self._ports.get(host), self._ports.get(LOOPBACK)) if p]
            for port_try in [*dict.fromkeys(wanted), 0]:
                try:
                    server = await asyncio.start_server(self._serve, host, port_try)
                    break
                except OSError as exc:
                    log.debug("metadata endpoint cannot listen on %s:%s: %s", host, port_try, exc)
            else:
                log.warning("the task metadata endpoint cannot listen on %s", host)
                return None
            self._servers[host] = server
            port = server.sockets[0].getsockname()[1]
            self._ports[host] = port
            self._save()
            log.info("task metadata endpoint listening on %s:%d", host, port)
            return port

    # -- what a container is given -----------------------------------------------------------

    def token(self, task_arn: str, container_name: str) -> str:
        message = f"{task_arn}\0{container_name}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def _credentials_keys(self, task_arn: str) -> tuple[str, str]:
        """The task's credentials id (in the URL) and authorization token (the header): not
        guessable from the task, not stored; the agent's secret derives them again."""
        key = hmac.new(self._secret, f"credentials\0{task_arn}".encode(), hashlib.sha256)
        digest = key.hexdigest()
        return digest[:32], digest[32:]

    async def _credentials_environment(
        self, spec: TaskSpec, network: TaskNetwork
    ) -> dict[str, str]:
        """The variables through which an AWS SDK in the container finds its task role's
        credentials (fetched now, so a role that cannot be had stops the task first)."""
        if self.credentials is None or not spec.task_role_arn:
            return {}
        try:
            await self.credentials.get(spec.task_arn)
        except Exception as exc:
            reason = getattr(exc, "message", None) or str(exc)
            raise StartFailed(reason) from exc
        host = None
        if hasattr(self.driver, "credentials_host"):
            try:
                host = await cast(Reachable, self.driver).credentials_host(network)
            except Exception as exc:
                log.warning("cannot tell where %s reaches this host: %s", spec.task_arn, exc)
        port = await self._listen(host) if host is not None else None
        if port is None:
            return {}
        cred_id, token = self._credentials_keys(spec.task_arn)
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://{host}:{port}/v2/credentials/{cred_id}",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
        }

    async def environment(
        self, spec: TaskSpec, container: ContainerSpec, network: TaskNetwork
    ) -> dict[str, str]:
        """The variables ECS sets in a container: the endpoint's URLs where this host can
        answer them on the container's network, the execution environment, and on Fargate
        the region."""
        env = {"AWS_EXECUTION_ENV": execution_env(spec)}
        if spec.launch_type == "FARGATE" and spec.region:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = spec.region
        host = None
        if hasattr(self.driver, "metadata_host"):
            try:
                host = await cast(Reachable, self.driver).metadata_host(network)
            except Exception as exc:
                log.warning("cannot tell where %s reaches this host: %s", spec.task_arn, exc)
        env.update(await self._credentials_environment(spec, network))
        port = await self._listen(host) if host is not None else None
        if port is None:
            return env
        base = f"http://{host}:{port}"
        token = self.token(spec.task_arn, container.name)
        env["ECS_CONTAINER_METADATA_URI_V4"] = f"{base}/v4/{token}"
        env["ECS_CONTAINER_METADATA_URI"] = f"{base}/v3/{token}"
        env["ECS_AGENT_URI"] = f"{base}/api/{token}"
        return env

    # -- answering ---------------------------------------------------------------------------

    def _find(self, token: str) -> tuple[TaskRunner, str] | None:
        for runner in list(self.runners.values()):
            for container in runner.spec.containers:
                if hmac.compare_digest(self.token(runner.spec.task_arn, container.name), token):
                    return runner, container.name
        return None

    async def answer(self, path: str, authorization: str | None = None) -> tuple[int, Any]:
        """(HTTP status, JSON body) for a GET of `path`."""
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        if parts[:2] == ["v2", "credentials"]:
            return await self._answer_credentials(parts[2:], authorization)
        if len(parts) < 2 or parts[0] not in ("v3", "v4", "api"):
            return 404, {"error": "not found"}
        found = self._find(parts[1])
        if found is None:
            return 404, {"error": "no container has this metadata path on this host"}
        runner, name = found
        rest = parts[2:]
        if parts[0] == "api":
            return 501, {
                "error": {
                    "Arn": runner.spec.task_arn,
                    "Code": "NotSupported",
                    "Message": f"/{'/'.join(rest)} is not served by this agent",
                }
            }
        if rest == []:
            return 200, container_document(runner, name)
        if rest == ["task"]:
            return 200, task_document(runner)
        if rest == ["stats"]:
            return 200, await self._stats(runner, name)
        if rest == ["task", "stats"]:
            return 200, {
                runner.container(c.name).runtime_id or c.name: await self._stats(runner, c.name)
                for c in runner.spec.containers
            }
        return 404, {"error": f"unknown metadata path /{'/'.join(rest)}"}

    async def _answer_credentials(
        self, rest: list[str], authorization: str | None
    ) -> tuple[int, Any]:
        """A task's role credentials, for the holder of its id and authorization token."""
        if len(rest) != 1:
            return 400, {
                "code": "InvalidIdInRequest",
                "message": "CredentialsV2Request: No ID in the request",
            }
        runner = None
        for candidate in list(self.runners.values()):
            if not candidate.spec.task_role_arn:
                continue
            cred_id, token = self._credentials_keys(candidate.spec.task_arn)
            id_ok = hmac.compare_digest(cred_id, rest[0])
            if id_ok and hmac.compare_digest(token, authorization or ""):
                runner = candidate
        if runner is None or self.credentials is None or runner.done.is_set():
            return 400, {
                "code": "InvalidIdInRequest",
                "message": "CredentialsV2Request: Credentials not found",
            }
        try:
            found = await self.credentials.get(runner.spec.task_arn)
        except Exception as exc:
            log.warning("role credentials of %s: %s", runner.spec.task_arn, exc)
            return 500, {
                "code": "InvalidCredentialsInRequest",
                "message": f"CredentialsV2Request: {getattr(exc, 'message', None) or exc}",
            }
        return 200, document(found)

    async def _stats(self, runner: TaskRunner, name: str) -> dict[str, Any] | None:
        status: ContainerStatus = runner.container(name)
        rid = status.runtime_id
        measure = getattr(self.driver, "usage", None)
        if rid is None or status.status != "RUNNING" or not callable(measure):
            return None
        try:
            current = await measure(rid)
        except Exception as exc:
            log.debug("cannot measure container %s: %s", rid, exc)
            return None
        if not isinstance(current, Usage):
            return None
        now, system = self.clock.now(), system_cpu_ns()
        previous = self._readings.get(rid)
        self._readings[rid] = (now, current, system)
        container = next(c for c in runner.spec.containers if c.name == name)
        limit = container.memory * 1024 * 1024 if container.memory else None
        return stats_document(
            rid, docker_name(runner.spec, name), now, current, system, previous, limit
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, *_ = lines[0].split(" ")
            headers = dict(
                (k.strip().lower(), v.strip()) for k, _, v in (h.partition(":") for h in lines[1:])
            )
            if method not in ("GET", "HEAD"):
                code, body = 405, {"error": f"method {method} not allowed"}
            else:
                code, body = await self.answer(path, headers.get("authorization"))
            payload = json.dumps(body).encode()
            reason = REASONS.get(code, "Error")
            writer.write(
                f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + (payload if method != "HEAD" else b"")
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass
        except Exception:
            log.exception("task metadata request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
