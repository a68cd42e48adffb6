"""The paths between SNS, SQS, Lambda, CloudWatch alarms, EventBridge and ECS on one real
server: an alarm's topic reaching an HTTP and a Lambda subscriber, an EventBridge rule on ECS
task state changes invoking a function and sending to a queue, and SNS -> SQS -> an event
source mapping. The functions report what they got by sending it to a queue the test reads."""

from __future__ import annotations

import io
import json
import os
import sys
import uuid
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.integration.test_sns_sources import subscribe_confirmed
from tests.support.server import DockyardProcess
from tests.support.subscriber import Subscriber, signature_valid
from tests.support.waiting import wait_for

# Sends the event it was invoked with to the queue at $OUT, as the function's own SDK call.
REPORTER = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps(event))
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    failing = os.environ.get("FAIL_BODY")
    if failing:  # the records with that body are reported as failed (ReportBatchItemFailures)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event["Records"] if r["body"] == failing]}
    return {"ok": True}
"""

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}  # fmt: skip


def zipped(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def role_arn(endpoint: str) -> str:
    iam = make_client("iam", endpoint)
    try:
        made = iam.create_role(RoleName="reporter", AssumeRolePolicyDocument=json.dumps(TRUST))
    except ClientError:
        made = iam.get_role(RoleName="reporter")
    return str(made["Role"]["Arn"])


def queue(sqs: Any, name: str, sender: str | None = None, service: str = "") -> tuple[str, str]:
    """A queue (URL, ARN); with `sender`, its policy lets `service` send for that source."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]  # fmt: skip
    if sender is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                           "Action": "sqs:SendMessage", "Resource": arn,
                           "Condition": {"ArnEquals": {"aws:SourceArn": sender}}}],
        })})  # fmt: skip
    return url, arn


def reporter(endpoint: str, name: str, out_url: str) -> str:
    """A function that sends each event it gets to `out_url`; answers its ARN."""
    lam = make_client("lambda", endpoint)
    arn: str = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role_arn(endpoint), Handler="app.handler",
        Code={"ZipFile": zipped(REPORTER)}, Timeout=30,
        Environment={"Variables": {"OUT": out_url}},
    )["FunctionArn"]  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return arn


