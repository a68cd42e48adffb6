"""Delivery to rule targets is queued: it runs after the call that published the event, in
order, and a target that causes more events never runs inside that call."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from dockyard.api.context import RequestContext
from dockyard.core.clock import ManualClock
from dockyard.services.ecs.errors import ClientException
from dockyard.services.events import Events, provider
from dockyard.store.sqlite import SqliteStore

ACCOUNT, REGION = "000000000000", "us-east-1"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/default"


class Logs:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def put_events(self, account_id: str, region: str, group: str, stream: str,
                   events: list[tuple[int, str]], create_group: bool) -> None:  # fmt: skip
        self.messages += [(group, m) for _, m in events]


class Launcher:
    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.refuse = refuse

    def run_task(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        self.calls.append(params)
        if self.refuse:
            raise ClientException("TaskDefinition is inactive")
        return ["arn:aws:ecs:us-east-1:000000000000:task/default/1"], [
            {"arn": "ci", "reason": "RESOURCE:MEMORY"}
        ]


@pytest.fixture
def events() -> Events:
    e = Events(SqliteStore(":memory:"), ManualClock(start=1_700_000_000.0))
    e.logs = Logs()
    return e


def call(events: Events, operation: str, **params: Any) -> dict[str, Any]:
    ctx = RequestContext("events", operation, ACCOUNT, REGION, "req-1")
    result = provider(events).handlers[operation](ctx, params)
    assert isinstance(result, dict)
    return result


def log_target(group: str) -> dict[str, Any]:
    return {"Id": group, "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"}


def rule(events: Events, name: str, targets: list[dict[str, Any]], bus: str = "default",
         pattern: dict[str, Any] | None = None) -> None:  # fmt: skip
    call(events, "PutRule", Name=name, EventBusName=bus,
         EventPattern=json.dumps(pattern or {"source": ["my.app"]}))  # fmt: skip
    call(events, "PutTargets", Rule=name, EventBusName=bus, Targets=targets)


def put(events: Events, n: int, bus: str = "default") -> None:
    call(
        events,
        "PutEvents",
        Entries=[
            {
                "Source": "my.app",
                "DetailType": "t",
                "Detail": json.dumps({"n": n}),
                "EventBusName": bus,
            }
        ],
    )


def messages(events: Events) -> list[tuple[str, int]]:
    assert isinstance(events.logs, Logs)
    return [(g, json.loads(m)["detail"]["n"]) for g, m in events.logs.messages]


def test_put_events_answers_before_any_target_is_reached(events: Events) -> None:
    rule(events, "r", [log_target("g")])
    for n in range(3):
        put(events, n)
    assert messages(events) == []
    events.outbox.drain()
    assert messages(events) == [("g", 0), ("g", 1), ("g", 2)]


def test_a_rule_disabled_before_delivery_delivers_nothing(events: Events) -> None:
    rule(events, "r", [log_target("g")])
    put(events, 1)
    call(events, "DisableRule", Name="r")
    events.outbox.drain()
    assert messages(events) == []


def test_an_event_forwarded_to_another_bus_is_not_forwarded_again(events: Events) -> None:
    call(events, "CreateEventBus", Name="other")
    other = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/other"
    default = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    rule(events, "to-other", [{"Id": "b", "Arn": other}])
    rule(events, "back", [{"Id": "b", "Arn": default}, log_target("seen-on-other")], bus="other")
    rule(events, "log", [log_target("seen-on-default")])
    put(events, 7)
    events.outbox.drain()
    assert sorted(messages(events)) == [("seen-on-default", 7), ("seen-on-other", 7)]
    back = [d for d in events.deliveries if d["rule"].endswith("rule/other/back")]
    assert [d["outcome"] for d in back if d["target"] == "b"] == [
        "skipped: an event received from another bus is not forwarded again"
    ]


def test_ecs_targets_run_tasks_from_the_queue_and_record_failures(events: Events) -> None:
    launcher = Launcher()
    events.tasks = launcher
    rule(
        events,
        "run",
        [
            {
                "Id": "ecs",
                "Arn": CLUSTER,
                "RoleArn": "arn:aws:iam::0:role/r",
                "EcsParameters": {"TaskDefinitionArn": "web:1", "TaskCount": 2},
            }
        ],
    )
    put(events, 1)
    assert launcher.calls == []
    events.outbox.drain()
    assert launcher.calls[0]["taskDefinition"] == "web:1"
    assert launcher.calls[0]["count"] == 2
    assert events.deliveries[-1]["outcome"] == "started 1 task(s), 1 failure(s)"


def test_an_ecs_target_that_refuses_is_logged_without_a_traceback(
    events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    events.tasks = Launcher(refuse=True)
    rule(
        events,
        "run",
        [
            {
                "Id": "ecs",
                "Arn": CLUSTER,
                "RoleArn": "arn:aws:iam::0:role/r",
                "EcsParameters": {"TaskDefinitionArn": "web:1"},
            }
        ],
    )
    put(events, 1)
    with caplog.at_level(logging.WARNING):
        events.outbox.drain()
    assert events.deliveries[-1]["outcome"] == "failed: ClientException: TaskDefinition is inactive"
    assert "TaskDefinition is inactive" in caplog.text
    assert not any(r.exc_info for r in caplog.records)
