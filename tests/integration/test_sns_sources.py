"""What publishes to SNS besides users: a CloudWatch alarm going to ALARM (its AlarmActions
name the topic), an EventBridge rule with the topic as its target (allowed by the topic's
policy), and what Publish committed is delivered after a restart."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.conftest import make_client
from tests.support.subscriber import Subscriber, signature_valid
from tests.support.waiting import wait_for


def subscribe_confirmed(sns: Any, topic: str, hook: Subscriber, **attributes: str) -> None:
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url, Attributes=attributes)
    request = wait_for(lambda: hook.of_type("SubscriptionConfirmation"), what="a confirmation")
    with urllib.request.urlopen(request[0].doc["SubscribeURL"], timeout=10) as resp:
        assert resp.status == 200


def test_alarm_going_to_alarm_notifies_the_topic(fresh_server: Any) -> None:
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    sns = make_client("sns", server.endpoint)
    cw = make_client("cloudwatch", server.endpoint)
    topic = sns.create_topic(Name="pager")["TopicArn"]
    with Subscriber() as hook:
        subscribe_confirmed(sns, topic, hook)
        cw.put_metric_alarm(
            AlarmName="queue-deep", Namespace="Jobs", MetricName="Depth", Statistic="Maximum",
            Period=60, EvaluationPeriods=1, Threshold=100, AlarmActions=[topic],
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        )  # fmt: skip

        def notified() -> list[Any]:
            cw.put_metric_data(Namespace="Jobs", MetricData=[{"MetricName": "Depth",
                                                               "Value": 250}])  # fmt: skip
            return hook.of_type("Notification")

        got = wait_for(notified, timeout=60, what="the alarm's notification", every=0.2)[0].doc
        assert signature_valid(got)
        assert got["Subject"] == 'ALARM: "queue-deep" in US East (N. Virginia)'
        message = json.loads(got["Message"])
        assert message["AlarmName"] == "queue-deep"
        assert message["NewStateValue"] == "ALARM"
        assert message["OldStateValue"] in ("OK", "INSUFFICIENT_DATA")
        assert message["AlarmArn"].endswith(":alarm:queue-deep")
        assert message["Trigger"]["MetricName"] == "Depth"
        assert message["Trigger"]["Threshold"] == 100
        history = cw.describe_alarm_history(AlarmName="queue-deep", HistoryItemType="Action")
        assert any(topic in h["HistorySummary"] for h in history["AlarmHistoryItems"])


def test_eventbridge_rule_publishes_to_the_topic_its_policy_allows(fresh_server: Any) -> None:
    server = fresh_server("--runtime", "process")
    sns = make_client("sns", server.endpoint)
    events = make_client("events", server.endpoint)
    topic = sns.create_topic(Name="orders-events")["TopicArn"]
    rule = events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sns:Publish", "Resource": topic,
                       "Condition": {"ArnEquals": {"aws:SourceArn": rule["RuleArn"]}}}],
    }))  # fmt: skip
    with Subscriber() as hook:
        subscribe_confirmed(sns, topic, hook)
        out = events.put_targets(Rule="orders", Targets=[{"Id": "t", "Arn": topic}])
        assert out["FailedEntryCount"] == 0
        events.put_events(Entries=[{"Source": "shop", "DetailType": "Order Placed",
                                    "Detail": json.dumps({"id": 7})}])  # fmt: skip
        got = wait_for(lambda: hook.of_type("Notification"), what="the event")[0].doc
        event = json.loads(got["Message"])
        assert event["source"] == "shop" and event["detail"] == {"id": 7}


def test_what_publish_committed_is_delivered_after_a_restart(
    fresh_server: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = fresh_server("--runtime", "process", data_dir=data)
    sns = make_client("sns", server.endpoint)
    topic = sns.create_topic(Name="durable")["TopicArn"]
    with Subscriber(status=500) as hook:  # the endpoint is failing for now
        subscribe_confirmed(sns, topic, hook, DeliveryPolicy=json.dumps({"healthyRetryPolicy": {
            "minDelayTarget": 1, "maxDelayTarget": 2, "numRetries": 50}}))  # fmt: skip
        message_id = sns.publish(TopicArn=topic, Message="keep me")["MessageId"]
        wait_for(lambda: hook.of_type("Notification"), what="a first (failed) attempt")
        server.stop()
        # Messages waiting for delivery, and the signing key, are sealed at rest.
        stored = b"".join(p.read_bytes() for p in data.glob("dockyard.sqlite3*"))
        assert stored and b"keep me" not in stored and b"PRIVATE KEY" not in stored
        hook.status = 200
        tries = len(hook.of_type("Notification"))
        server = fresh_server("--runtime", "process", data_dir=data, port=server.port)
        got = wait_for(lambda: hook.of_type("Notification")[tries:], timeout=30,
                       what="the delivery after the restart")  # fmt: skip
        assert got[0].doc["MessageId"] == message_id
        assert got[0].doc["Message"] == "keep me"
