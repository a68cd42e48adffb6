"""CloudWatch Logs through boto3 against a real server."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client


def test_log_group_stream_events_round_trip(logs: Any) -> None:
    group = f"/dockyard/it-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group, tags={"team": "blue"})
    logs.create_log_stream(logGroupName=group, logStreamName="web/app/1")
    now = int(time.time() * 1000)
    put = logs.put_log_events(
        logGroupName=group,
        logStreamName="web/app/1",
        logEvents=[
            {"timestamp": now - 2, "message": "GET / 200"},
            {"timestamp": now - 1, "message": "ERROR db timeout"},
        ],
    )
    assert "rejectedLogEventsInfo" not in put

    got = logs.get_log_events(logGroupName=group, logStreamName="web/app/1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["GET / 200", "ERROR db timeout"]
    again = logs.get_log_events(
        logGroupName=group, logStreamName="web/app/1", nextToken=got["nextForwardToken"]
    )
    assert again["events"] == []
    assert again["nextForwardToken"] == got["nextForwardToken"]

    found = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]
    assert [(e["logStreamName"], e["message"]) for e in found] == [
        ("web/app/1", "ERROR db timeout")
    ]
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["arn"].endswith(f":log-group:{group}:*")
    assert logs.list_tags_for_resource(resourceArn=described["logGroupArn"])["tags"] == {
        "team": "blue"
    }

    with pytest.raises(ClientError) as err:
        logs.put_retention_policy(logGroupName=group, retentionInDays=4)
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.delete_log_group(logGroupName=group)
    with pytest.raises(ClientError) as err:
        logs.get_log_events(logGroupName=group, logStreamName="web/app/1")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_log_events_survive_kill_9(fresh_server: Any) -> None:
    server = fresh_server("--no-local-agent")
    client = make_client("logs", server.endpoint)
    client.create_log_group(logGroupName="kept")
    client.create_log_stream(logGroupName="kept", logStreamName="s")
    client.put_log_events(
        logGroupName="kept",
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "still here"}],
    )
    server.kill()
    again = fresh_server("--no-local-agent", data_dir=server.data_dir)
    client = make_client("logs", again.endpoint)
    got = client.get_log_events(logGroupName="kept", logStreamName="s")
    assert [e["message"] for e in got["events"]] == ["still here"]
