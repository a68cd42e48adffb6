"""Event source mappings from SQS queues: a poller per enabled mapping long-polls the queue
through the `core.queues.QueueConsumer` port, gathers up to BatchSize records within the
MaximumBatchingWindowInSeconds, invokes the function synchronously with the
batch (`{"Records": [...]}` as Lambda builds it) and deletes what succeeded. A failed batch
is left on the queue, to come back after its visibility timeout, as Lambda does; with
`ReportBatchItemFailures` only the messages the function names stay."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.queues import QueueConsumer, QueueRefused, Received
from dockyard.core.rolecredentials import RolePermissions
from dockyard.core.scope import Scope
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.invoke import MAX_SYNC_PAYLOAD, Invoker
from dockyard.services.awslambda.model import function_arn
from dockyard.store.base import Store

log = logging.getLogger(__name__)

KIND = "lambda.mapping"
MAX_BATCH = 10_000
POLL_WAIT = 20.0  # seconds of each long poll
BACKOFF = 1.0  # seconds before polling again after a refused or throttled batch
FILL_PAUSE = 0.2  # seconds between receives while a batching window gathers records
# A batch stops growing before another receive (10 messages of up to 256 KiB, with their
# attributes) could take the event past the 6 MB synchronous payload limit.
FILL_ROOM = MAX_SYNC_PAYLOAD - 10 * 300 * 1024


@dataclass(slots=True)
class Mapping:
    uuid: str
    arn: str
    account_id: str
    region: str
    function_arn: str  # as named: may carry a qualifier
    event_source_arn: str
    batch_size: int = 10
    batching_window: int = 0
    enabled: bool = True
    state: str = "Creating"
    reason: str = "USER_INITIATED"
    last_modified: float = 0.0
    last_result: str = "No records processed"
    response_types: list[str] = field(default_factory=list)


def record_of(m: Received, queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as Lambda hands it to a function."""
    return {
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": dict(m.attributes),
        "messageAttributes": {
            name: {
                "stringValue": a.string_value, "binaryValue": a.binary_value,
                "stringListValues": [], "binaryListValues": [], "dataType": a.data_type,
            } for name, a in m.message_attributes.items()
        },
        "md5OfBody": m.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }  # fmt: skip


