"""SQS against a real server with boto3 and the AWS CLI: FIFO order and deduplication,
dead-letter queues, long polls, durability across kill -9, EventBridge SQS targets."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

__all__ = ["postgres_server"]


@pytest.fixture
def sqs(dockyard: DockyardProcess) -> Any:
    return make_client("sqs", dockyard.endpoint)


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_queue_lifecycle_and_query_compatible_errors(sqs: Any, dockyard: DockyardProcess) -> None:
    queue = name("life")
    url = sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "5"},
                           tags={"team": "a"})["QueueUrl"]  # fmt: skip
    assert url == f"{dockyard.endpoint}/000000000000/{queue}"
    assert (
        sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "5"})["QueueUrl"] == url
    )
    assert sqs.get_queue_url(QueueName=queue)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=queue)["QueueUrls"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "5"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{queue}"
    with pytest.raises(ClientError) as exists:
        sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "6"})
    assert exists.value.response["Error"]["Code"] == "QueueAlreadyExists"
    with pytest.raises(ClientError) as bad:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "50000"})
    assert bad.value.response["Error"]["Code"] == "InvalidAttributeValue"
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as gone:
        sqs.get_queue_url(QueueName=queue)
    assert gone.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as missing:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert missing.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_messages_with_attributes_and_digests(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=name("msg"))["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "greeting"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    })  # fmt: skip
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"])["Messages"]  # fmt: skip
    [message] = got
    assert message["MessageId"] == sent["MessageId"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\xff"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two", "DelaySeconds": 901},
    ])  # fmt: skip
    assert [e["Id"] for e in batch["Successful"]] == ["a"]
    assert batch["Failed"][0]["Id"] == "b" and batch["Failed"][0]["SenderFault"] is True
    with pytest.raises(ClientError) as err:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_fifo_keeps_group_order_and_drops_a_duplicate(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=name("order") + ".fifo",
                           Attributes={"FifoQueue": "true"})["QueueUrl"]  # fmt: skip
    for group, n in [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)]:
        sqs.send_message(QueueUrl=url, MessageBody=f"{group}{n}", MessageGroupId=group,
                         MessageDeduplicationId=f"{group}{n}")  # fmt: skip
    duplicate = sqs.send_message(QueueUrl=url, MessageBody="a1 again", MessageGroupId="a",
                                 MessageDeduplicationId="a1")  # fmt: skip
    received: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        received += [m["Body"] for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
        ])  # fmt: skip
    assert [b for b in received if b.startswith("a")] == ["a1", "a2", "a3"]
    assert [b for b in received if b.startswith("b")] == ["b1", "b2"]
    assert "a1 again" not in received
    assert duplicate["MessageId"]


def test_a_message_received_three_times_lands_in_the_dead_letter_queue(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]  # fmt: skip
    src = sqs.create_queue(QueueName=name("src"), Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]  # fmt: skip
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")["MessageId"]
    for count in (1, 2, 3):
        reply = sqs.receive_message(
            QueueUrl=src, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
        )
        [message] = reply["Messages"]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(count)
    assert "Messages" not in sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    [moved] = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"]
    assert moved["MessageId"] == sent and moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"].endswith(src.rsplit("/", 1)[1])
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    # Redrive: a move task puts it back on the queue it came from.
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=moved["ReceiptHandle"],
                                  VisibilityTimeout=0)  # fmt: skip
    sqs.start_message_move_task(SourceArn=dlq_arn)

    def done() -> bool:
        [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        return bool(task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 1)

    wait_for(done, what="the move task to complete")
    [back] = sqs.receive_message(QueueUrl=src)["Messages"]
    assert back["MessageId"] == sent


def test_a_long_poll_returns_the_message_before_its_wait_time(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=name("poll"))["QueueUrl"]
    result: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        result["reply"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        result["took"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)  # let the poll reach the server before the send
    sqs.send_message(QueueUrl=url, MessageBody="ping")
    poller.join(timeout=30)
    assert [m["Body"] for m in result["reply"]["Messages"]] == ["ping"]
    assert result["took"] < 20  # answered on arrival, not at the end of the wait


def test_every_sent_message_survives_kill_9(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    server = fresh_server("--runtime", "process", "--no-hosts")
    sqs = make_client("sqs", server.endpoint)
    url = sqs.create_queue(QueueName="durable")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="durable.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]  # fmt: skip
    sent = {sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"] for i in range(20)}
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": f"b{i}"} for i in range(10)])  # fmt: skip
    sent |= {e["MessageId"] for e in batch["Successful"]}
    fifo_sent = [sqs.send_message(QueueUrl=fifo, MessageBody=f"f{i}", MessageGroupId="g")[
        "MessageId"] for i in range(5)]  # fmt: skip
    # One is received (in flight) when the server dies: it comes back after the restart.
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    server.kill()
    again = fresh_server("--runtime", "process", "--no-hosts", data_dir=server.data_dir,
                         port=server.port)  # fmt: skip
    sqs = make_client("sqs", again.endpoint)
    received: set[str] = set()

    def drain() -> bool:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        received.update(m["MessageId"] for m in got)
        return received >= sent

    wait_for(drain, timeout=30, what="every sent message after the restart")
    assert received == sent
    order = []
    while got := sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10).get("Messages"):
        order += [m["MessageId"] for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=fifo, ReceiptHandle=m["ReceiptHandle"])
    assert order == fifo_sent


def test_an_eventbridge_rule_puts_the_event_on_a_queue(sqs: Any, dockyard: DockyardProcess) -> None:
    events = make_client("events", dockyard.endpoint)
    url = sqs.create_queue(QueueName=name("events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]  # fmt: skip
    rule = name("to-sqs")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": [rule]}))["RuleArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]})})  # fmt: skip
    out = events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    assert out["FailedEntryCount"] == 0
    events.put_events(Entries=[{"Source": rule, "DetailType": "d", "Detail": '{"v": 7}'}])
    reply = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    [message] = reply["Messages"]
    event = json.loads(message["Body"])
    assert event["source"] == rule and event["detail"] == {"v": 7}


def test_the_aws_cli_sends_and_receives(dockyard: DockyardProcess) -> None:
    queue = name("cli")
    url = aws_json(dockyard.endpoint, "sqs", "create-queue", "--queue-name", queue)["QueueUrl"]
    aws_json(dockyard.endpoint, "sqs", "send-message", "--queue-url", url,
             "--message-body", "from the cli")  # fmt: skip
    got = aws_json(dockyard.endpoint, "sqs", "receive-message", "--queue-url", url,
                   "--wait-time-seconds", "5")  # fmt: skip
    assert [m["Body"] for m in got["Messages"]] == ["from the cli"]
    attrs = aws_json(dockyard.endpoint, "sqs", "get-queue-attributes", "--queue-url", url,
                     "--attribute-names", "ApproximateNumberOfMessagesNotVisible")  # fmt: skip
    assert attrs["Attributes"] == {"ApproximateNumberOfMessagesNotVisible": "1"}


def test_sent_messages_survive_kill_9_on_postgresql(
    postgres_server: PostgresServer, fresh_server: Callable[..., DockyardProcess]
) -> None:
    url = postgres_server.create_database()
    server = fresh_server("--runtime", "process", "--no-hosts", "--store", url)
    sqs = make_client("sqs", server.endpoint)
    queue = sqs.create_queue(QueueName="pg")["QueueUrl"]
    sent = {sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")["MessageId"] for i in range(10)}
    server.kill()
    again = fresh_server("--runtime", "process", "--no-hosts", "--store", url,
                         data_dir=server.data_dir, port=server.port)  # fmt: skip
    sqs = make_client("sqs", again.endpoint)
    received: set[str] = set()

    def drain() -> bool:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        received.update(m["MessageId"] for m in got)
        return received >= sent

    wait_for(drain, timeout=30, what="every sent message after the restart")
    assert received == sent
