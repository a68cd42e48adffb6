"""SQS queues as rule targets, through the QueueSender port (a fake here): the event is the
message body, sent as events.amazonaws.com for the rule; FIFO queues need a group id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.api.context import RequestContext
from dockyard.core.clock import ManualClock
from dockyard.core.queues import Outgoing, QueueRefused
from dockyard.services.events import Events, provider
from dockyard.store.sqlite import SqliteStore

ACCOUNT, REGION = "000000000000", "us-east-1"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"


class Queues:
    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple[str, Outgoing]] = []
        self.refuse = refuse

    def send(self, queue_arn: str, message: Outgoing) -> str:
        if self.refuse:
            raise QueueRefused("AccessDenied", "the queue policy does not allow it")
        self.sent.append((queue_arn, message))
        return f"m-{len(self.sent)}"


@pytest.fixture
def events() -> Events:
    e = Events(SqliteStore(":memory:"), ManualClock(start=1_700_000_000.0))
    e.queues = Queues()
    return e


def call(events: Events, operation: str, **params: Any) -> dict[str, Any]:
    ctx = RequestContext("events", operation, ACCOUNT, REGION, "req-1")
    result = provider(events).handlers[operation](ctx, params)
    assert isinstance(result, dict)
    return result


def put(events: Events) -> None:
    call(events, "PutEvents", Entries=[{"Source": "my.app", "DetailType": "t",
                                        "Detail": json.dumps({"n": 1})}])  # fmt: skip


def test_an_event_becomes_a_message_sent_as_events_for_the_rule(events: Events) -> None:
    call(events, "PutRule", Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    out = call(events, "PutTargets", Rule="r", Targets=[{"Id": "q", "Arn": QUEUE}])
    assert out["FailedEntryCount"] == 0
    put(events)
    events.outbox.drain()
    assert isinstance(events.queues, Queues)
    [(arn, message)] = events.queues.sent
    assert arn == QUEUE
    assert json.loads(message.body)["detail"] == {"n": 1}
    assert message.principal == "events.amazonaws.com"
    assert message.source_arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r"
    assert message.group_id is None
    assert events.deliveries[-1]["outcome"] == "delivered as message m-1"


def test_a_fifo_queue_target_needs_a_group_id(events: Events) -> None:
    call(events, "PutRule", Name="f", EventPattern=json.dumps({"source": ["my.app"]}))
    fifo = QUEUE + ".fifo"
    out = call(events, "PutTargets", Rule="f", Targets=[{"Id": "q", "Arn": fifo}])
    assert out["FailedEntryCount"] == 1
    assert "MessageGroupId" in out["FailedEntries"][0]["ErrorMessage"]
    call(events, "PutTargets", Rule="f", Targets=[
        {"Id": "q", "Arn": fifo, "SqsParameters": {"MessageGroupId": "g1"}}])  # fmt: skip
    put(events)
    events.outbox.drain()
    assert isinstance(events.queues, Queues)
    [(_, message)] = events.queues.sent
    assert message.group_id == "g1" and message.deduplication_id


def test_a_refused_send_is_recorded_as_a_failed_delivery(events: Events) -> None:
    events.queues = Queues(refuse=True)
    call(events, "PutRule", Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    call(events, "PutTargets", Rule="r", Targets=[{"Id": "q", "Arn": QUEUE}])
    put(events)
    events.outbox.drain()
    assert events.deliveries[-1]["outcome"].startswith("failed: AccessDenied")
