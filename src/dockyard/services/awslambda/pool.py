"""The execution environments of all functions: a warm one is reused, a new one starts when
all are busy, reserved concurrency caps how many run a function's invocations at once, and
idle ones are reaped after a while."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from dockyard.core.rolecredentials import RoleCredentialIssuer, RoleUnavailable
from dockyard.services.awslambda.environment import (
    Environment,
    LogWriter,
    Result,
    Spec,
    environment_variables,
)
from dockyard.services.awslambda.errors import TooManyRequestsException
from dockyard.services.awslambda.runtimeapi import Delivery, RuntimeListener

log = logging.getLogger(__name__)

IDLE_TTL = 300.0  # seconds an idle environment stays warm
MAX_AGE = 3000.0  # environments are recycled before their role credentials expire
REAP_INTERVAL = 10.0
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"


class Pool:
    def __init__(
        self,
        work_dir: Path,
        write_logs: LogWriter,
        *,
        credentials: RoleCredentialIssuer | None = None,
        endpoint_url: str | None = None,
        idle_ttl: float = IDLE_TTL,
    ) -> None:
        self.work_dir = work_dir
        self.write_logs = write_logs
        self.credentials = credentials
        self.endpoint_url = endpoint_url
        self.idle_ttl = idle_ttl
        self.environments: dict[str, list[Environment]] = {}  # by unqualified function ARN
        self.busy: dict[str, int] = {}  # invocations in flight, by function ARN
        self.peak: dict[str, int] = {}  # most environments busy at once, by function ARN
        self.role_of: Callable[[str], str | None] = lambda arn: None
        self._reaper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_loop(), name="lambda-reaper")

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for envs in list(self.environments.values()):
            for env in envs:
                env.kill()
        for envs in list(self.environments.values()):
            for env in envs:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(env.wait_exited(), 5)
        self.environments.clear()

    def in_flight(self, function_arn: str) -> int:
        return self.busy.get(function_arn, 0)

    async def invoke(
        self, spec: Spec, role: str, delivery: Delivery, reserved: int | None
    ) -> Result:
        arn = spec.function_arn
        if reserved is not None and self.in_flight(arn) >= reserved:
            raise TooManyRequestsException(
                "Rate Exceeded.", "ReservedFunctionConcurrentInvocationLimitExceeded"
            )
        self.busy[arn] = self.in_flight(arn) + 1
        self.peak[arn] = max(self.peak.get(arn, 0), self.busy[arn])
        try:
            env = self._idle(spec)
            if env is None:
                env = await self._start(spec, role)
            env.busy = True
            try:
                result = await env.run(delivery)
            finally:
                env.busy = False
            if env.retired or result.killed:
                env.kill()
                self._drop(env)
            return result
        finally:
            self.busy[arn] -= 1

    def _idle(self, spec: Spec) -> Environment | None:
        for env in self.environments.get(spec.function_arn, []):
            if not env.busy and not env.retired and env.alive and env.spec.key == spec.key:
                env.busy = True  # taken now, before any await
                return env
        return None

    async def _start(self, spec: Spec, role: str) -> Environment:
        env_id = secrets.token_hex(16)
        work = self.work_dir / env_id
        work.mkdir(mode=0o700, parents=True, exist_ok=True)
        env = Environment(spec, env_id, work, {}, self.write_logs)
        env.busy = True
        listener = RuntimeListener(env)
        address = await listener.start()
        env.listener = listener
        creds = None
        if self.credentials is not None and role:
            try:
                issued = await asyncio.to_thread(
                    self.credentials.issue, spec.account_id, role,
                    spec.name[:64], service=LAMBDA_PRINCIPAL,
                )  # fmt: skip
                creds = (issued.access_key_id, issued.secret_access_key, issued.session_token)
            except RoleUnavailable as exc:
                env.log(f"cannot assume the execution role {role}: {exc}")
        env.env = environment_variables(spec, env_id, env.stream, address, self.endpoint_url,
                                        creds)  # fmt: skip
        self.environments.setdefault(spec.function_arn, []).append(env)
        try:
            await env.start()
            assert env.process is not None
            listener.session = env.process.pid
        except OSError as exc:
            self._drop(env)
            env.log(f"cannot start the runtime: {exc}")
            env.init_failed(
                f'{{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"{exc.strerror}"}}'.encode(),
                "Runtime.InvalidEntrypoint",
            )
        return env

    def _drop(self, env: Environment) -> None:
        envs = self.environments.get(env.spec.function_arn, [])
        if env in envs:
            envs.remove(env)
        if not envs:
            self.environments.pop(env.spec.function_arn, None)

    def retire(self, function_arn: str) -> None:
        """The function changed or is gone: idle environments stop now, busy ones after
        their invocation."""
        for env in list(self.environments.get(function_arn, [])):
            env.retired = True
            if not env.busy:
                env.kill()
                self._drop(env)

    def reap(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        reaped = 0
        for envs in list(self.environments.values()):
            for env in list(envs):
                old = now - env.created > MAX_AGE
                if not env.busy and (now - env.last_used > self.idle_ttl or old or not env.alive):
                    env.kill()
                    self._drop(env)
                    reaped += 1
        return reaped

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL)
            try:
                self.reap()
            except Exception:
                log.exception("lambda: reaping environments failed")
