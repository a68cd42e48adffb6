"""Invoking a function: which version runs (an alias's weights), synchronous answers, and
the asynchronous queue (InvocationType Event) with Lambda's two retries. Queued events are
stored (`lambda.event`) before the 202, so none is lost to a restart.

`Invoker` is also the `core.functions.FunctionInvoker` other services reach Lambda through,
checking the function's resource policy for their service principal."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.functions import InvokeRefused, InvokeResult
from dockyard.core.scope import Scope
from dockyard.services.awslambda import destinations, permissions
from dockyard.services.awslambda.aliases import Aliases
from dockyard.services.awslambda.code import CodeStore
from dockyard.services.awslambda.destinations import Destinations
from dockyard.services.awslambda.environment import Spec
from dockyard.services.awslambda.errors import (
    InvalidRequestContentException,
    RequestTooLargeException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.model import LATEST, Function, State, function_arn
from dockyard.services.awslambda.pool import Pool
from dockyard.services.awslambda.runtimeapi import Delivery
from dockyard.store.base import Store

log = logging.getLogger(__name__)

EVENT_KIND = "lambda.event"
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_EVENT_PAYLOAD = 256 * 1024
RETRIES = 2  # Lambda's default MaximumRetryAttempts for asynchronous invocations
RETRY_DELAYS = (60.0, 120.0)  # seconds before the first and the second retry
MAX_EVENT_AGE = 21600  # seconds a queued event is kept for retries, by default


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    payload: bytes
    function_error: str | None
    executed_version: str
    log_tail: str = ""


class Invoker:
    def __init__(
        self, store: Store, clock: Clock, functions: Functions, aliases: Aliases,
        code: CodeStore, pool: Pool,
    ) -> None:  # fmt: skip
        self.store = store
        self.clock = clock
        self.functions = functions
        self.aliases = aliases
        self.code = code
        self.pool = pool
        self._tasks: set[asyncio.Task[None]] = set()
        self.retry_delays = RETRY_DELAYS
        self.destinations = Destinations()
        self.destinations.functions = self._queue_for_destination

    # -- choosing what runs ------------------------------------------------------------

    def target(self, scope: Scope, name: str, qualifier: str | None) -> tuple[Function, str, str]:
        """(function, the version that runs, the ARN the caller invoked)."""
        fn, qualifier = self.functions.resolve(scope, name, qualifier)
        invoked = function_arn(fn.account_id, fn.region, fn.name, qualifier)
        if qualifier is None or qualifier == LATEST:
            return fn, LATEST, invoked
        alias = fn.aliases.get(qualifier)
        if alias is not None:
            return fn, self.aliases.pick(alias), invoked
        if qualifier not in fn.versions:
            raise ResourceNotFoundException(f"Function not found: {invoked}")
        return fn, qualifier, invoked

    def _ready(self, fn: Function, version: str) -> None:
        config = fn.config(version)
        assert config is not None
        if config.state != State.ACTIVE:
            raise ResourceConflictException(
                f"The operation cannot be performed at this time. The function is currently "
                f"in the following state: {config.state}"
            )

    async def _spec(self, fn: Function, version: str) -> tuple[Spec, str]:
        config = fn.config(version)
        if config is None:  # deleted while the invocation was queued
            raise ResourceNotFoundException(
                f"Function not found: {function_arn(fn.account_id, fn.region, fn.name, version)}"
            )
        code_dir = await self.code.unpack(config.code_hex)
        spec = Spec(
            function_arn=fn.arn, name=fn.name, version=version, revision_id=config.revision_id,
            runtime=config.runtime, handler=config.handler, code_dir=code_dir,
            memory_size=config.memory_size, timeout=config.timeout,
            ephemeral_storage=config.ephemeral_storage, environment=dict(config.environment),
            account_id=fn.account_id, region=fn.region,
        )  # fmt: skip
        return spec, config.role

    # -- synchronous -------------------------------------------------------------------

    async def run(
        self, fn: Function, version: str, invoked: str, payload: bytes,
        client_context: str | None = None,
    ) -> Answer:  # fmt: skip
        spec, role = await self._spec(fn, version)
        request_id = str(uuid.uuid4())
        timeout_ms = int((time.time() + spec.timeout) * 1000)
        trace = (
            f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
            f"Parent={uuid.uuid4().hex[:16]};Sampled=0"
        )
        delivery = Delivery(request_id, payload or b"{}", timeout_ms, invoked, trace,
                            client_context)  # fmt: skip
        result = await self.pool.invoke(spec, role, delivery, fn.reserved_concurrency)
        return Answer(200, result.payload, result.function_error, version, result.log_tail)

    async def invoke_sync(
        self, scope: Scope, name: str, qualifier: str | None, payload: bytes,
        client_context: str | None = None,
    ) -> Answer:  # fmt: skip
        fn, version, invoked = self.target(scope, name, qualifier)
        _check_payload(payload, MAX_SYNC_PAYLOAD)
        self._ready(fn, version)
        return await self.run(fn, version, invoked, payload, client_context)

    def dry_run(self, scope: Scope, name: str, qualifier: str | None) -> str:
        _, version, _ = self.target(scope, name, qualifier)
        return version

    # -- asynchronous ------------------------------------------------------------------

    def load(self) -> None:
        """Queue again what a restart interrupted."""
        for key, body in self.store.load(EVENT_KIND):
            self._schedule(key, body)

    def queue(self, scope: Scope, name: str, qualifier: str | None, payload: bytes) -> str:
        fn, _, invoked = self.target(scope, name, qualifier)
        _check_payload(payload, MAX_EVENT_PAYLOAD)
        request_id = str(uuid.uuid4())
        body: dict[str, object] = {
            "account_id": fn.account_id, "region": fn.region, "name": fn.name,
            "qualifier": qualifier, "invoked": invoked, "attempt": 0,
            "payload": base64.b64encode(payload).decode(), "queued": self.clock.now(),
        }  # fmt: skip
        self.store.put(EVENT_KIND, request_id, body)
        self._schedule(request_id, body)
        return request_id

    def _queue_for_destination(self, scope: Scope, function_arn: str, payload: bytes) -> str:
        return self.queue(scope, function_arn, None, payload)

    def _schedule(self, request_id: str, body: dict[str, object]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._deliver(request_id, body), name=f"lambda-event-{request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, request_id: str, body: dict[str, object]) -> None:
        scope = Scope(str(body["account_id"]), str(body["region"]))
        payload = base64.b64decode(str(body["payload"]))
        qualifier = str(body["qualifier"]) if body.get("qualifier") else None
        attempt = int(body.get("attempt", 0))  # type: ignore[call-overload]
        queued = float(body.get("queued", self.clock.now()))  # type: ignore[arg-type]
        config: dict[str, Any] = {}
        answer: Answer | None = None
        condition = "RetriesExhausted"
        invoked = str(body.get("invoked", ""))
        role = ""  # the execution role, which sends the record to a destination
        tries = attempt  # invocations made, for approximateInvokeCount
        while True:
            answer = None
            try:
                fn, version, invoked = self.target(scope, str(body["name"]), qualifier)
                config = fn.event_configs.get(qualifier or LATEST, {})
                version_config = fn.config(version)
                role = version_config.role if version_config is not None else role
                self._ready(fn, version)
                tries = attempt + 1
                answer = await self.run(fn, version, invoked, payload)
                if answer.function_error is None:
                    condition = "Success"
                    break
                log.info("lambda: asynchronous invocation %s of %s failed (attempt %d)",
                         request_id, invoked, attempt + 1)  # fmt: skip
            except ResourceNotFoundException:
                config = {}
                break  # the function is gone: nothing to retry, nowhere to report
            except ServiceError as exc:  # throttled, not ready
                log.info("lambda: asynchronous invocation %s refused (attempt %d): %s",
                         request_id, attempt + 1, exc)  # fmt: skip
            except Exception:
                log.exception("lambda: asynchronous invocation %s failed", request_id)
            attempt += 1
            if attempt > int(config.get("MaximumRetryAttempts", RETRIES)):
                break
            delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
            if self.clock.now() + delay - queued > int(
                config.get("MaximumEventAgeInSeconds", MAX_EVENT_AGE)
            ):
                condition = "EventAgeExceeded"
                break
            body = {**body, "attempt": attempt}
            try:
                self.store.put(EVENT_KIND, request_id, body)
            except Exception as exc:
                log.warning("lambda: cannot save the retry of %s: %s", request_id, exc)
            await self.clock.sleep(delay)
        self._report(scope, request_id, invoked, condition, tries, payload, answer, config,
                     role, str(body["name"]))  # fmt: skip
        try:
            self.store.delete(EVENT_KIND, request_id)
        except Exception as exc:
            log.warning("lambda: cannot drop the finished event %s: %s", request_id, exc)

    def _report(
        self, scope: Scope, request_id: str, invoked: str, condition: str, attempts: int,
        payload: bytes, answer: Answer | None, config: dict[str, Any], role: str = "",
        name: str = "",
    ) -> None:  # fmt: skip
        """The invocation record to the OnSuccess / OnFailure destination, if any, sent as
        the execution role `role` (its session named after the function)."""
        side = "OnSuccess" if condition == "Success" else "OnFailure"
        target = ((config.get("DestinationConfig") or {}).get(side) or {}).get("Destination")
        if not target:
            return
        function = invoked if invoked.count(":") > 6 else f"{invoked}:{LATEST}"
        rec = destinations.record(
            request_id, function, condition, attempts, payload,
            answer.status if answer else 0, answer.executed_version if answer else LATEST,
            answer.function_error if answer else None, answer.payload if answer else b"",
            self.clock.now(),
        )  # fmt: skip
        self.destinations.send(scope, target, rec, invoked, role, name[:64])

    async def drain(self) -> None:
        """Wait for the queued invocations (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    # -- core.functions.FunctionInvoker -------------------------------------------------

    def _permitted(
        self, function_arn_: str, principal: str, source_arn: str | None
    ) -> tuple[Scope, str, str | None]:
        parts = function_arn_.split(":")
        if len(parts) < 7 or parts[2] != "lambda":
            raise InvokeRefused("ResourceNotFoundException", f"Function not found: {function_arn_}")
        scope = Scope(parts[4], parts[3])
        name = parts[6]
        qualifier = parts[7] if len(parts) > 7 else None
        try:
            fn, _ = self.functions.resolve(scope, name, qualifier)
        except ServiceError as exc:
            raise InvokeRefused(exc.code, exc.message) from exc
        if not permissions.allows(fn, qualifier, principal, source_arn):
            raise InvokeRefused(
                "AccessDeniedException",
                f"The resource policy of {function_arn_} does not allow {principal} to invoke "
                f"it{' for ' + source_arn if source_arn else ''}.",
            )
        return scope, name, qualifier

    def exists(self, function_arn: str) -> bool:
        parts = function_arn.split(":")
        if len(parts) < 7:
            return False
        try:
            fn, qualifier = self.functions.resolve(Scope(parts[4], parts[3]), function_arn)
            self.functions.config_of(fn, qualifier)
        except ServiceError:
            return False
        return True

    async def invoke_event(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> str:
        scope, name, qualifier = self._permitted(function_arn, principal, source_arn)
        try:
            return self.queue(scope, name, qualifier, payload)
        except ServiceError as exc:
            raise InvokeRefused(exc.code, exc.message) from exc

    async def invoke(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> InvokeResult:
        scope, name, qualifier = self._permitted(function_arn, principal, source_arn)
        try:
            answer = await self.invoke_sync(scope, name, qualifier, payload)
        except ServiceError as exc:
            raise InvokeRefused(exc.code, exc.message) from exc
        return InvokeResult(answer.status, answer.payload, answer.function_error,
                            answer.executed_version)  # fmt: skip


def _check_payload(payload: bytes, limit: int) -> None:
    if len(payload) > limit:
        raise RequestTooLargeException(
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )
    if payload.strip():
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: {exc}"
            ) from exc
