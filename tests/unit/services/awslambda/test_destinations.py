"""Invocation records to SQS, SNS and the default event bus through their ports (fakes
here: those services are others)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.core.queues import Outgoing
from dockyard.core.scope import Scope
from dockyard.services.awslambda.destinations import Destinations, record
from dockyard.services.awslambda.errors import InvalidParameterValueException

SCOPE = Scope("000000000000", "us-east-1")
FN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


class Sent:
    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def send(self, queue_arn: str, message: Outgoing) -> str:
        self.items.append((queue_arn, message))
        return "m1"

    def publish(self, topic_arn: str, message: str, **kw: Any) -> str:
        self.items.append((topic_arn, (message, kw)))
        return "m2"

    def emit(self, event: dict[str, Any]) -> None:
        self.items.append(("bus", event))


def test_records_reach_each_kind_of_destination() -> None:
    sent = Sent()
    d = Destinations(queues=sent, topics=sent, events=sent)
    rec = record("r1", FN + ":$LATEST", "Success", 1, b'{"a": 1}', 200, "$LATEST", None,
                 b'"ok"', 1_700_000_000.0)  # fmt: skip
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    topic = "arn:aws:sns:us-east-1:000000000000:t"
    bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
    for target in (queue, topic, bus):
        d.check(SCOPE, target)
        d.send(SCOPE, target, rec, FN)
    (q_arn, message), (t_arn, (text, kw)), (_, event) = sent.items
    assert q_arn == queue and json.loads(message.body)["requestPayload"] == {"a": 1}
    assert message.source_arn == FN
    # Sent as the execution role of the function's own account: no service principal that
    # the queue's or topic's resource policy would have to name.
    assert message.principal is None
    assert t_arn == topic and kw["principal"] is None
    assert json.loads(text)["responsePayload"] == "ok"
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["detail"]["requestContext"]["requestId"] == "r1"


def test_an_unserved_destination_is_refused_naming_it() -> None:
    d = Destinations()
    with pytest.raises(InvalidParameterValueException, match="not served here"):
        d.check(SCOPE, "arn:aws:sqs:us-east-1:000000000000:q")
    with pytest.raises(InvalidParameterValueException, match="default event bus only"):
        Destinations(events=Sent()).check(
            SCOPE, "arn:aws:events:us-east-1:000000000000:event-bus/other"
        )


class Policies:
    """The execution role's policies: allow only what `allowed` names."""

    def __init__(self, *allowed: tuple[str, str]) -> None:
        self.allowed = set(allowed)
        self.asked: list[tuple[str, str, str, str]] = []

    def denial(
        self, account_id: str, role_arn: str, session_name: str, action: str, resource: str
    ) -> str | None:
        self.asked.append((role_arn, session_name, action, resource))
        return None if (action, resource) in self.allowed else f"not allowed: {action}"


def test_records_go_as_the_execution_role_whose_policies_must_allow_it() -> None:
    sent = Sent()
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    topic = "arn:aws:sns:us-east-1:000000000000:t"
    d = Destinations(queues=sent, topics=sent)
    d.permissions = Policies(("sqs:SendMessage", queue))
    rec = record("r1", FN + ":$LATEST", "Success", 1, b"{}", 200, "$LATEST", None, b"1", 0.0)
    role = "arn:aws:iam::000000000000:role/fn-role"
    d.send(SCOPE, queue, rec, FN, role, "fn")
    d.send(SCOPE, topic, rec, FN, role, "fn")  # sns:Publish is not allowed: not sent
    assert [arn for arn, _ in sent.items] == [queue]
    assert d.permissions.asked == [(role, "fn", "sqs:SendMessage", queue),
                                   (role, "fn", "sns:Publish", topic)]  # fmt: skip


def test_a_queue_of_another_account_must_allow_lambda_by_its_policy() -> None:
    sent = Sent()
    other = "arn:aws:sqs:us-east-1:111111111111:q"
    Destinations(queues=sent).send(SCOPE, other, record(
        "r1", FN, "Success", 1, b"{}", 200, "$LATEST", None, b"1", 0.0), FN)  # fmt: skip
    ((_, message),) = sent.items
    assert message.principal == "lambda.amazonaws.com" and message.source_arn == FN
