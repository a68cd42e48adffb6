"""One execution environment: a runtime process (the runtime interface client for Python, the
zip's `bootstrap` for provided.*) that pulls its invocations from the Runtime API, one at a
time. Its output goes to CloudWatch Logs between Lambda's START / END / REPORT lines.

Isolation, where the server runs as root: the process's own mount namespace with a private
tmpfs `/tmp` of the function's EphemeralStorage size, and a memory cgroup of its MemorySize
(the process driver's cgroups). Elsewhere: its own TMPDIR and no memory limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.core import timefmt
from dockyard.drivers import cgroups
from dockyard.services.awslambda.runtimeapi import Delivery, RuntimeListener

log = logging.getLogger(__name__)

INIT_TIMEOUT = 10.0  # seconds Lambda gives an on-demand environment's init
TAIL_BYTES = 4096
MAX_LINE = 256 * 1024
FLUSH_DELAY = 0.05  # seconds the log lines of invocations gather before they are written


@dataclass(frozen=True, slots=True)
class Spec:
    """What an environment runs: one version of a function, as configured."""

    function_arn: str  # unqualified
    name: str
    version: str
    revision_id: str
    runtime: str
    handler: str
    code_dir: Path
    memory_size: int
    timeout: int
    ephemeral_storage: int
    environment: dict[str, str]
    account_id: str
    region: str

    @property
    def key(self) -> str:
        return f"{self.function_arn}:{self.version}:{self.revision_id}"


@dataclass(slots=True)
class Result:
    payload: bytes
    function_error: str | None = None  # "Unhandled"
    log_tail: str = ""
    killed: bool = False  # the environment is gone (timed out, crashed)


@dataclass(slots=True)
class _Current:
    delivery: Delivery
    done: asyncio.Future[tuple[bytes, str | None]]
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    tail: list[str] = field(default_factory=list)
    started: float = 0.0


def kept_under_tmp(code_dir: Path) -> list[str]:
    """What must stay reachable under a private /tmp: the code, and the interpreter's own
    trees when they live there (a checkout under /tmp runs its venv from there)."""
    wanted = sorted({os.path.realpath(p) for p in (code_dir, sys.prefix, sys.base_prefix)})
    kept: list[str] = []
    for path in wanted:
        if not path.startswith("/tmp/"):
            continue
        if any(path.startswith(k + "/") for k in kept):
            continue  # inside a tree already kept
        kept.append(path)
    return kept


def private_tmp_script(size_mb: int, code_dir: Path) -> str:
    """A shell script that mounts a tmpfs at /tmp, binds the trees `kept_under_tmp` names
    back from the /tmp underneath (reached through the shell's cwd, which stays there), enters
    the code dir and execs its arguments."""
    binds = "".join(
        f" && mkdir -p {shlex.quote(k)} && mount -c --bind "
        f"{shlex.quote('/proc/self/cwd/' + k[len('/tmp/') :])} {shlex.quote(k)}"
        for k in kept_under_tmp(code_dir)
    )
    return (
        f"cd /tmp && mount -t tmpfs -o size={size_mb}m,mode=1777 tmpfs /tmp{binds} && "
        f'cd {shlex.quote(os.path.realpath(code_dir))} && exec "$@"'
    )


LogWriter = Callable[[str, str, str, str, list[tuple[int, str]]], None]


class Environment:
    def __init__(
        self, spec: Spec, env_id: str, work_dir: Path, env: dict[str, str],
        write_logs: LogWriter,
    ) -> None:  # fmt: skip
        self.spec = spec
        self.id = env_id
        self.work_dir = work_dir
        self.env = env
        self.write_logs = write_logs
        self.stream = (
            f"{timefmt.iso(time.time(), 's')[:10].replace('-', '/')}/[{spec.version}]{env_id}"
        )
        self.group = f"/aws/lambda/{spec.name}"
        self.busy = False
        self.retired = False
        self.last_used = time.monotonic()
        self.created = time.monotonic()
        self.init_ms: float | None = None  # reported once, on the first invocation
        self.process: asyncio.subprocess.Process | None = None
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=1)  # None: gone
        self._current: _Current | None = None
        self._init_error: tuple[bytes, str | None] | None = None
        self._read_fd = -1
        self._partial = b""
        self._pending: list[tuple[int, str]] = []
        self._exited = asyncio.Event()
        self._cgroup = f"lambda-{env_id}"
        self._started_at = 0.0
        self._watcher: asyncio.Task[None] | None = None
        self.listener: RuntimeListener | None = None
        self._flush_handle: asyncio.TimerHandle | None = None

    # -- process -----------------------------------------------------------------------

    def argv(self) -> list[str]:
        if self.spec.runtime.startswith("python"):
            return [sys.executable, "-m", "awslambdaric", self.spec.handler]
        return [str(self.spec.code_dir / "bootstrap")]

    async def start(self) -> None:
        tmp = self.work_dir / "tmp"
        tmp.mkdir(mode=0o700, parents=True, exist_ok=True)
        argv = self.argv()
        env = dict(self.env)
        isolated = os.geteuid() == 0 and shutil.which("unshare") is not None
        if isolated:  # a private tmpfs at /tmp, seen by this environment only
            argv = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                    private_tmp_script(self.spec.ephemeral_storage, self.spec.code_dir),
                    "sh", *argv]  # fmt: skip
        else:
            env["TMPDIR"] = str(tmp)
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        self._read_fd = read_fd
        self._started_at = time.monotonic()
        try:
            self.process = await asyncio.create_subprocess_exec(
                *argv, cwd=str(self.spec.code_dir), env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd, stderr=write_fd, start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(write_fd)
        self._limit_memory(self.process.pid)
        loop = asyncio.get_running_loop()
        loop.add_reader(read_fd, self._read)
        self._watcher = loop.create_task(self._watch(), name=f"lambda-env-{self.id}")

    def _limit_memory(self, pid: int) -> None:
        if not cgroups.available():
            return
        try:
            dirs = cgroups.create(self._cgroup, "main", self.spec.memory_size, None, 0)
            for path in dirs.values():
                (path / "cgroup.procs").write_text(str(pid))
        except OSError as exc:
            log.warning("lambda: no memory limit for environment %s: %s", self.id, exc)

    def max_memory_mb(self) -> int:
        path = cgroups.container_dirs(self._cgroup, "main")["memory"] / "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return math.ceil(int(path.read_text()) / 1024 / 1024)
        if self.process is not None:
            with contextlib.suppress(OSError, ValueError):
                for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        return math.ceil(int(line.split()[1]) / 1024)
        return 0

    async def _watch(self) -> None:
        assert self.process is not None
        code = await self.process.wait()
        self._drain()
        self._close_reader()
        if self._partial:
            self._line(self._partial)
            self._partial = b""
        self._exited.set()
        current = self._current
        if current is not None and not current.done.done():
            error = self._init_error
            if error is None:
                body = json.dumps({
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {current.delivery.request_id} Error: Runtime "
                                    f"exited with error: exit status {code}",
                }).encode()  # fmt: skip
                error = (body, "Runtime.ExitError")
            current.done.set_result(error)
        self._flush()
        self._cleanup()

    def _close_reader(self) -> None:
        if self._read_fd >= 0:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._read_fd)
            os.close(self._read_fd)
            self._read_fd = -1

    def _cleanup(self) -> None:
        if self._queue.empty():
            self._queue.put_nowait(None)  # ends a poll still waiting for an invocation
        if self.listener is not None:
            self.listener.close()
        if cgroups.available():
            cgroups.kill_all(self._cgroup, "main")
            cgroups.remove(self._cgroup)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def kill(self) -> None:
        self.retired = True
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def wait_exited(self) -> None:
        await self._exited.wait()

    # -- output ------------------------------------------------------------------------

    def _read(self) -> None:
        self._drain()

    def _drain(self) -> None:
        """Read whatever the process wrote so far (non-blocking)."""
        while self._read_fd >= 0:
            try:
                data = os.read(self._read_fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not data:
                self._close_reader()
                return
            data = self._partial + data
            *lines, self._partial = data.split(b"\n")
            for line in lines:
                self._line(line)
            if len(self._partial) > MAX_LINE:
                self._line(self._partial)
                self._partial = b""

    def _line(self, raw: bytes) -> None:
        self.log(raw.decode("utf-8", errors="replace").rstrip("\r"))

    def log(self, message: str) -> None:
        self._pending.append((int(time.time() * 1000), message))
        if self._current is not None:
            self._current.tail.append(message)

    def _flush_soon(self) -> None:
        """Write the lines shortly after the answer (batched: the invocation does not wait
        for the log store, as in Lambda the logs follow the answer)."""
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending:
            return
        events, self._pending = self._pending, []
        try:
            self.write_logs(self.spec.account_id, self.spec.region, self.group, self.stream, events)
        except Exception:
            log.exception("lambda: cannot write the logs of %s", self.spec.function_arn)

    # -- the Runtime API client side ------------------------------------------------------

    async def next_invocation(self) -> Delivery:
        if self.init_ms is None:
            self.init_ms = (time.monotonic() - self._started_at) * 1000
        delivery = await self._queue.get()
        if delivery is None:  # the environment is gone: the runtime's poll just ends
            self._queue.put_nowait(None)
            raise ConnectionError("the execution environment has stopped")
        current = self._current
        if current is not None and current.delivery is delivery:
            current.started = time.monotonic()
            current.delivered.set()
        return delivery

    def _answer(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        current = self._current
        if current is None or current.delivery.request_id != request_id:
            return False
        if not current.done.done():
            current.done.set_result((body, error_type))
        return True

    def respond(self, request_id: str, body: bytes) -> bool:
        return self._answer(request_id, body, None)

    def fail(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        return self._answer(request_id, body, error_type or "Unhandled")

    def init_failed(self, body: bytes, error_type: str | None) -> None:
        self._init_error = (body, error_type or "Runtime.Unknown")
        current = self._current
        if current is not None and not current.done.done():
            current.done.set_result(self._init_error)
        self.kill()  # Lambda ends the environment after an init error

    # -- one invocation ----------------------------------------------------------------

    async def run(self, delivery: Delivery) -> Result:
        """Hand one invocation to the runtime and wait for its answer (or its timeout)."""
        loop = asyncio.get_running_loop()
        current = _Current(delivery, loop.create_future())
        self._current = current
        request_id = delivery.request_id
        cold = self.init_ms is None
        self.log(f"START RequestId: {request_id} Version: {self.spec.version}")
        killed = False
        if self._init_error is not None or not self.alive:
            outcome = self._init_error or (
                b'{"errorType":"Runtime.ExitError"}',
                "Runtime.ExitError",
            )
        else:
            self._queue.put_nowait(delivery)
            outcome_or_none = await self._await(current, cold)
            if outcome_or_none is None:
                killed = True
                self._drain()
                message = f"Task timed out after {float(self.spec.timeout):.2f} seconds"
                self.log(f"{timefmt.iso(time.time())} {request_id} {message}")
                outcome = (json.dumps({
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: {message}",
                }).encode(), "Sandbox.Timedout")  # fmt: skip
                self.kill()
            else:
                outcome = outcome_or_none
        self._drain()
        if not self.alive:
            killed = True
        duration = (time.monotonic() - (current.started or time.monotonic())) * 1000
        self.log(f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(duration))} ms\t"
            f"Memory Size: {self.spec.memory_size} MB\tMax Memory Used: {self.max_memory_mb()} MB"
        )
        if cold and self.init_ms is not None:
            report += f"\tInit Duration: {self.init_ms:.2f} ms"
        self.log(report)
        tail = "\n".join(current.tail) + "\n"
        self._current = None
        self._flush_soon()
        body, error_type = outcome
        self.last_used = time.monotonic()
        encoded = tail.encode()[-TAIL_BYTES:]
        return Result(
            body, "Unhandled" if error_type else None,
            encoded.decode("utf-8", errors="ignore"), killed,
        )  # fmt: skip

    async def _await(self, current: _Current, cold: bool) -> tuple[bytes, str | None] | None:
        """The runtime's answer; None when the function timed out."""
        init_limit = INIT_TIMEOUT if cold else 1.0
        delivered: asyncio.Future[Any] = asyncio.ensure_future(current.delivered.wait())
        waiting: set[asyncio.Future[Any]] = {delivered, current.done}
        done, _ = await asyncio.wait(
            waiting, timeout=init_limit + self.spec.timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )  # fmt: skip
        if current.done.done():
            delivered.cancel()
            return current.done.result()
        if not done:
            delivered.cancel()
            return None
        remaining = self.spec.timeout - (time.monotonic() - current.started)
        try:
            return await asyncio.wait_for(asyncio.shield(current.done), max(0.0, remaining))
        except TimeoutError:
            return None


def environment_variables(
    spec: Spec, env_id: str, stream: str, runtime_api: str, endpoint_url: str | None,
    credentials: tuple[str, str, str] | None,
) -> dict[str, str]:  # fmt: skip
    """The environment Lambda gives a function's runtime (its own variables first)."""
    env = dict(spec.environment)
    env.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(spec.code_dir),
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
        "_HANDLER": spec.handler,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
    })  # fmt: skip
    if endpoint_url:  # the function's SDK calls reach this server, not AWS
        env["AWS_ENDPOINT_URL"] = endpoint_url
    if credentials is not None:
        env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"] = (
            credentials
        )
    return env