def drain(sqs: Any, url: str, into: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Receive (and delete) what is on the queue now; answers all received so far."""
    out = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    for m in out.get("Messages", []):
        into.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return into


def test_an_alarm_reaches_the_http_and_the_lambda_subscriber_of_its_topic(
    fresh_server: Any,
) -> None:
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    sns = make_client("sns", server.endpoint)
    sqs = make_client("sqs", server.endpoint)
    cw = make_client("cloudwatch", server.endpoint)
    lam = make_client("lambda", server.endpoint)
    topic = sns.create_topic(Name="pager")["TopicArn"]
    out_url, _ = queue(sqs, "pager-seen")
    fn = reporter(server.endpoint, "pager-fn", out_url)
    lam.add_permission(FunctionName="pager-fn", StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)  # fmt: skip
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
    assert sub.startswith(topic + ":")  # confirmed at once, as AWS does for Lambda
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

        http = wait_for(notified, timeout=60, what="the alarm's notification", every=0.2)[0].doc
        assert signature_valid(http)
        assert json.loads(http["Message"])["NewStateValue"] == "ALARM"
        seen: list[dict[str, Any]] = []
        (event,) = wait_for(lambda: drain(sqs, out_url, seen), timeout=30,
                            what="the function's event")  # fmt: skip
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    got = record["Sns"]
    assert got["Type"] == "Notification"
    assert got["TopicArn"] == topic
    assert got["MessageId"] == http["MessageId"]
    assert got["Subject"] == 'ALARM: "queue-deep" in US East (N. Virginia)'
    assert got["Message"] == http["Message"]
    message = json.loads(got["Message"])
    assert message["AlarmName"] == "queue-deep" and message["NewStateValue"] == "ALARM"
    # Lambda spells the URLs SigningCertUrl / UnsubscribeUrl; the signature is the same.
    assert got["UnsubscribeUrl"].startswith("http") and got["Timestamp"].endswith("Z")
    assert signature_valid({**got, "SigningCertURL": got["SigningCertUrl"]})


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tasks need root for namespaces")


@needs_root
def test_a_rule_on_ecs_task_state_changes_invokes_a_function_and_sends_to_a_queue(
    dockyard: DockyardProcess,
) -> None:
    ep = dockyard.endpoint
    ecs = make_client("ecs", ep)
    events = make_client("events", ep)
    sqs = make_client("sqs", ep)
    lam = make_client("lambda", ep)
    tag = uuid.uuid4().hex[:6]
    taskdef = ecs.register_task_definition(
        family=f"paths-{tag}", networkMode="host",
        containerDefinitions=[{"name": "job", "image": "process:/tmp", "essential": True,
                               "memory": 64, "entryPoint": [sys.executable, "-c"],
                               "command": ["print('done')"]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    rule = events.put_rule(Name=f"ecs-{tag}", EventPattern=json.dumps({
        "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
        "detail": {"taskDefinitionArn": [taskdef], "lastStatus": ["STOPPED"]},
    }))["RuleArn"]  # fmt: skip
    fn_out, _ = queue(sqs, f"ecs-fn-{tag}")
    fn = reporter(ep, f"ecs-fn-{tag}", fn_out)
    lam.add_permission(FunctionName=fn, StatementId="events", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule)  # fmt: skip
    target_url, target_arn = queue(sqs, f"ecs-q-{tag}", rule, "events.amazonaws.com")
    out = events.put_targets(Rule=f"ecs-{tag}", Targets=[
        {"Id": "fn", "Arn": fn}, {"Id": "q", "Arn": target_arn}])  # fmt: skip
    assert out["FailedEntryCount"] == 0
    task = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]

    by_function: list[dict[str, Any]] = []
    (invoked,) = wait_for(lambda: drain(sqs, fn_out, by_function), timeout=60,
                          what="the function's event")  # fmt: skip
    on_queue: list[dict[str, Any]] = []
    (queued,) = wait_for(lambda: drain(sqs, target_url, on_queue), timeout=30,
                         what="the event on the target queue")  # fmt: skip
    for event in (invoked, queued):
        assert event["source"] == "aws.ecs"
        assert event["detail-type"] == "ECS Task State Change"
        assert event["account"] == "000000000000" and event["region"] == "us-east-1"
        assert event["resources"] == [task]
        assert event["version"] == "0" and event["id"] and event["time"].endswith("Z")
        detail = event["detail"]
        assert detail["taskArn"] == task
        assert detail["lastStatus"] == "STOPPED"
        assert detail["desiredStatus"] == "STOPPED"
        assert detail["taskDefinitionArn"] == taskdef
        assert detail["containers"][0]["name"] == "job"
        assert detail["containers"][0]["exitCode"] == 0
    assert invoked["id"] == queued["id"]  # one event, two targets


def test_a_topic_feeds_a_queue_whose_mapping_invokes_a_function_in_batches(
    dockyard: DockyardProcess,
) -> None:
    ep = dockyard.endpoint
    sns = make_client("sns", ep)
    sqs = make_client("sqs", ep)
    lam = make_client("lambda", ep)
    tag = uuid.uuid4().hex[:6]
    topic = sns.create_topic(Name=f"jobs-{tag}")["TopicArn"]
    src_url, src_arn = queue(sqs, f"jobs-{tag}", topic, "sns.amazonaws.com")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=src_arn)
    out_url, _ = queue(sqs, f"jobs-seen-{tag}")
    reporter(ep, f"jobs-fn-{tag}", out_url)
    sent = {sns.publish(TopicArn=topic, Message=f"job {i}")["MessageId"] for i in range(5)}
    wait_for(lambda: int(sqs.get_queue_attributes(
        QueueUrl=src_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
        "ApproximateNumberOfMessages"]) == 5, what="the five messages on the queue")  # fmt: skip
    mapping = lam.create_event_source_mapping(
        EventSourceArn=src_arn, FunctionName=f"jobs-fn-{tag}", BatchSize=2)  # fmt: skip
    assert mapping["BatchSize"] == 2 and mapping["EventSourceArn"] == src_arn
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled",
             what="the mapping enabled")  # fmt: skip

    batches: list[dict[str, Any]] = []

    def records() -> list[dict[str, Any]]:
        return [r for b in drain(sqs, out_url, batches) for r in b["Records"]]

    wait_for(lambda: len(records()) >= 5, timeout=60, what="all five records")
    assert all(1 <= len(b["Records"]) <= 2 for b in batches), [len(b["Records"]) for b in batches]
    got = records()
    assert len(got) == 5
    for r in got:
        assert r["eventSource"] == "aws:sqs" and r["eventSourceARN"] == src_arn
        assert r["awsRegion"] == "us-east-1" and r["messageId"] and r["receiptHandle"]
    envelopes = [json.loads(r["body"]) for r in got]
    assert {e["MessageId"] for e in envelopes} == sent
    assert {e["Message"] for e in envelopes} == {f"job {i}" for i in range(5)}
    assert all(e["Type"] == "Notification" and e["TopicArn"] == topic for e in envelopes)

    def handled() -> bool:  # what the function handled is deleted from the source queue
        attrs = sqs.get_queue_attributes(
            QueueUrl=src_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return attrs == {"ApproximateNumberOfMessages": "0",
                         "ApproximateNumberOfMessagesNotVisible": "0"}  # fmt: skip

    wait_for(handled, what="the source queue emptied")
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_event_invocations_send_their_records_to_a_queue_and_a_topic(
    dockyard: DockyardProcess,
) -> None:
    """Destinations are sent with the execution role's permissions, as in AWS: a queue and a
    topic with no policy of their own take the records."""
    ep = dockyard.endpoint
    sns = make_client("sns", ep)
    sqs = make_client("sqs", ep)
    lam = make_client("lambda", ep)
    tag = uuid.uuid4().hex[:6]
    seen_url, _ = queue(sqs, f"dest-seen-{tag}")
    failures_url, failures_arn = queue(sqs, f"dest-failed-{tag}")
    topic = sns.create_topic(Name=f"dest-ok-{tag}")["TopicArn"]
    ok_url, ok_arn = queue(sqs, f"dest-ok-{tag}", topic, "sns.amazonaws.com")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=ok_arn,
                  Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    fn = reporter(ep, f"dest-fn-{tag}", seen_url)
    lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": failures_arn},
                           "OnSuccess": {"Destination": topic}},
    )  # fmt: skip
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'{"n": 1}')
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'{"n": 2, "fail": true}')
    ok: list[dict[str, Any]] = []
    (success,) = wait_for(lambda: drain(sqs, ok_url, ok), timeout=30, what="the success record")
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestContext"]["functionArn"] == fn + ":$LATEST"
    assert success["requestPayload"] == {"n": 1}
    assert success["responsePayload"] == {"ok": True}
    failed: list[dict[str, Any]] = []
    (failure,) = wait_for(lambda: drain(sqs, failures_url, failed), timeout=30,
                          what="the failure record")  # fmt: skip
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestPayload"] == {"n": 2, "fail": True}
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorMessage"] == "asked to fail"


def test_records_are_sent_as_the_execution_role_whose_policy_must_allow_it(
    fresh_server: Any, tmp_path: Any
) -> None:
    from tests.support.taskroles import ROOT_KEY, auth_file

    server = fresh_server("--runtime", "process", "--auth-file", str(auth_file(tmp_path)))
    iam = make_client("iam", server.endpoint, access_key=ROOT_KEY)
    lam = make_client("lambda", server.endpoint, access_key=ROOT_KEY)
    sqs = make_client("sqs", server.endpoint, access_key=ROOT_KEY)
    role = iam.create_role(RoleName="quiet", AssumeRolePolicyDocument=json.dumps(TRUST))
    url, arn = queue(sqs, "records")
    fn = lam.create_function(
        FunctionName="quiet", Runtime="python3.12", Role=role["Role"]["Arn"],
        Handler="app.handler", Code={"ZipFile": zipped("def handler(e, c):\n    return e\n")},
    )["FunctionArn"]  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="quiet")
    lam.put_function_event_invoke_config(
        FunctionName="quiet", DestinationConfig={"OnSuccess": {"Destination": arn}})  # fmt: skip
    lam.invoke(FunctionName="quiet", InvocationType="Event", Payload=b'{"n": 1}')
    wait_for(lambda: "sqs:SendMessage" in server.log() and "refused the record" in server.log(),
             what="the refusal in the server's log")  # fmt: skip
    iam.put_role_policy(RoleName="quiet", PolicyName="records", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}],
    }))  # fmt: skip
    lam.invoke(FunctionName="quiet", InvocationType="Event", Payload=b'{"n": 2}')
    got: list[dict[str, Any]] = []
    (rec,) = wait_for(lambda: drain(sqs, url, got), what="the record the role may send")
    assert rec["requestPayload"] == {"n": 2} and rec["requestContext"]["functionArn"] == (
        fn + ":$LATEST")  # fmt: skip


def test_a_mapping_leaves_the_failures_a_function_reports_for_the_dead_letter_queue(
    dockyard: DockyardProcess,
) -> None:
    ep = dockyard.endpoint
    sqs = make_client("sqs", ep)
    lam = make_client("lambda", ep)
    tag = uuid.uuid4().hex[:6]
    dlq_url, dlq_arn = queue(sqs, f"esm-dlq-{tag}")
    src_url, src_arn = queue(sqs, f"esm-src-{tag}")
    sqs.set_queue_attributes(QueueUrl=src_url, Attributes={
        "VisibilityTimeout": "1",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    })  # fmt: skip
    out_url, _ = queue(sqs, f"esm-seen-{tag}")
    name = f"esm-fn-{tag}"
    reporter(ep, name, out_url)
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"OUT": out_url, "FAIL_BODY": "bad"}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    for body in ("good 1", "bad", "good 2"):
        sqs.send_message(QueueUrl=src_url, MessageBody=body)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=src_arn, FunctionName=name,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    try:
        dead: list[dict[str, Any]] = []

        def in_dlq() -> list[str]:
            out = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)
            dead.extend(out.get("Messages", []))
            return [m["Body"] for m in dead]

        assert wait_for(in_dlq, timeout=60, what="the failed message in the DLQ") == ["bad"]
        batches: list[dict[str, Any]] = []
        bodies = [r["body"] for b in drain(sqs, out_url, batches) for r in b["Records"]]
        assert sorted(set(bodies)) == ["bad", "good 1", "good 2"]
        assert bodies.count("good 1") == 1 and bodies.count("good 2") == 1
        assert bodies.count("bad") == 2  # received twice (maxReceiveCount), then redriven
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_mapping_collects_a_batch_larger_than_ten_within_its_window(
    dockyard: DockyardProcess,
) -> None:
    ep = dockyard.endpoint
    sqs = make_client("sqs", ep)
    lam = make_client("lambda", ep)
    tag = uuid.uuid4().hex[:6]
    src_url, src_arn = queue(sqs, f"wide-src-{tag}")
    out_url, _ = queue(sqs, f"wide-seen-{tag}")
    name = f"wide-fn-{tag}"
    reporter(ep, name, out_url)
    for i in range(0, 25, 10):
        sqs.send_message_batch(QueueUrl=src_url, Entries=[
            {"Id": str(j), "MessageBody": f"m{j}"} for j in range(i, min(i + 10, 25))])  # fmt: skip
    mapping = lam.create_event_source_mapping(
        EventSourceArn=src_arn, FunctionName=name, BatchSize=25,
        MaximumBatchingWindowInSeconds=2)  # fmt: skip
    assert mapping["MaximumBatchingWindowInSeconds"] == 2
    try:
        batches: list[dict[str, Any]] = []
        (batch,) = wait_for(lambda: drain(sqs, out_url, batches), timeout=60, what="one batch")
        assert sorted(r["body"] for r in batch["Records"]) == sorted(f"m{j}" for j in range(25))
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_mapping_reads_the_queue_as_the_execution_role(fresh_server: Any, tmp_path: Any) -> None:
    from tests.support.taskroles import ROOT_KEY, auth_file

    server = fresh_server("--runtime", "process", "--auth-file", str(auth_file(tmp_path)))
    iam = make_client("iam", server.endpoint, access_key=ROOT_KEY)
    lam = make_client("lambda", server.endpoint, access_key=ROOT_KEY)
    sqs = make_client("sqs", server.endpoint, access_key=ROOT_KEY)
    role = iam.create_role(RoleName="poller", AssumeRolePolicyDocument=json.dumps(TRUST))
    url, arn = queue(sqs, "work")
    out_url, out_arn = queue(sqs, "work-seen")
    lam.create_function(
        FunctionName="poller", Runtime="python3.12", Role=role["Role"]["Arn"],
        Handler="app.handler", Code={"ZipFile": zipped(REPORTER)}, Timeout=30,
        Environment={"Variables": {"OUT": out_url}},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="poller")
    with pytest.raises(ClientError) as refused:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="poller")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "does not have permissions to call ReceiveMessage on SQS" in str(refused.value)
    iam.put_role_policy(RoleName="poller", PolicyName="queues", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": arn, "Action": [
                          "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]},
                      {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": out_arn}],
    }))  # fmt: skip
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="poller")
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    got: list[dict[str, Any]] = []
    (event,) = wait_for(lambda: drain(sqs, out_url, got), timeout=30, what="the batch")
    assert [r["body"] for r in event["Records"]] == ["hello"]
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_function_whose_policy_refuses_the_topic_sends_to_the_dead_letter_queue(
    dockyard: DockyardProcess,
) -> None:
    ep = dockyard.endpoint
    sns = make_client("sns", ep)
    sqs = make_client("sqs", ep)
    tag = uuid.uuid4().hex[:6]
    topic = sns.create_topic(Name=f"refused-{tag}")["TopicArn"]
    dlq_url, dlq_arn = queue(sqs, f"refused-dlq-{tag}", topic, "sns.amazonaws.com")
    out_url, _ = queue(sqs, f"refused-seen-{tag}")
    fn = reporter(ep, f"refused-fn-{tag}", out_url)  # no add-permission for SNS
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})  # fmt: skip
    message_id = sns.publish(TopicArn=topic, Message="not for you")["MessageId"]
    dead: list[dict[str, Any]] = []
    (got,) = wait_for(lambda: drain(sqs, dlq_url, dead), timeout=30, what="the DLQ message")
    assert got["MessageId"] == message_id and got["Message"] == "not for you"
    assert drain(sqs, out_url, []) == []  # the function never ran


def test_a_mapping_keeps_polling_after_a_restart(fresh_server: Any, tmp_path: Any) -> None:
    data = tmp_path / "data"
    server = fresh_server("--runtime", "process", data_dir=data)
    sqs = make_client("sqs", server.endpoint)
    lam = make_client("lambda", server.endpoint)
    url, arn = queue(sqs, "steady")
    out_url, _ = queue(sqs, "steady-seen")
    reporter(server.endpoint, "steady-fn", out_url)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="steady-fn")
    server.stop()
    server = fresh_server("--runtime", "process", data_dir=data, port=server.port)
    lam = make_client("lambda", server.endpoint)
    sqs = make_client("sqs", server.endpoint)
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled"
    sqs.send_message(QueueUrl=url, MessageBody="after the restart")
    got: list[dict[str, Any]] = []
    (event,) = wait_for(lambda: drain(sqs, out_url, got), timeout=30, what="the batch")
    assert [r["body"] for r in event["Records"]] == ["after the restart"]
