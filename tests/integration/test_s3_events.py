"""S3 object events reach EventBridge when the bucket turns EventBridge notifications on."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for


def _messages(logs: Any, group: str) -> list[dict[str, Any]]:
    try:
        found = logs.filter_log_events(logGroupName=group)["events"]
    except ClientError:
        return []
    return [json.loads(e["message"]) for e in found]


def test_object_created_and_deleted_events(dockyard: DockyardProcess) -> None:
    s3 = make_client("s3", dockyard.endpoint)
    events = make_client("events", dockyard.endpoint)
    logs = make_client("logs", dockyard.endpoint)
    group = "/aws/events/s3-notify"
    logs.create_log_group(logGroupName=group)
    events.put_rule(
        Name="s3-notify",
        EventPattern=json.dumps(
            {"source": ["aws.s3"], "detail": {"bucket": {"name": ["events-on"]}}}
        ),
    )
    events.put_targets(
        Rule="s3-notify",
        Targets=[{"Id": "log", "Arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"}],
    )
    s3.create_bucket(Bucket="events-on")
    s3.put_object(Bucket="events-on", Key="before", Body=b"x")  # not turned on yet
    s3.put_bucket_notification_configuration(
        Bucket="events-on", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    config = s3.get_bucket_notification_configuration(Bucket="events-on")
    assert "EventBridgeConfiguration" in config
    s3.put_object(Bucket="events-on", Key="a.txt", Body=b"hello")
    s3.delete_object(Bucket="events-on", Key="a.txt")
    found = wait_for(lambda: len(_messages(logs, group)) >= 2 and _messages(logs, group),
                     what="two S3 events in the log group")  # fmt: skip
    by_type = {m["detail-type"]: m for m in found}
    assert set(by_type) == {"Object Created", "Object Deleted"}
    created = by_type["Object Created"]
    assert created["source"] == "aws.s3"
    assert created["resources"] == ["arn:aws:s3:::events-on"]
    assert created["detail"]["object"]["key"] == "a.txt"
    assert created["detail"]["object"]["size"] == 5
    assert by_type["Object Deleted"]["detail"]["deletion-type"] == "Permanently Deleted"
