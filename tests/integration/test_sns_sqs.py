"""SNS to SQS on one server: a queue whose policy lets the topic send gets the signed SNS
envelope (or the raw message and its attributes); a queue whose policy does not is a
client-side failure, and the message goes to the subscription's dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.subscriber import signature_valid
from tests.support.waiting import wait_for


def queue_for(sqs: Any, name: str, topic_arn: str | None) -> tuple[str, str]:
    """A queue (URL, ARN) whose policy lets `topic_arn` send (none: no policy)."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]  # fmt: skip
    if topic_arn is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                           "Action": "sqs:SendMessage", "Resource": arn,
                           "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}],
        })})  # fmt: skip
    return url, arn


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    out = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10,
                              MessageAttributeNames=["All"])  # fmt: skip
    return list(out.get("Messages", []))


def test_a_queue_subscribed_to_a_topic_gets_the_envelope_or_the_raw_message(
    dockyard: DockyardProcess,
) -> None:
    sns = make_client("sns", dockyard.endpoint)
    sqs = make_client("sqs", dockyard.endpoint)
    topic = sns.create_topic(Name="to-queues")["TopicArn"]
    url, arn = queue_for(sqs, "from-topic", topic)
    raw_url, raw_arn = queue_for(sqs, "from-topic-raw", topic)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn,
                  Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    kind = {"kind": {"DataType": "String", "StringValue": "k1"}}
    message_id = sns.publish(TopicArn=topic, Message="to the queue", Subject="Q",
                             MessageAttributes=kind)["MessageId"]  # fmt: skip
    (got,) = wait_for(lambda: receive(sqs, url), what="the envelope on the queue")
    doc = json.loads(got["Body"])
    assert doc["Type"] == "Notification" and doc["MessageId"] == message_id
    assert doc["Message"] == "to the queue" and doc["Subject"] == "Q"
    assert doc["MessageAttributes"] == {"kind": {"Type": "String", "Value": "k1"}}
    assert signature_valid(doc)
    (raw,) = wait_for(lambda: receive(sqs, raw_url), what="the raw message")
    assert raw["Body"] == "to the queue"
    assert raw["MessageAttributes"]["kind"]["StringValue"] == "k1"


def test_a_queue_whose_policy_refuses_the_topic_sends_to_the_dead_letter_queue(
    dockyard: DockyardProcess,
) -> None:
    sns = make_client("sns", dockyard.endpoint)
    sqs = make_client("sqs", dockyard.endpoint)
    topic = sns.create_topic(Name="refused")["TopicArn"]
    _, closed_arn = queue_for(sqs, "closed", None)
    dlq_url, dlq_arn = queue_for(sqs, "refused-dlq", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=closed_arn, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})  # fmt: skip
    sns.publish(TopicArn=topic, Message="nobody may take me")
    (got,) = wait_for(lambda: receive(sqs, dlq_url), what="the message in the DLQ")
    assert json.loads(got["Body"])["Message"] == "nobody may take me"
