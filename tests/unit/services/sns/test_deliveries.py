"""Publishing and the delivery queue, with fakes of the SQS and Lambda ports: the envelope a
queue gets (or the raw message), the event a function gets, email recorded to a log group,
retries by the documented policy, a dead-letter queue, and a restart."""

from __future__ import annotations

import json

from dockyard.core.clock import ManualClock
from dockyard.services.sns import Sns, Urls, provider, retries
from dockyard.services.sns.model import DELIVERY_KIND
from dockyard.store import SqliteStore
from tests.unit.services.calls import caller
from tests.unit.services.sns.conftest import (
    FUNCTION,
    QUEUE,
    Call,
    FakeFunctions,
    FakeLogs,
    FakeQueues,
    deliver_all,
)


def topic(call: Call, name: str = "t") -> str:
    return str(call("CreateTopic", Name=name)["TopicArn"])


def test_a_queue_gets_the_sns_envelope(sns: Sns, call: Call) -> None:
    arn = topic(call)
    sub = call("Subscribe", TopicArn=arn, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    assert sub.startswith(arn + ":")  # same account: confirmed at once
    message_id = call("Publish", TopicArn=arn, Message="hi", Subject="S", MessageAttributes={
        "k": {"DataType": "String", "StringValue": "v"}})["MessageId"]  # fmt: skip
    assert len(sns.deliveries.pending) == 1  # committed, not yet delivered
    deliver_all(sns)
    queues = sns.deliveries.queues
    assert isinstance(queues, FakeQueues)
    (sent,) = queues.sent[QUEUE]
    body = json.loads(sent.body)
    assert body["Type"] == "Notification" and body["MessageId"] == message_id
    assert body["Message"] == "hi" and body["Subject"] == "S" and body["TopicArn"] == arn
    assert body["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert body["SigningCertURL"].startswith("http://127.0.0.1:4566/_dockyard/sns/")
    assert sent.source_arn == arn and sent.principal == "sns.amazonaws.com"
    assert sns.deliveries.pending == {}


def test_raw_delivery_sends_the_message_and_its_attributes(sns: Sns, call: Call) -> None:
    arn = topic(call)
    call("Subscribe", TopicArn=arn, Protocol="sqs", Endpoint=QUEUE,
         Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    call("Publish", TopicArn=arn, Message="raw body", MessageAttributes={
        "n": {"DataType": "Number", "StringValue": "3"}})  # fmt: skip
    deliver_all(sns)
    queues = sns.deliveries.queues
    assert isinstance(queues, FakeQueues)
    (sent,) = queues.sent[QUEUE]
    assert sent.body == "raw body"
    assert sent.attributes["n"].data_type == "Number"
    assert sent.attributes["n"].string_value == "3"


def test_a_function_gets_the_sns_event(sns: Sns, call: Call) -> None:
    arn = topic(call)
    sub = call("Subscribe", TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION)["SubscriptionArn"]
    call("Publish", TopicArn=arn, Message="for lambda")
    deliver_all(sns)
    functions = sns.deliveries.functions
    assert isinstance(functions, FakeFunctions)
    ((target, payload, principal, source),) = functions.invoked
    assert (target, principal, source) == (FUNCTION, "sns.amazonaws.com", arn)
    record = json.loads(payload)["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == sub
    assert record["Sns"]["Message"] == "for lambda" and record["Sns"]["Subject"] is None
    assert "SigningCertUrl" in record["Sns"] and "UnsubscribeUrl" in record["Sns"]


def test_message_structure_json_picks_each_protocols_message(sns: Sns, call: Call) -> None:
    arn = topic(call)
    call("Subscribe", TopicArn=arn, Protocol="sqs", Endpoint=QUEUE,
         Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    call("Subscribe", TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION)
    call("Publish", TopicArn=arn, MessageStructure="json",
         Message=json.dumps({"default": "plain", "sqs": "for queues"}))  # fmt: skip
    deliver_all(sns)
    queues, functions = sns.deliveries.queues, sns.deliveries.functions
    assert isinstance(queues, FakeQueues) and isinstance(functions, FakeFunctions)
    assert queues.sent[QUEUE][0].body == "for queues"
    assert json.loads(functions.invoked[0][1])["Records"][0]["Sns"]["Message"] == "plain"


def test_a_refused_queue_sends_to_the_dead_letter_queue(sns: Sns, call: Call) -> None:
    arn = topic(call)
    gone = QUEUE.replace("inbox", "gone")
    call("Subscribe", TopicArn=arn, Protocol="sqs", Endpoint=gone, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": QUEUE})})  # fmt: skip
    call("Publish", TopicArn=arn, Message="lost?")
    deliver_all(sns)  # the queue does not exist: a client-side error, no retry
    queues = sns.deliveries.queues
    assert isinstance(queues, FakeQueues)
    assert json.loads(queues.sent[QUEUE][0].body)["Message"] == "lost?"
    assert sns.deliveries.pending == {}


def test_email_is_recorded_to_the_topics_log_group(sns: Sns, call: Call) -> None:
    arn = topic(call, "alerts")
    call("Subscribe", TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
    deliver_all(sns)
    logs = sns.deliveries.logs
    assert isinstance(logs, FakeLogs)
    group, stream, line = logs.events[0]
    assert group == "/dockyard/sns/alerts" and stream == "email/ops@example.com"
    assert (
        "SubscribeURL: http://127.0.0.1:4566/_dockyard/sns/?Action=ConfirmSubscription"
        in (json.loads(line)["message"])
    )


def test_http_retries_follow_the_delivery_policy_and_survive_a_restart(
    store: SqliteStore, clock: ManualClock
) -> None:
    sns = Sns(store, clock, Urls("http://127.0.0.1:4566"))
    sns.load()
    call = caller(provider(sns))
    arn = topic(call)
    call("Subscribe", TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/closed",
         ReturnSubscriptionArn=True)  # fmt: skip
    deliver_all(sns)  # the confirmation request: nobody listens; retried in 20 s (default)
    (delivery,) = sns.deliveries.pending.values()
    assert delivery.attempts == 1 and delivery.due == clock.now() + 20
    assert store.get(DELIVERY_KIND, delivery.id) is not None
    again = Sns(store, clock, Urls("http://127.0.0.1:4566"))
    again.load()
    assert list(again.deliveries.pending) == [delivery.id]
    assert again.deliveries.pending[delivery.id].attempts == 1
    assert again.deliveries.signer is not None
    assert sns.deliveries.signer is not None
    assert again.deliveries.signer.cert_id == sns.deliveries.signer.cert_id


def test_the_four_phases_of_an_http_retry_policy() -> None:
    policy = {"minDelayTarget": 1, "maxDelayTarget": 10, "numRetries": 8,
              "numNoDelayRetries": 2, "numMinDelayRetries": 1, "numMaxDelayRetries": 2,
              "backoffFunction": "linear"}  # fmt: skip
    delays = [retries.http_delay(policy, n) for n in range(1, 10)]
    assert delays[:3] == [0.0, 0.0, 1.0]  # immediate, then pre-backoff
    assert delays[3:6] == [4.0, 7.0, 10.0]  # backoff: linear from 1 to 10
    assert delays[6:8] == [10.0, 10.0]  # post-backoff
    assert delays[8] is None  # numRetries used up
    default = retries.http_policy(None, None)
    assert [retries.http_delay(default, n) for n in range(1, 5)] == [20.0, 20.0, 20.0, None]


def test_a_topic_can_forbid_subscription_overrides() -> None:
    topic_policy = json.dumps(
        {"http": {"disableSubscriptionOverrides": True,
                  "defaultHealthyRetryPolicy": {"numRetries": 1}}}
    )  # fmt: skip
    own = json.dumps({"healthyRetryPolicy": {"numRetries": 9}})
    assert retries.http_policy(topic_policy, own)["numRetries"] == 1
    assert retries.http_policy(None, own)["numRetries"] == 9


def test_basic_auth_in_an_endpoint_becomes_a_header_and_is_masked_when_listed(
    call: Call,
) -> None:
    from dockyard.services.sns.delivery import with_basic_auth

    headers: dict[str, str] = {}
    url = with_basic_auth("https://app:s%3Acret@example.com:8443/hook?x=1", headers)
    assert url == "https://example.com:8443/hook?x=1"
    assert headers["Authorization"] == "Basic YXBwOnM6Y3JldA=="  # app:s:cret
    arn = topic(call)
    call("Subscribe", TopicArn=arn, Protocol="https", Endpoint="https://app:pw@example.com/h")
    (listed,) = call("ListSubscriptionsByTopic", TopicArn=arn)["Subscriptions"]
    assert listed["Endpoint"] == "https://app:****@example.com/h"


def test_email_json_records_the_notification_document_and_sms_the_message(
    sns: Sns, call: Call
) -> None:
    arn = topic(call, "pager")
    call("Subscribe", TopicArn=arn, Protocol="sms", Endpoint="+15555550100")
    call("Subscribe", TopicArn=arn, Protocol="email-json", Endpoint="bot@example.com")
    (pending,) = [s for s in sns.topics.of_topic(arn) if not s.confirmed]
    call("ConfirmSubscription", TopicArn=arn, Token=pending.token)
    deliver_all(sns)  # the email-json confirmation request
    call("Publish", TopicArn=arn, Message="paged", Subject="P")
    deliver_all(sns)
    logs = sns.deliveries.logs
    assert isinstance(logs, FakeLogs)
    lines = {stream: json.loads(m) for g, stream, m in logs.events if json.loads(m)["type"]
             == "Notification"}  # fmt: skip
    assert lines["sms/+15555550100"]["message"] == "paged"
    doc = json.loads(lines["email-json/bot@example.com"]["message"])
    assert doc["Type"] == "Notification" and doc["Message"] == "paged" and doc["Subject"] == "P"


def test_a_delivery_policy_may_choose_the_content_type() -> None:
    own = json.dumps({"requestPolicy": {"headerContentType": "application/json"}})
    topic_policy = json.dumps({"http": {"defaultRequestPolicy": {"headerContentType": "text/xml"}}})
    assert retries.content_type(topic_policy, own) == "application/json"
    assert retries.content_type(topic_policy, None) == "text/xml"
    assert retries.content_type(None, None) is None
