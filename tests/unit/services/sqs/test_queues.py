"""Queues: names, attributes with their ranges and defaults, idempotent creation, purge."""

from __future__ import annotations

import json

import pytest

from dockyard.core.clock import ManualClock
from dockyard.services.sqs import Sqs
from dockyard.services.sqs.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
)
from dockyard.services.sqs.queues import name_from_url
from tests.unit.services.sqs.conftest import SCOPE


def test_defaults_are_sqs_defaults(sqs: Sqs) -> None:
    queue = sqs.queues.create(SCOPE, "plain", {}, {})
    shown = sqs.queues.shown_attributes(sqs.queues.by_name(SCOPE, "plain"), ["All"])
    assert shown["VisibilityTimeout"] == "30"
    assert shown["MessageRetentionPeriod"] == "345600"
    assert shown["MaximumMessageSize"] == "1048576"
    assert shown["DelaySeconds"] == "0"
    assert shown["ReceiveMessageWaitTimeSeconds"] == "0"
    assert shown["QueueArn"] == queue.arn == "arn:aws:sqs:us-east-1:123456789012:plain"
    assert "FifoQueue" not in shown
    fifo = sqs.queues.create(SCOPE, "f.fifo", {"FifoQueue": "true"}, {})
    assert fifo.attributes["ContentBasedDeduplication"] == "false"


@pytest.mark.parametrize(("name", "value"), [
    ("VisibilityTimeout", "43201"), ("DelaySeconds", "-1"), ("MaximumMessageSize", "1023"),
    ("MessageRetentionPeriod", "59"), ("ReceiveMessageWaitTimeSeconds", "21"),
    ("VisibilityTimeout", "ten"),
])  # fmt: skip
def test_out_of_range_attributes_are_refused(sqs: Sqs, name: str, value: str) -> None:
    with pytest.raises(InvalidAttributeValue, match=name):
        sqs.queues.create(SCOPE, "bad", {name: value}, {})


def test_unknown_and_fifo_only_attributes_are_refused_on_standard_queues(sqs: Sqs) -> None:
    with pytest.raises(InvalidAttributeName):
        sqs.queues.create(SCOPE, "q", {"Colour": "blue"}, {})
    with pytest.raises(InvalidAttributeName):
        sqs.queues.create(SCOPE, "q", {"ContentBasedDeduplication": "true"}, {})
    with pytest.raises(InvalidParameterValue):
        sqs.queues.create(SCOPE, "q.fifo", {}, {})
    with pytest.raises(InvalidParameterValue):
        sqs.queues.create(SCOPE, "x" * 81, {}, {})


def test_create_is_idempotent_with_the_same_attributes(sqs: Sqs) -> None:
    first = sqs.queues.create(SCOPE, "same", {"VisibilityTimeout": "10"}, {})
    again = sqs.queues.create(SCOPE, "same", {"VisibilityTimeout": "10"}, {})
    assert again is first
    assert sqs.queues.create(SCOPE, "same", {}, {}) is first
    with pytest.raises(QueueNameExists) as err:
        sqs.queues.create(SCOPE, "same", {"VisibilityTimeout": "11"}, {})
    assert err.value.query_code == "QueueAlreadyExists"


def test_a_deleted_name_is_free_again_after_60_seconds(sqs: Sqs, clock: ManualClock) -> None:
    sqs.queues.create(SCOPE, "gone", {}, {})
    sqs.queues.delete(sqs.queues.by_name(SCOPE, "gone"))
    with pytest.raises(QueueDoesNotExist) as err:
        sqs.queues.by_name(SCOPE, "gone")
    assert err.value.query_code == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(QueueDeletedRecently):
        sqs.queues.create(SCOPE, "gone", {}, {})
    clock.advance(60)
    sqs.queues.create(SCOPE, "gone", {}, {})


def test_purge_once_a_minute(sqs: Sqs, clock: ManualClock) -> None:
    sqs.queues.create(SCOPE, "p", {}, {})
    state = sqs.queues.by_name(SCOPE, "p")
    sqs.queues.purge(state)
    with pytest.raises(PurgeQueueInProgress):
        sqs.queues.purge(state)
    clock.advance(60)
    sqs.queues.purge(state)


def test_redrive_needs_an_existing_dead_letter_queue_that_allows_it(sqs: Sqs) -> None:
    missing = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:none",
                          "maxReceiveCount": 2})  # fmt: skip
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        sqs.queues.create(SCOPE, "src", {"RedrivePolicy": missing}, {})
    dlq = sqs.queues.create(SCOPE, "dlq", {
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})}, {})  # fmt: skip
    policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2})
    with pytest.raises(InvalidParameterValue, match="RedriveAllowPolicy"):
        sqs.queues.create(SCOPE, "src", {"RedrivePolicy": policy}, {})
    too_many = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1001})
    with pytest.raises(InvalidAttributeValue):
        sqs.queues.create(SCOPE, "src", {"RedrivePolicy": too_many}, {})


def test_queue_urls_name_account_and_queue() -> None:
    assert name_from_url("http://localhost:4566/123456789012/q") == ("123456789012", "q")
    assert name_from_url("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo") == (
        "123456789012", "q.fifo")  # fmt: skip
    with pytest.raises(InvalidParameterValue):
        name_from_url("http://localhost:4566/")
