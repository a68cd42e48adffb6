"""Topic and subscription operations as a client sees them, and the TopicPublisher port that
alarms and EventBridge publish through (the topic's policy decides)."""

from __future__ import annotations

import json

import pytest

from dockyard.core.topics import PublishRefused
from dockyard.services.sns import Sns
from tests.unit.services.sns.conftest import ACCOUNT, QUEUE, REGION, Call, error_of

ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"


def test_create_topic_is_idempotent_and_refuses_other_attributes(call: Call) -> None:
    assert call("CreateTopic", Name="t")["TopicArn"] == ARN
    assert call("CreateTopic", Name="t")["TopicArn"] == ARN
    err = error_of(call, "CreateTopic", Name="t", Attributes={"DisplayName": "other"})
    assert err.code == "InvalidParameter" and "different attributes" in err.message


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"Name": "jobs.fifo"}, "UnsupportedOperation", "FIFO"),
        ({"Name": "jobs", "Attributes": {"FifoTopic": "true"}}, "UnsupportedOperation", "FIFO"),
        ({"Name": "bad name"}, "InvalidParameter", "Topic Name"),
        ({"Name": "t", "Attributes": {"SignatureVersion": "3"}}, "InvalidParameter",
         "SignatureVersion"),
        ({"Name": "t", "Attributes": {"Policy": "{}"}}, "InvalidParameter", "Policy"),
        ({"Name": "t", "Attributes": {"Nope": "1"}}, "InvalidParameter", "AttributeName"),
    ],
)  # fmt: skip
def test_create_topic_refusals_name_the_field(
    call: Call, params: dict[str, object], code: str, words: str
) -> None:
    err = error_of(call, "CreateTopic", **params)
    assert err.code == code and words in err.message


def test_attributes_count_subscriptions_and_keep_what_was_set(call: Call) -> None:
    call("CreateTopic", Name="t")
    call("Subscribe", TopicArn=ARN, Protocol="sqs", Endpoint=QUEUE)
    call("Subscribe", TopicArn=ARN, Protocol="https", Endpoint="https://example.com/hook")
    call("SetTopicAttributes", TopicArn=ARN, AttributeName="DisplayName", AttributeValue="Ops")
    attrs = call("GetTopicAttributes", TopicArn=ARN)["Attributes"]
    assert attrs["SubscriptionsConfirmed"] == "1" and attrs["SubscriptionsPending"] == "1"
    assert attrs["DisplayName"] == "Ops" and attrs["Owner"] == ACCOUNT
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}


def test_subscriptions_list_pending_ones_as_pending_confirmation(call: Call) -> None:
    call("CreateTopic", Name="t")
    out = call("Subscribe", TopicArn=ARN, Protocol="http", Endpoint="http://127.0.0.1:1/x")
    assert out["SubscriptionArn"] == "pending confirmation"
    listed = call("ListSubscriptionsByTopic", TopicArn=ARN)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    err = error_of(call, "ConfirmSubscription", TopicArn=ARN, Token="wrong")
    assert err.code == "InvalidParameter" and "Token" in err.message


@pytest.mark.parametrize(
    ("protocol", "endpoint", "words"),
    [
        ("sqs", "not-an-arn", "queue ARN"),
        ("lambda", "arn:aws:sqs:us-east-1:1:q", "function ARN"),
        ("sms", "12345", "E.164"),
        ("http", "https://x", "Endpoint"),
        ("carrier-pigeon", "x", "does not support this protocol"),
    ],
)
def test_subscribe_checks_the_endpoint_for_its_protocol(
    call: Call, protocol: str, endpoint: str, words: str
) -> None:
    call("CreateTopic", Name="t")
    err = error_of(call, "Subscribe", TopicArn=ARN, Protocol=protocol, Endpoint=endpoint)
    assert err.code == "InvalidParameter" and words in err.message


