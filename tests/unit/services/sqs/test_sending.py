"""What SendMessage must satisfy, as SQS checks it."""

from __future__ import annotations

import asyncio

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.sqs import Sqs
from dockyard.services.sqs.model import MessageAttribute
from dockyard.services.sqs.sending import SendRequest
from tests.unit.services.sqs.conftest import SCOPE


@pytest.mark.parametrize(("request_", "code", "words"), [
    (SendRequest("bad \x00 char"), "InvalidMessageContents", "#x0"),
    (SendRequest("x", delay=901), "InvalidParameterValue", "DelaySeconds"),
    (SendRequest("x", deduplication_id="d"), "InvalidParameterValue", "MessageDeduplicationId"),
    (SendRequest("x", attributes={f"a{i}": MessageAttribute("String", "v") for i in range(11)}),
     "InvalidParameterValue", "[11]"),
    (SendRequest("x", attributes={"AWS.x": MessageAttribute("String", "v")}),
     "InvalidParameterValue", "AWS.x"),
    (SendRequest("x", attributes={"n": MessageAttribute("Number", "ten")}),
     "InvalidParameterValue", "number"),
    (SendRequest("x", attributes={"t": MessageAttribute("Text", "v")}),
     "InvalidParameterValue", "Binary, Number, String"),
    (SendRequest("x", attributes={"e": MessageAttribute("String", "")}),
     "InvalidParameterValue", "non-empty"),
    (SendRequest("y" * 1025), "InvalidParameterValue", "shorter than 1024 bytes"),
])  # fmt: skip
def test_standard_queue_sends_are_checked(
    sqs: Sqs, request_: SendRequest, code: str, words: str
) -> None:
    sqs.queues.create(SCOPE, "checked", {"MaximumMessageSize": "1024"}, {})
    state = sqs.queues.by_name(SCOPE, "checked")
    with pytest.raises(ServiceError) as err:
        sqs.messages.send(state, request_, "me")
    assert err.value.code == code
    assert words in err.value.message
    assert state.messages == {}


def test_a_retried_receive_attempt_gets_the_same_messages(sqs: Sqs) -> None:
    sqs.queues.create(SCOPE, "attempt.fifo", {"FifoQueue": "true",
                                              "ContentBasedDeduplication": "true"}, {})  # fmt: skip
    state = sqs.queues.by_name(SCOPE, "attempt.fifo")
    for body in ("a", "b"):
        sqs.messages.send(state, SendRequest(body, group_id=body), "me")
    first = asyncio.run(sqs.messages.receive(state, 10, None, 0, "attempt-1"))
    handles = [m.receipt for m in first]
    again = asyncio.run(sqs.messages.receive(state, 10, None, 0, "attempt-1"))
    assert [m.receipt for m in again] == handles
    assert asyncio.run(sqs.messages.receive(state, 10, None, 0, "attempt-2")) == []
