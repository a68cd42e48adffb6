"""Fixtures: SNS on an in-memory store and a manual clock, called like the front door calls
it, with fakes of the SQS and Lambda ports (those services are not part of this branch)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.functions import InvokeRefused, InvokeResult
from dockyard.core.queues import Outgoing, QueueRefused, Received
from dockyard.services.sns import Sns, Urls, provider
from dockyard.store import SqliteStore
from tests.unit.services.calls import ACCOUNT, REGION, Call, caller, error_of


class FakeQueues:
    """A QueueSender (and the part of QueueConsumer a test needs) keeping what was sent."""

    def __init__(self, queues: Sequence[str]) -> None:
        self.sent: dict[str, list[Outgoing]] = {q: [] for q in queues}

    def send(self, queue_arn: str, message: Outgoing) -> str:
        if queue_arn not in self.sent:
            raise QueueRefused("AWS.SimpleQueueService.NonExistentQueue", "no such queue")
        self.sent[queue_arn].append(message)
        return f"m-{len(self.sent[queue_arn])}"

    def exists(self, queue_arn: str) -> bool:
        return queue_arn in self.sent

    async def receive(
        self, queue_arn: str, max_messages: int, wait_seconds: float
    ) -> list[Received]:
        return []


class FakeFunctions:
    """A FunctionInvoker keeping the asynchronous invocations it was asked for."""

    def __init__(self, functions: Sequence[str]) -> None:
        self.known = set(functions)
        self.invoked: list[tuple[str, bytes, str, str | None]] = []

    def exists(self, function_arn: str) -> bool:
        return function_arn in self.known

    async def invoke_event(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> str:
        if function_arn not in self.known:
            raise InvokeRefused("ResourceNotFoundException", "Function not found")
        self.invoked.append((function_arn, payload, principal, source_arn))
        return "req-1"

    async def invoke(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> InvokeResult:
        raise AssertionError("SNS invokes asynchronously")


class FakeLogs:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []  # group, stream, message

    def put_events(self, account_id: str, region: str, group: str, stream: str,
                   events: list[tuple[int, str]], create_group: bool) -> None:  # fmt: skip
        self.events.extend((group, stream, m) for _, m in events)


QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def store() -> SqliteStore:
    return SqliteStore(":memory:")


@pytest.fixture
def sns(store: SqliteStore, clock: ManualClock) -> Sns:
    service = Sns(store, clock, Urls("http://127.0.0.1:4566"))
    service.load()
    service.deliveries.queues = FakeQueues([QUEUE])
    service.deliveries.functions = FakeFunctions([FUNCTION])
    service.deliveries.logs = FakeLogs()
    return service


@pytest.fixture
def call(sns: Sns) -> Call:
    return caller(provider(sns))


def deliver_all(sns: Sns) -> int:
    """Make every due delivery once, as the worker would."""
    import asyncio

    return asyncio.run(sns.deliveries.deliver_due())


__all__ = ["ACCOUNT", "FUNCTION", "QUEUE", "REGION", "Call", "error_of"]