def test_raw_delivery_is_refused_for_email(call: Call) -> None:
    call("CreateTopic", Name="t")
    err = error_of(call, "Subscribe", TopicArn=ARN, Protocol="email", Endpoint="a@b.c",
                   Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    assert "raw message delivery" in err.message


def test_delete_topic_removes_its_subscriptions_and_is_idempotent(call: Call, sns: Sns) -> None:
    call("CreateTopic", Name="t")
    call("Subscribe", TopicArn=ARN, Protocol="sqs", Endpoint=QUEUE)
    call("DeleteTopic", TopicArn=ARN)
    call("DeleteTopic", TopicArn=ARN)
    assert call("ListSubscriptions")["Subscriptions"] == []
    assert error_of(call, "Publish", TopicArn=ARN, Message="x").code == "NotFound"


def test_tags(call: Call) -> None:
    call("CreateTopic", Name="t", Tags=[{"Key": "team", "Value": "ops"}])
    call("TagResource", ResourceArn=ARN, Tags=[{"Key": "env", "Value": "dev"}])
    call("UntagResource", ResourceArn=ARN, TagKeys=["team"])
    assert call("ListTagsForResource", ResourceArn=ARN)["Tags"] == [{"Key": "env", "Value": "dev"}]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(call, "TagResource", ResourceArn=ARN, Tags=too_many).code == "TagLimitExceeded"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"Message": ""}, "Empty message"),
        ({"Message": "x", "Subject": "a\nb"}, "Subject"),
        ({"Message": "x", "MessageStructure": "json"}, "JSON message body failed to parse"),
        ({"Message": '{"sqs": "x"}', "MessageStructure": "json"}, "No default entry"),
        ({"Message": "x", "MessageGroupId": "g"}, "MessageGroupId"),
        ({"Message": "x", "MessageAttributes": {"n": {"DataType": "Number",
                                                      "StringValue": "abc"}}}, "number"),
        ({"Message": "x", "MessageAttributes": {"n": {"DataType": "Blob",
                                                      "StringValue": "a"}}}, "type"),
    ],
)  # fmt: skip
def test_publish_refusals(call: Call, params: dict[str, object], words: str) -> None:
    call("CreateTopic", Name="t")
    err = error_of(call, "Publish", TopicArn=ARN, **params)
    assert err.code == "InvalidParameter" and words in err.message


def test_cloudwatch_may_publish_under_the_default_policy_not_eventbridge(
    sns: Sns, call: Call
) -> None:
    call("CreateTopic", Name="t")
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a"
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r"
    assert sns.publisher.publish(ARN, "{}", principal="cloudwatch.amazonaws.com", source_arn=alarm)
    with pytest.raises(PublishRefused) as err:
        sns.publisher.publish(ARN, "{}", principal="events.amazonaws.com", source_arn=rule)
    assert err.value.code == "AuthorizationError"
    call("SetTopicAttributes", TopicArn=ARN, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "events_publish", "Effect": "Allow",
                       "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sns:Publish", "Resource": ARN,
                       "Condition": {"ArnEquals": {"aws:SourceArn": rule}}}],
    }))  # fmt: skip
    assert sns.publisher.publish(ARN, "{}", principal="events.amazonaws.com", source_arn=rule)
    with pytest.raises(PublishRefused):  # another rule is not allowed
        sns.publisher.publish(ARN, "{}", principal="events.amazonaws.com",
                              source_arn=rule + "-other")  # fmt: skip
    with pytest.raises(PublishRefused) as err:
        sns.publisher.publish(ARN + "-gone", "{}", principal="events.amazonaws.com")
    assert err.value.code == "NotFound"


def test_authenticate_on_unsubscribe_keeps_the_unsubscribe_url_from_ending_it(
    sns: Sns, call: Call
) -> None:
    from dockyard.services.sns.endpoint import SubscriberEndpoint

    call("CreateTopic", Name="t")
    call("Subscribe", TopicArn=ARN, Protocol="https", Endpoint="https://example.com/hook")
    (sub,) = sns.topics.of_topic(ARN)
    arn = call("ConfirmSubscription", TopicArn=ARN, Token=sub.token,
               AuthenticateOnUnsubscribe="true")["SubscriptionArn"]  # fmt: skip
    attrs = call("GetSubscriptionAttributes", SubscriptionArn=arn)["Attributes"]
    assert attrs["ConfirmationWasAuthenticated"] == "true"
    endpoint = SubscriberEndpoint(sns)
    status, _, body = endpoint.handle("GET", "/_dockyard/sns/",
                                      f"Action=Unsubscribe&SubscriptionArn={arn}")  # fmt: skip
    assert status == 403 and b"AuthorizationError" in body
    call("Unsubscribe", SubscriptionArn=arn)
    assert call("ListSubscriptionsByTopic", TopicArn=ARN)["Subscriptions"] == []


