"""SQS through its ports: a service principal may send only when the queue's policy allows
it for that source ARN; consumers receive, delete and release."""

from __future__ import annotations

import asyncio
import json

import pytest

from dockyard.core.queues import Attribute, Outgoing, QueueRefused
from dockyard.services.sqs import ServedQueues, Sqs
from tests.unit.services.sqs.conftest import SCOPE

RULE = "arn:aws:events:us-east-1:123456789012:rule/r"


def allow_events(queue_arn: str, source: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source}},
    }]})  # fmt: skip


def test_a_service_sends_only_when_the_queue_policy_allows_its_source(sqs: Sqs) -> None:
    queue = sqs.queues.create(SCOPE, "inbox", {}, {})
    ports = ServedQueues(sqs)
    event = Outgoing("{}", source_arn=RULE, principal="events.amazonaws.com")
    with pytest.raises(QueueRefused) as err:
        ports.send(queue.arn, event)
    assert err.value.code == "AccessDenied"
    sqs.queues.set_attributes(sqs.queues.find(queue.arn) or pytest.fail(),
                              {"Policy": allow_events(queue.arn, RULE)})  # fmt: skip
    assert ports.send(queue.arn, event)
    other = Outgoing("{}", source_arn=RULE + "-other", principal="events.amazonaws.com")
    with pytest.raises(QueueRefused):
        ports.send(queue.arn, other)
    with pytest.raises(QueueRefused) as gone:
        ports.send(queue.arn + "-missing", event)
    assert gone.value.code == "AWS.SimpleQueueService.NonExistentQueue"


def test_a_consumer_receives_deletes_and_releases(sqs: Sqs) -> None:
    queue = sqs.queues.create(SCOPE, "work", {}, {})
    ports = ServedQueues(sqs)
    assert ports.exists(queue.arn) and not ports.exists(queue.arn + "x")
    ports.send(queue.arn, Outgoing("a", attributes={"k": Attribute("String", "v")}))
    ports.send(queue.arn, Outgoing("b"))
    got = asyncio.run(ports.receive(queue.arn, 10, 0))
    assert sorted(m.body for m in got) == ["a", "b"]
    a = next(m for m in got if m.body == "a")
    assert a.message_attributes["k"].string_value == "v"
    assert a.attributes["ApproximateReceiveCount"] == "1"
    ports.delete(queue.arn, [a.receipt_handle])
    ports.release(queue.arn, [m.receipt_handle for m in got if m.body == "b"])
    again = asyncio.run(ports.receive(queue.arn, 10, 0))
    assert [m.body for m in again] == ["b"]