def failed_ids(payload: bytes) -> set[str] | None:
    """The batchItemFailures a function reported; None when its answer names none."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("batchItemFailures"), list):
        return None
    return {str(f.get("itemIdentifier")) for f in doc["batchItemFailures"] if isinstance(f, dict)}


class Mappings:
    def __init__(
        self, store: Store, clock: Clock, functions: Functions, invoker: Invoker,
        consumer: QueueConsumer | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.clock = clock
        self.functions = functions
        self.invoker = invoker
        self.consumer = consumer
        self.mappings: dict[str, Mapping] = {}
        self._pollers: dict[str, asyncio.Task[None]] = {}
        # The execution role's policies (None: not enforced): Lambda polls as that role.
        self.permissions: RolePermissions | None = None

    def load(self) -> None:
        self.mappings = {k: Mapping(**v) for k, v in self.store.load(KIND)}

    def start(self) -> None:
        for m in list(self.mappings.values()):
            self._apply(m)

    async def stop(self) -> None:
        for task in list(self._pollers.values()):
            task.cancel()
        for task in list(self._pollers.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pollers.clear()

    def _commit(self, m: Mapping) -> None:
        self.store.put(KIND, m.uuid, dataclasses.asdict(m))
        self.mappings[m.uuid] = m

    def get(self, scope: Scope, mapping_id: str) -> Mapping:
        m = self.mappings.get(mapping_id)
        if m is None or m.account_id != scope.account_id or m.region != scope.region:
            raise ResourceNotFoundException(
                f"The resource you requested does not exist. (Service: Lambda, Status Code: "
                f"404, Request ID: {mapping_id})"
            )
        return m

    def listed(self, scope: Scope, source: str | None, function: str | None) -> list[Mapping]:
        wanted = None
        if function is not None:
            fn, qualifier = self.functions.resolve(scope, function)
            wanted = function_arn(fn.account_id, fn.region, fn.name, qualifier)
        return sorted(
            (m for m in self.mappings.values()
             if m.account_id == scope.account_id and m.region == scope.region
             and (source is None or m.event_source_arn == source)
             and (wanted is None or m.function_arn == wanted)),
            key=lambda m: m.uuid,
        )  # fmt: skip

    def create(
        self, scope: Scope, function: str, source: str, batch_size: int | None,
        window: int | None, enabled: bool, response_types: list[str],
    ) -> Mapping:  # fmt: skip
        fn, qualifier = self.functions.resolve(scope, function)
        config = self.functions.config_of(fn, qualifier)
        if ":sqs:" not in source:
            raise InvalidParameterValueException(
                f"Dockyard maps SQS queues to functions only (EventSourceArn: {source})."
            )
        if self.consumer is None:
            raise InvalidParameterValueException("SQS is not served here (EventSourceArn).")
        if not self.consumer.exists(source):
            raise InvalidParameterValueException(
                "Error occurred while ReceiveMessage. SQS Error Code: "
                "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified "
                "queue does not exist for this wsdl version."
            )
        self._check_role(scope, config.role, fn.name, source)
        arn = function_arn(fn.account_id, fn.region, fn.name, qualifier)
        if any(m.event_source_arn == source and m.function_arn == arn
               for m in self.mappings.values()):  # fmt: skip
            raise ResourceConflictException(
                f"An event source mapping with SQS arn (\" {source} \") and function "
                f"(\" {fn.name} \") already exists. Please update or delete the existing "
                "mapping with UUID " + next(
                    m.uuid for m in self.mappings.values()
                    if m.event_source_arn == source and m.function_arn == arn)
            )  # fmt: skip
        size = _batch(batch_size, window, source)
        mapping_id = str(uuid.uuid4())
        m = Mapping(
            mapping_id, f"arn:aws:lambda:{scope.region}:{scope.account_id}:event-source-mapping:"
            f"{mapping_id}", scope.account_id, scope.region, arn, source, size, window or 0,
            enabled, "Creating", "USER_INITIATED", self.clock.now(), response_types=response_types,
        )  # fmt: skip
        self._commit(m)
        self._settle_soon(m.uuid)
        return m

    def _check_role(self, scope: Scope, role: str, session: str, source: str) -> None:
        """Lambda reads the queue as the execution role, which must be allowed to, as AWS
        checks when the mapping is made."""
        if self.permissions is None or not role:
            return
        for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
            if self.permissions.denial(
                scope.account_id, role, session[:64], f"sqs:{action}", source
            ):
                raise InvalidParameterValueException(
                    f"The provided execution role does not have permissions to call {action} on SQS"
                )

    def update(
        self, scope: Scope, mapping_id: str, function: str | None, batch_size: int | None,
        window: int | None, enabled: bool | None, response_types: list[str] | None,
    ) -> Mapping:  # fmt: skip
        m = self.get(scope, mapping_id)
        if m.state not in ("Enabled", "Disabled"):
            raise ResourceConflictException(
                f"The operation cannot be performed at this time. The event source mapping is "
                f"currently in the {m.state} state."
            )
        new = dataclasses.replace(m, response_types=list(m.response_types))
        if function is not None:
            fn, qualifier = self.functions.resolve(scope, function)
            config = self.functions.config_of(fn, qualifier)
            self._check_role(scope, config.role, fn.name, m.event_source_arn)
            new.function_arn = function_arn(fn.account_id, fn.region, fn.name, qualifier)
        if batch_size is not None or window is not None:
            new.batching_window = window if window is not None else m.batching_window
            new.batch_size = _batch(
                batch_size or m.batch_size, new.batching_window, m.event_source_arn
            )
        if response_types is not None:
            new.response_types = response_types
        if enabled is not None and enabled != m.enabled:
            new.enabled = enabled
            new.state = "Enabling" if enabled else "Disabling"
        else:
            new.state = "Updating"
        new.last_modified = self.clock.now()
        self._commit(new)
        self._settle_soon(new.uuid)
        return new

    def delete(self, scope: Scope, mapping_id: str) -> Mapping:
        m = self.get(scope, mapping_id)
        self.store.delete(KIND, m.uuid)
        del self.mappings[m.uuid]
        task = self._pollers.pop(m.uuid, None)
        if task is not None:
            task.cancel()
        return dataclasses.replace(m, state="Deleting")

    def _settle_soon(self, mapping_id: str) -> None:
        # Without a loop (a unit test) `settle` is called by hand.
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_soon(self.settle, mapping_id)

    def settle(self, mapping_id: str) -> None:
        """Creating / Enabling / Updating are done: Enabled or Disabled, poller to match."""
        m = self.mappings.get(mapping_id)
        if m is None:
            return
        if m.state not in ("Enabled", "Disabled"):
            self._commit(dataclasses.replace(m, state="Enabled" if m.enabled else "Disabled"))
        self._apply(self.mappings[mapping_id])

    def _apply(self, m: Mapping) -> None:
        running = self._pollers.get(m.uuid)
        if running is not None:
            running.cancel()
            self._pollers.pop(m.uuid, None)
        if m.enabled and self.consumer is not None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._pollers[m.uuid] = loop.create_task(self._poll(m.uuid), name=f"esm-{m.uuid}")

    async def _poll(self, mapping_id: str) -> None:
        assert self.consumer is not None
        while True:
            m = self.mappings.get(mapping_id)
            if m is None or not m.enabled:
                return
            try:
                received = await self.consumer.receive(
                    m.event_source_arn, min(10, m.batch_size), POLL_WAIT
                )
            except QueueRefused as exc:
                self._result(mapping_id, f"PROBLEM: {exc.code}: {exc.message}")
                await self.clock.sleep(BACKOFF)
                continue
            if received:
                batch = await self._fill(m, list(received))
                await self.process(mapping_id, batch)

    async def _fill(self, m: Mapping, batch: list[Received]) -> list[Received]:
        """With a batching window, gather up to BatchSize records (a receive takes 10 at
        most) for at most MaximumBatchingWindowInSeconds from the first, as Lambda does."""
        assert self.consumer is not None
        deadline = self.clock.now() + m.batching_window
        size = sum(len(json.dumps(r.body)) for r in batch)
        while len(batch) < m.batch_size and m.batching_window > 0 and size < FILL_ROOM:
            left = deadline - self.clock.now()
            if left <= 0 or self.mappings.get(m.uuid) is not m:  # window over, or changed
                break
            try:
                more = await self.consumer.receive(
                    m.event_source_arn, min(10, m.batch_size - len(batch)), 0.0
                )
            except QueueRefused:
                break  # invoke with what was gathered; the next poll reports the problem
            batch.extend(more)
            size += sum(len(json.dumps(r.body)) for r in more)
            if not more:
                await self.clock.sleep(min(left, FILL_PAUSE))
        return batch

    async def process(self, mapping_id: str, batch: list[Received]) -> None:
        """Invoke the function with one batch and delete what it handled."""
        assert self.consumer is not None
        m = self.mappings.get(mapping_id)
        if m is None:
            return
        event = {"Records": [record_of(r, m.event_source_arn, m.region) for r in batch]}
        scope = Scope(m.account_id, m.region)
        name, _, qualifier = m.function_arn.split(":function:", 1)[1].partition(":")
        try:
            answer = await self.invoker.invoke_sync(
                scope, name, qualifier or None, json.dumps(event).encode()
            )
        except Exception as exc:  # throttled, deleted, not ready: the batch comes back later
            self._result(mapping_id, f"PROBLEM: {exc}")
            await self.clock.sleep(BACKOFF)
            return
        if answer.function_error is not None:
            self._result(mapping_id, "PROBLEM: Function call failed")
            return  # all of it returns after the visibility timeout
        done = batch
        if "ReportBatchItemFailures" in m.response_types:
            failed = failed_ids(answer.payload) or set()
            done = [r for r in batch if r.message_id not in failed]
        if done:
            try:
                self.consumer.delete(m.event_source_arn, [r.receipt_handle for r in done])
            except QueueRefused as exc:
                log.warning("lambda: cannot delete a handled batch of %s: %s",
                            m.event_source_arn, exc)  # fmt: skip
        self._result(mapping_id, "OK")

    def _result(self, mapping_id: str, result: str) -> None:
        m = self.mappings.get(mapping_id)
        if m is not None:
            m.last_result = result  # shown by GetEventSourceMapping; not worth a write


def _batch(size: int | None, window: int | None, source: str) -> int:
    size = 10 if size is None else size
    if source.endswith(".fifo"):  # one receive's worth, in order: no batching window
        if window:
            raise InvalidParameterValueException(
                "Batching window is not supported for FIFO queues (MaximumBatchingWindowInSeconds)."
            )
        if not 1 <= size <= 10:
            raise InvalidParameterValueException(
                "BatchSize must be between 1 and 10 for FIFO queues (BatchSize)."
            )
    if size > 10 and not window:
        raise InvalidParameterValueException(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10"
        )
    if not 1 <= size <= MAX_BATCH:
        raise InvalidParameterValueException(
            f"BatchSize must be between 1 and {MAX_BATCH} for SQS (BatchSize)."
        )
    return size