def test_the_endpoint_serves_the_certificate_and_confirms_by_token(sns: Sns, call: Call) -> None:
    from dockyard.services.sns.endpoint import SubscriberEndpoint

    call("CreateTopic", Name="t")
    call("Subscribe", TopicArn=ARN, Protocol="http", Endpoint="http://127.0.0.1:1/x")
    (sub,) = sns.topics.of_topic(ARN)
    endpoint = SubscriberEndpoint(sns)
    signer = sns.deliveries.signer
    assert signer is not None
    status, kind, pem = endpoint.handle("GET", f"/_dockyard/sns/{signer.cert_name}", "")
    assert kind == "application/x-x509-ca-cert"
    assert status == 200 and pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert endpoint.handle("GET", "/_dockyard/sns/other.pem", "")[0] == 404
    bad = endpoint.handle("GET", "/_dockyard/sns/", f"Action=ConfirmSubscription&TopicArn={ARN}"
                          "&Token=nope")  # fmt: skip
    assert bad[0] == 400 and b"InvalidParameter" in bad[2]
    query = f"Action=ConfirmSubscription&TopicArn={ARN}&Token={sub.token}"
    ok = endpoint.handle("GET", "/_dockyard/sns/", query)
    assert ok[0] == 200 and sub.arn.encode() in ok[2]
    attrs = call("GetSubscriptionAttributes", SubscriptionArn=sub.arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "false"


def test_listed_subscriptions_page_in_arn_order(call: Call) -> None:
    call("CreateTopic", Name="t")
    for n in range(105):
        call("Subscribe", TopicArn=ARN, Protocol="sqs", Endpoint=f"{QUEUE}{n}")
    first = call("ListSubscriptionsByTopic", TopicArn=ARN)
    second = call("ListSubscriptionsByTopic", TopicArn=ARN, NextToken=first["NextToken"])
    arns = [s["SubscriptionArn"] for s in first["Subscriptions"] + second["Subscriptions"]]
    assert len(arns) == len(set(arns)) == 105 and "NextToken" not in second


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        ({"healthyRetryPolicy": {"numRetries": 101}}, "at most 100"),
        ({"healthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}, "minDelayTarget"),
        ({"healthyRetryPolicy": {"backoffFunction": "cubic"}}, "backoffFunction"),
        ({"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 3}}, "add up"),
        ({"healthyRetryPolicy": {"numRetries": "3"}}, "integer"),
    ],
)
def test_delivery_policies_are_kept_within_snss_bounds(
    call: Call, policy: dict[str, object], words: str
) -> None:
    call("CreateTopic", Name="t")
    err = error_of(call, "Subscribe", TopicArn=ARN, Protocol="http",
                   Endpoint="http://127.0.0.1:1/x",
                   Attributes={"DeliveryPolicy": json.dumps(policy)})  # fmt: skip
    assert err.code == "InvalidParameter" and words in err.message
    topic_policy = json.dumps({"http": {"defaultHealthyRetryPolicy": policy["healthyRetryPolicy"]}})
    err = error_of(call, "SetTopicAttributes", TopicArn=ARN, AttributeName="DeliveryPolicy",
                   AttributeValue=topic_policy)  # fmt: skip
    assert err.code == "InvalidParameter" and words in err.message


def test_a_content_type_with_a_line_break_is_refused(call: Call) -> None:
    call("CreateTopic", Name="t")
    policy = json.dumps({"requestPolicy": {"headerContentType": "text/plain\r\nX-Evil: 1"}})
    err = error_of(
        call, "Subscribe", TopicArn=ARN, Protocol="http", Endpoint="http://127.0.0.1:1/x",
        Attributes={"DeliveryPolicy": policy},
    )  # fmt: skip
    assert "headerContentType" in err.message
    ok = json.dumps({"requestPolicy": {"headerContentType": "application/json; charset=UTF-8"}})
    call("Subscribe", TopicArn=ARN, Protocol="http", Endpoint="http://127.0.0.1:1/x",
         Attributes={"DeliveryPolicy": ok})  # fmt: skip
