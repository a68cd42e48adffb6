"""SNS against a real server: topics with boto3 and the AWS CLI, an HTTP subscriber that
confirms through its SubscribeURL and checks each message's signature, filter policies,
email subscriptions recorded to CloudWatch Logs, and a batch with a failing entry."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.server import DockyardProcess
from tests.support.subscriber import Subscriber, signature_valid
from tests.support.waiting import wait_for


@pytest.fixture
def sns(dockyard: DockyardProcess) -> Any:
    return make_client("sns", dockyard.endpoint)


def confirm(sns: Any, topic_arn: str, hook: Subscriber, **attributes: str) -> str:
    """Subscribe `hook`, answer its SubscriptionConfirmation by visiting SubscribeURL."""
    out = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=hook.url,
                        Attributes=attributes)  # fmt: skip
    assert out["SubscriptionArn"] == "pending confirmation"
    request = wait_for(lambda: hook.of_type("SubscriptionConfirmation"), what="a confirmation")[0]
    doc = request.doc
    assert signature_valid(doc)
    assert doc["TopicArn"] == topic_arn and doc["Token"]
    with urllib.request.urlopen(doc["SubscribeURL"], timeout=10) as resp:
        assert resp.status == 200
        assert b"<SubscriptionArn>" in resp.read()
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    arns = [s["SubscriptionArn"] for s in subs if s["Endpoint"] == hook.url]
    assert arns and arns[0].startswith(topic_arn + ":")
    return str(arns[0])


@pytest.mark.parametrize("version", ["1", "2"])
def test_http_subscriber_confirms_and_gets_signed_notifications(sns: Any, version: str) -> None:
    topic = sns.create_topic(Name=f"orders-v{version}",
                             Attributes={"SignatureVersion": version})["TopicArn"]  # fmt: skip
    with Subscriber() as hook:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)  # asks again
        pending = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [s["SubscriptionArn"] for s in pending] == ["PendingConfirmation"]
        sub_arn = confirm(sns, topic, hook)
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
        assert attrs["PendingConfirmation"] == "false"
        message_id = sns.publish(
            TopicArn=topic, Message="order 42 shipped", Subject="Shipped",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "shipping"}},
        )["MessageId"]  # fmt: skip
        got = wait_for(lambda: hook.of_type("Notification"), what="the notification")[0]
        assert got.headers["x-amz-sns-message-id"] == message_id
        assert got.headers["x-amz-sns-topic-arn"] == topic
        assert got.headers["x-amz-sns-subscription-arn"] == sub_arn
        doc = got.doc
        assert doc["Message"] == "order 42 shipped" and doc["Subject"] == "Shipped"
        assert doc["SignatureVersion"] == version
        assert doc["MessageAttributes"] == {"kind": {"Type": "String", "Value": "shipping"}}
        assert signature_valid(doc)
        tampered = {**doc, "Message": "order 43 shipped"}
        assert not signature_valid(tampered)
        # The UnsubscribeURL works without credentials, as SNS's does.
        with urllib.request.urlopen(doc["UnsubscribeURL"], timeout=10) as resp:
            assert resp.status == 200
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.delete_topic(TopicArn=topic)


def test_an_endpoint_with_credentials_gets_basic_auth(sns: Any) -> None:
    topic = sns.create_topic(Name="basic-auth")["TopicArn"]
    with Subscriber() as hook:
        url = hook.url.replace("http://", "http://hook:secret@")
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        got = wait_for(lambda: hook.of_type("SubscriptionConfirmation"), what="a confirmation")
        assert got[0].headers["authorization"] == "Basic aG9vazpzZWNyZXQ="  # hook:secret
        listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert listed[0]["Endpoint"] == url.replace(":secret@", ":****@")
    sns.delete_topic(TopicArn=topic)


def test_filter_policy_and_raw_delivery(sns: Any) -> None:
    topic = sns.create_topic(Name="filtered")["TopicArn"]
    policy = {"store": ["example_corp"], "price": [{"numeric": [">=", 100]}],
              "event": [{"anything-but": "test"}]}  # fmt: skip
    with Subscriber() as hook:
        confirm(sns, topic, hook, FilterPolicy=json.dumps(policy), RawMessageDelivery="true")

        def send(text: str, store: str, price: str, event: str) -> None:
            sns.publish(TopicArn=topic, Message=text, MessageAttributes={
                "store": {"DataType": "String", "StringValue": store},
                "price": {"DataType": "Number", "StringValue": price},
                "event": {"DataType": "String", "StringValue": event},
            })  # fmt: skip

        send("cheap", "example_corp", "5", "order")
        send("other store", "elsewhere", "500", "order")
        send("a test", "example_corp", "500", "test")
        send("wanted", "example_corp", "250", "order")
        got = wait_for(lambda: hook.of_type("Notification"), what="the matching message")
        # Deliveries are in order from one queue: by the time "wanted" arrived, the others
        # had been filtered out, not delayed.
        assert [r.body for r in got] == [b"wanted"]
        assert got[0].headers["x-amz-sns-rawdelivery"] == "true"
    with pytest.raises(ClientError) as err:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/x",
                      Attributes={"FilterPolicy": json.dumps({"a": "not-a-list"})})  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    assert "FilterPolicy" in err.value.response["Error"]["Message"]
    sns.delete_topic(TopicArn=topic)


def test_message_body_filter_policy(sns: Any) -> None:
    topic = sns.create_topic(Name="body-filtered")["TopicArn"]
    policy = {"order": {"status": [{"prefix": "ship"}]}}
    with Subscriber() as hook:
        confirm(sns, topic, hook, FilterPolicy=json.dumps(policy),
                FilterPolicyScope="MessageBody")  # fmt: skip
        sns.publish(TopicArn=topic, Message=json.dumps({"order": {"status": "paid"}}))
        sns.publish(TopicArn=topic, Message=json.dumps({"order": {"status": "shipped"}}))
        got = wait_for(lambda: hook.of_type("Notification"), what="the shipped order")
        assert [json.loads(r.doc["Message"]) for r in got] == [{"order": {"status": "shipped"}}]
    sns.delete_topic(TopicArn=topic)


def test_topics_with_the_cli(dockyard: DockyardProcess) -> None:
    ep = dockyard.endpoint
    arn = aws_json(ep, "sns", "create-topic", "--name", "cli-topic",
                   "--tags", "Key=team,Value=ops")["TopicArn"]  # fmt: skip
    again = aws_json(ep, "sns", "create-topic", "--name", "cli-topic")["TopicArn"]
    assert again == arn  # idempotent
    assert arn in [t["TopicArn"] for t in aws_json(ep, "sns", "list-topics")["Topics"]]
    run_aws(ep, "sns", "set-topic-attributes", "--topic-arn", arn,
            "--attribute-name", "DisplayName", "--attribute-value", "Ops")  # fmt: skip
    attrs = aws_json(ep, "sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert attrs["DisplayName"] == "Ops" and attrs["Owner"] == "000000000000"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"][
        "numRetries"] == 3  # fmt: skip
    tags = aws_json(ep, "sns", "list-tags-for-resource", "--resource-arn", arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "ops"}]
    fifo = run_aws(ep, "sns", "create-topic", "--name", "jobs.fifo", check=False)
    assert fifo.returncode != 0 and "FIFO" in fifo.stderr
    bad = run_aws(ep, "sns", "get-topic-attributes", "--topic-arn", arn + "-nope", check=False)
    assert "NotFound" in bad.stderr
    run_aws(ep, "sns", "delete-topic", "--topic-arn", arn)
    assert arn not in [t["TopicArn"] for t in aws_json(ep, "sns", "list-topics")["Topics"]]


def test_email_subscription_is_recorded_to_logs(sns: Any, dockyard: DockyardProcess) -> None:
    logs = make_client("logs", dockyard.endpoint)
    topic = sns.create_topic(Name="mail")["TopicArn"]
    out = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert out["SubscriptionArn"] == "pending confirmation"

    def lines() -> list[dict[str, Any]]:
        try:
            events = logs.filter_log_events(logGroupName="/dockyard/sns/mail")["events"]
        except ClientError:
            return []
        return [json.loads(e["message"]) for e in events]

    confirmation = wait_for(lines, what="the confirmation in the log group")[0]
    assert confirmation["type"] == "SubscriptionConfirmation"
    url = confirmation["message"].split("SubscribeURL: ", 1)[1]
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
    sns.publish(TopicArn=topic, Message="disk almost full", Subject="Disk")
    got = wait_for(lambda: [x for x in lines() if x["type"] == "Notification"], what="the mail")
    assert got[0]["message"] == "disk almost full" and got[0]["endpoint"] == "ops@example.com"
    sns.delete_topic(TopicArn=topic)


def test_publish_batch_reports_failed_entries(sns: Any) -> None:
    topic = sns.create_topic(Name="batch")["TopicArn"]
    out = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "ok", "Message": "one"},
        {"Id": "empty", "Message": ""},
        {"Id": "subject", "Message": "two", "Subject": "line\nbreak"},
    ])  # fmt: skip
    assert [s["Id"] for s in out["Successful"]] == ["ok"]
    assert {f["Id"]: f["Code"] for f in out["Failed"]} == {
        "empty": "InvalidParameter", "subject": "InvalidParameter"}  # fmt: skip
    with pytest.raises(ClientError) as err:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}])  # fmt: skip
    assert err.value.response["Error"]["Code"] == "BatchEntryIdsNotDistinct"
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic + "-gone", Message="x")
    assert err.value.response["Error"]["Code"] == "NotFound"
    sns.delete_topic(TopicArn=topic)
