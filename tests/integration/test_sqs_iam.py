"""SQS with an auth file: IAM users are authorized as sqs:<Action> on the queue ARN (batch
forms as their single action), and a queue policy can allow what their own policies do not."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.iam_support import (
    ACCOUNT,
    client,
    new_user,
    outcome,
    policy,
    start_auth_server,
)
from tests.support.server import DockyardProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    srv = start_auth_server(tmp_path_factory, "sqs-iam")
    yield srv
    srv.stop()


def test_users_need_sqs_permissions_or_the_queue_policy(server: DockyardProcess) -> None:
    root_sqs = client("sqs", server.endpoint)
    iam = client("iam", server.endpoint)
    name = f"q-{uuid.uuid4().hex[:6]}"
    url = root_sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"
    sender_key = new_user(iam, f"sender-{name}", policy(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}))  # fmt: skip
    reader_key = new_user(iam, f"reader-{name}")
    sender = client("sqs", server.endpoint, *sender_key)
    reader = client("sqs", server.endpoint, *reader_key)
    entries = [{"Id": "1", "MessageBody": "b"}]
    assert outcome(sender.send_message, QueueUrl=url, MessageBody="a") == "allowed"
    assert outcome(sender.send_message_batch, QueueUrl=url, Entries=entries) == "allowed"
    assert outcome(sender.receive_message, QueueUrl=url) == "denied"
    assert outcome(reader.receive_message, QueueUrl=url) == "denied"
    reader_arn = iam.get_user(UserName=f"reader-{name}")["User"]["Arn"]
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": reader_arn},
            "Action": "sqs:ReceiveMessage", "Resource": arn}]})})  # fmt: skip
    got: list[Any] = []
    assert outcome(lambda **kw: got.extend(reader.receive_message(**kw).get("Messages", [])),
                   QueueUrl=url, MaxNumberOfMessages=10) == "allowed"  # fmt: skip
    assert sorted(m["Body"] for m in got) == ["a", "b"]
