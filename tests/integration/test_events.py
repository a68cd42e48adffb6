"""EventBridge through boto3 against a real server: patterns, log group and HTTP targets,
input transformers, ECS events on the bus, scheduled rules that run ECS tasks."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess


@pytest.fixture
def events(dockyard: DockyardProcess) -> Any:
    return make_client("events", dockyard.endpoint)


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def log_messages(logs: Any, group: str) -> list[str]:
    try:
        found = logs.filter_log_events(logGroupName=group)["events"]
    except ClientError:
        return []
    return [e["message"] for e in found]


def test_rule_pattern_log_group_target_with_transformer(events: Any, logs: Any) -> None:
    name = f"orders-{uuid.uuid4().hex[:6]}"
    group = f"/aws/events/{name}"
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    events.put_rule(Name=name, EventPattern=json.dumps({
        "source": ["shop.orders"],
        "detail": {"total": [{"numeric": [">", 100]}], "country": [{"anything-but": "FR"}]},
    }))  # fmt: skip
    out = events.put_targets(Rule=name, Targets=[
        {"Id": "raw", "Arn": group_arn},
        {"Id": "nice", "Arn": group_arn, "InputTransformer": {
            "InputPathsMap": {"id": "$.detail.orderId", "total": "$.detail.total"},
            "InputTemplate": '{"order": <id>, "text": "order <id> costs <total>"}',
        }},
    ])  # fmt: skip
    assert out["FailedEntryCount"] == 0

    def put(detail: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = events.put_events(Entries=[{
            "Source": "shop.orders", "DetailType": "Order Placed", "Detail": json.dumps(detail)
        }])  # fmt: skip
        return result

    assert put({"orderId": "o-1", "total": 250, "country": "DE"})["FailedEntryCount"] == 0
    put({"orderId": "o-2", "total": 50, "country": "DE"})  # too small
    put({"orderId": "o-3", "total": 500, "country": "FR"})  # excluded country
    messages = eventually(lambda: len(log_messages(logs, group)) >= 2 and log_messages(logs, group))
    assert len(messages) == 2
    raw = [json.loads(m) for m in messages if m.startswith('{"version"')]
    assert [e["detail"]["orderId"] for e in raw] == ["o-1"]
    assert raw[0]["detail-type"] == "Order Placed" and raw[0]["source"] == "shop.orders"
    nice = [json.loads(m) for m in messages if m.startswith('{"order"')]
    assert nice == [{"order": "o-1", "text": "order o-1 costs 250"}]

    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    put({"orderId": "o-4", "total": 999, "country": "DE"})
    time.sleep(0.3)
    assert len(log_messages(logs, group)) == 2
    with pytest.raises(ClientError) as err:
        events.delete_rule(Name=name)
    assert "targets" in err.value.response["Error"]["Message"]
    events.remove_targets(Rule=name, Ids=["raw", "nice"])
    events.delete_rule(Name=name)


@pytest.fixture
def http_sink() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_http_endpoint_target(events: Any, http_sink: Any) -> None:
    url, received = http_sink
    suffix = uuid.uuid4().hex[:6]
    conn = events.create_connection(
        Name=f"hook-{suffix}", AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3"}},
    )["ConnectionArn"]  # fmt: skip
    dest = events.create_api_destination(
        Name=f"hook-{suffix}", ConnectionArn=conn, InvocationEndpoint=f"{url}/hooks/*",
        HttpMethod="POST",
    )["ApiDestinationArn"]  # fmt: skip
    rule = f"hook-{suffix}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [{"prefix": "app."}]}))
    events.put_targets(Rule=rule, Targets=[{
        "Id": "hook", "Arn": dest, "RoleArn": "arn:aws:iam::000000000000:role/events",
        "HttpParameters": {"PathParameterValues": ["deploys"]},
    }])  # fmt: skip
    events.put_events(Entries=[{"Source": "app.ci", "DetailType": "Deploy", "Detail": '{"v": 7}'}])
    assert eventually(lambda: received)
    path, headers, body = received[0]
    assert path == "/hooks/deploys"
    assert headers["x-api-key"] == "s3"
    assert json.loads(body)["detail"] == {"v": 7}


def test_unsupported_targets_and_bad_patterns_are_refused(events: Any) -> None:
    rule = f"r-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name=rule, EventPattern='{"source": "not-an-array"}')
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"
    events.put_rule(Name=rule, EventPattern='{"source": ["x"]}')
    out = events.put_targets(Rule=rule, Targets=[
        {"Id": "q", "Arn": "arn:aws:kinesis:us-east-1:000000000000:stream/s"}
    ])  # fmt: skip
    assert out["FailedEntryCount"] == 1
    assert "not supported" in out["FailedEntries"][0]["ErrorMessage"]
    bad = events.put_events(Entries=[{"Source": "aws.ec2", "DetailType": "x", "Detail": "{}"}])
    assert bad["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"
    ok = events.test_event_pattern(
        EventPattern=json.dumps({"detail": {"n": [{"numeric": [">=", 3]}]}}),
        Event=json.dumps({"id": "1", "account": "1", "source": "s", "time": "t", "region": "r",
                          "detail-type": "d", "detail": {"n": 3}}),
    )  # fmt: skip
    assert ok["Result"] is True


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tasks need root for namespaces")


def _taskdef(ecs: Any, command: list[str]) -> str:
    arn: str = ecs.register_task_definition(
        family=f"job-{uuid.uuid4().hex[:6]}", networkMode="host",
        containerDefinitions=[{"name": "job", "image": "process:/tmp", "essential": True,
                               "memory": 64, "entryPoint": [sys.executable, "-c"],
                               "command": command}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    return arn


@needs_root
def test_ecs_task_events_reach_rules(events: Any, ecs: Any, logs: Any) -> None:
    group = f"/aws/events/ecs-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    taskdef = _taskdef(ecs, ["print('hi')"])
    rule = f"ecs-{uuid.uuid4().hex[:6]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
        "detail": {"taskDefinitionArn": [taskdef], "lastStatus": ["STOPPED"]},
    }))  # fmt: skip
    events.put_targets(Rule=rule, Targets=[
        {"Id": "log", "Arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"}
    ])  # fmt: skip
    task = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    messages = eventually(lambda: log_messages(logs, group), timeout=20)
    assert messages
    event = json.loads(messages[0])
    assert event["resources"] == [task]
    assert event["detail"]["lastStatus"] == "STOPPED"


@needs_root
def test_scheduled_rule_runs_a_real_task(fresh_server: Any) -> None:
    """rate(1 minute) on a 60x clock fires every second; each firing runs the task."""
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    events = make_client("events", server.endpoint)
    ecs = make_client("ecs", server.endpoint)
    taskdef = _taskdef(ecs, ["import time; time.sleep(0.2)"])
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="nightly", Targets=[{
        "Id": "job", "Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/default",
        "RoleArn": "arn:aws:iam::000000000000:role/ecsEventsRole",
        "EcsParameters": {"TaskDefinitionArn": taskdef, "TaskCount": 1, "LaunchType": "EC2"},
    }])  # fmt: skip

    def started() -> list[dict[str, Any]]:
        arns = ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] + ecs.list_tasks()["taskArns"]
        if not arns:
            return []
        tasks: list[dict[str, Any]] = ecs.describe_tasks(tasks=arns)["tasks"]
        return [t for t in tasks if t.get("startedBy") == "events-rule/nightly"]

    tasks = eventually(lambda: len(started()) >= 3 and started(), timeout=20)
    assert tasks and all(t["taskDefinitionArn"] == taskdef for t in tasks)
    events.disable_rule(Name="nightly")
    # One task per simulated minute (createdAt is on the server's 60x clock).
    created = sorted(t["createdAt"].timestamp() for t in tasks)
    gaps = [b - a for a, b in itertools.pairwise(created)]
    assert all(50 < gap < 70 for gap in gaps), gaps
