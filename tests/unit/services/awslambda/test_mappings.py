"""SQS event source mappings with a fake queue (SQS is another service) and a fake invoker:
batches as Lambda builds them, deletion of what succeeded, partial batch failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.queues import Received
from dockyard.services.awslambda import Lambda
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
)
from dockyard.services.awslambda.invoke import Answer
from dockyard.services.awslambda.mappings import Mappings
from dockyard.store.sqlite import SqliteStore
from tests.unit.services.awslambda.test_functions import SCOPE, create

QUEUE = "arn:aws:sqs:us-east-1:000000000000:jobs"


class FakeQueue:
    def __init__(self, bodies: list[str]) -> None:
        self.waiting = [
            Received(f"m{i}", f"h{i}", b, "md5", {"ApproximateReceiveCount": "1"}, {})
            for i, b in enumerate(bodies)
        ]
        self.deleted: list[str] = []

    def exists(self, queue_arn: str) -> bool:
        return queue_arn == QUEUE

    async def receive(self, queue_arn: str, max_messages: int, wait: float) -> Sequence[Received]:
        batch, self.waiting = self.waiting[:max_messages], self.waiting[max_messages:]
        return batch

    def delete(self, queue_arn: str, receipt_handles: Sequence[str]) -> None:
        self.deleted.extend(receipt_handles)

    def release(self, queue_arn: str, receipt_handles: Sequence[str]) -> None:
        pass


class FakeInvoker:
    def __init__(self, answer: dict[str, Any] | None, error: str | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer, self.error = answer, error

    async def invoke_sync(
        self, scope: Any, name: str, qualifier: str | None, payload: bytes
    ) -> Answer:
        self.events.append(json.loads(payload))
        return Answer(200, json.dumps(self.answer).encode(), self.error, "$LATEST")


def mappings_with(tmp_path: Path, queue: FakeQueue, invoker: FakeInvoker) -> Mappings:
    lam = Lambda(SqliteStore(":memory:"), ManualClock(), tmp_path)
    create(lam)
    return Mappings(lam.store, lam.functions.clock, lam.functions, invoker, queue)  # type: ignore[arg-type]


def test_a_batch_is_handed_as_sqs_records_and_deleted_when_it_succeeds(tmp_path: Path) -> None:
    queue, invoker = FakeQueue(["a", "b"]), FakeInvoker(None)
    mappings = mappings_with(tmp_path, queue, invoker)
    m = mappings.create(SCOPE, "fn", QUEUE, 5, None, True, [])
    assert m.state == "Creating"
    mappings.settle(m.uuid)
    assert mappings.get(SCOPE, m.uuid).state == "Enabled"
    batch = asyncio.run(queue.receive(QUEUE, 5, 0))
    asyncio.run(mappings.process(m.uuid, list(batch)))
    records = invoker.events[0]["Records"]
    assert [r["body"] for r in records] == ["a", "b"]
    assert records[0]["eventSource"] == "aws:sqs" and records[0]["eventSourceARN"] == QUEUE
    assert records[0]["messageId"] == "m0" and records[0]["receiptHandle"] == "h0"
    assert queue.deleted == ["h0", "h1"]


def test_a_failed_batch_stays_on_the_queue(tmp_path: Path) -> None:
    queue, invoker = FakeQueue(["a"]), FakeInvoker({"errorMessage": "x"}, "Unhandled")
    mappings = mappings_with(tmp_path, queue, invoker)
    m = mappings.create(SCOPE, "fn", QUEUE, None, None, True, [])
    asyncio.run(mappings.process(m.uuid, list(asyncio.run(queue.receive(QUEUE, 10, 0)))))
    assert queue.deleted == []


def test_reported_item_failures_stay_and_the_rest_is_deleted(tmp_path: Path) -> None:
    queue = FakeQueue(["a", "b", "c"])
    invoker = FakeInvoker({"batchItemFailures": [{"itemIdentifier": "m1"}]})
    mappings = mappings_with(tmp_path, queue, invoker)
    m = mappings.create(SCOPE, "fn", QUEUE, None, None, True, ["ReportBatchItemFailures"])
    asyncio.run(mappings.process(m.uuid, list(asyncio.run(queue.receive(QUEUE, 10, 0)))))
    assert queue.deleted == ["h0", "h2"]


def test_mapping_checks(tmp_path: Path) -> None:
    mappings = mappings_with(tmp_path, FakeQueue([]), FakeInvoker(None))
    with pytest.raises(InvalidParameterValueException, match="NonExistentQueue"):
        mappings.create(SCOPE, "fn", QUEUE + "-nope", None, None, True, [])
    with pytest.raises(InvalidParameterValueException, match="batch window"):
        mappings.create(SCOPE, "fn", QUEUE, 100, None, True, [])
    m = mappings.create(SCOPE, "fn", QUEUE, None, None, True, [])
    with pytest.raises(ResourceConflictException, match=m.uuid):
        mappings.create(SCOPE, "fn", QUEUE, None, None, True, [])
    mappings.settle(m.uuid)
    off = mappings.update(SCOPE, m.uuid, None, None, None, False, None)
    assert off.state == "Disabling"
    mappings.settle(m.uuid)
    assert mappings.get(SCOPE, m.uuid).state == "Disabled"
    assert mappings.delete(SCOPE, m.uuid).state == "Deleting"
    assert mappings.listed(SCOPE, None, None) == []


def test_a_batching_window_gathers_past_ten_up_to_the_batch_size(tmp_path: Path) -> None:
    queue, invoker = FakeQueue([f"b{i}" for i in range(30)]), FakeInvoker(None)
    mappings = mappings_with(tmp_path, queue, invoker)
    m = mappings.create(SCOPE, "fn", QUEUE, 25, 5, True, [])
    mappings.settle(m.uuid)

    async def fill() -> list[Received]:
        first = await queue.receive(QUEUE, 10, 0)
        return await mappings._fill(mappings.mappings[m.uuid], list(first))

    batch = asyncio.run(fill())
    assert [r.body for r in batch] == [f"b{i}" for i in range(25)]
    assert len(queue.waiting) == 5


def test_a_batch_stops_growing_before_the_payload_limit(tmp_path: Path) -> None:
    queue, invoker = FakeQueue(["x" * 250_000] * 40), FakeInvoker(None)
    mappings = mappings_with(tmp_path, queue, invoker)
    m = mappings.create(SCOPE, "fn", QUEUE, 100, 5, True, [])
    mappings.settle(m.uuid)

    async def fill() -> list[Received]:
        first = await queue.receive(QUEUE, 10, 0)
        return await mappings._fill(mappings.mappings[m.uuid], list(first))

    batch = asyncio.run(fill())
    assert len(batch) == 20  # a third receive could pass 6 MB
    event = {"Records": [{"body": r.body} for r in batch]}
    assert len(json.dumps(event)) < 6 * 1024 * 1024


class DenyAll:
    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed

    def denial(self, account_id: str, role: str, session: str, action: str, res: str) -> str | None:
        return None if action in self.allowed else f"no {action}"


def test_the_execution_role_must_be_allowed_to_read_the_queue(tmp_path: Path) -> None:
    mappings = mappings_with(tmp_path, FakeQueue([]), FakeInvoker(None))
    mappings.permissions = DenyAll({"sqs:ReceiveMessage"})
    with pytest.raises(InvalidParameterValueException, match="call DeleteMessage on SQS"):
        mappings.create(SCOPE, "fn", QUEUE, None, None, True, [])
    mappings.permissions = DenyAll({"sqs:ReceiveMessage", "sqs:DeleteMessage",
                                    "sqs:GetQueueAttributes"})  # fmt: skip
    assert mappings.create(SCOPE, "fn", QUEUE, None, None, True, []).state == "Creating"


def test_a_fifo_queue_takes_ten_at_most_and_no_batching_window(tmp_path: Path) -> None:
    fifo = QUEUE + ".fifo"
    queue = FakeQueue([])
    queue.exists = lambda arn: arn == fifo  # type: ignore[method-assign]
    mappings = mappings_with(tmp_path, queue, FakeInvoker(None))
    with pytest.raises(InvalidParameterValueException, match="not supported for FIFO"):
        mappings.create(SCOPE, "fn", fifo, 10, 5, True, [])
    with pytest.raises(InvalidParameterValueException, match="between 1 and 10 for FIFO"):
        mappings.create(SCOPE, "fn", fifo, 11, None, True, [])
    assert mappings.create(SCOPE, "fn", fifo, 10, None, True, []).batch_size == 10
