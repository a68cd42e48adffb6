"""The ECS event log: events recorded at once, handed to subscribers later, in order."""

from __future__ import annotations

from typing import Any

from dockyard.services.ecs.events import EventLog


def event(n: int) -> dict[str, Any]:
    return {"id": str(n), "detail-type": "ECS Task State Change", "detail": {"n": n}}


def test_append_records_the_event_and_only_queues_it_for_subscribers() -> None:
    log = EventLog()
    seen: list[str] = []
    log.subscribe(lambda e: seen.append(e["id"]))
    log.append(event(1))
    assert [e["id"] for e in log] == ["1"]
    assert seen == []
    assert log.pending() == 1
    log.drain()
    assert seen == ["1"]
    assert log.pending() == 0


def test_every_subscriber_sees_every_event_in_order() -> None:
    log = EventLog()
    a: list[str] = []
    b: list[str] = []
    log.subscribe(lambda e: a.append(e["id"]), "a")
    log.subscribe(lambda e: b.append(e["id"]), "b")
    for n in range(5):
        log.append(event(n))
    log.drain()
    assert a == b == ["0", "1", "2", "3", "4"]


def test_a_subscriber_that_publishes_does_not_re_enter_itself() -> None:
    log = EventLog()
    depth = deepest = 0
    seen: list[int] = []

    def react(e: dict[str, Any]) -> None:
        nonlocal depth, deepest
        depth += 1
        deepest = max(deepest, depth)
        n = e["detail"]["n"]
        seen.append(n)
        if n < 100:
            log.append(event(n + 1))  # as an EventBridge rule that runs more tasks
        depth -= 1

    log.subscribe(react)
    log.append(event(0))
    log.drain()
    assert deepest == 1
    assert seen == list(range(101))


def test_unsubscribed_listeners_get_nothing_more() -> None:
    log = EventLog()
    seen: list[str] = []
    unsubscribe = log.subscribe(lambda e: seen.append(e["id"]))
    log.append(event(1))
    unsubscribe()
    log.append(event(2))
    log.drain()
    assert seen == []
    assert len(log) == 2


def test_a_subscriber_queue_is_bounded() -> None:
    log = EventLog(queue_limit=10)
    seen: list[int] = []
    log.subscribe(lambda e: seen.append(e["detail"]["n"]))
    for n in range(25):
        log.append(event(n))
    log.drain()
    assert seen == list(range(15, 25))
