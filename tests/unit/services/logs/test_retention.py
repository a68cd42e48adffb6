from __future__ import annotations

from dockyard.core.clock import ManualClock
from dockyard.services.logs import Logs
from tests.unit.services.logs.conftest import NOW_MS, Call, put

DAY_S = 24 * 3600
DAY = DAY_S * 1000


def test_expired_events_are_not_returned_and_get_purged(
    call: Call, logs: Logs, clock: ManualClock
) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    put(call, "g", "s", (NOW_MS - 2 * DAY, "two days old"))
    put(call, "g", "s", (NOW_MS - 10, "fresh"))
    assert logs.events.count() == 2
    call("PutRetentionPolicy", logGroupName="g", retentionInDays=1)

    out = call("GetLogEvents", logGroupName="g", logStreamName="s", startFromHead=True)
    assert [e["message"] for e in out["events"]] == ["fresh"]
    # Purged from disk too, and no longer counted.
    assert logs.events.count() == 1
    assert call("DescribeLogGroups")["logGroups"][0]["storedBytes"] == len("fresh")

    clock.advance(DAY_S + 1)  # "fresh" is now older than one day
    out = call("FilterLogEvents", logGroupName="g")
    assert out["events"] == []
    logs.purge_expired()
    assert logs.events.count() == 0
    assert call("DescribeLogGroups")["logGroups"][0]["storedBytes"] == 0


def test_events_older_than_retention_are_rejected_as_expired(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    call("PutRetentionPolicy", logGroupName="g", retentionInDays=1)
    out = put(call, "g", "s", (NOW_MS - DAY - 1000, "expired"), (NOW_MS - 3600_000, "kept"))
    # Not older than 14 days, but older than the group's retention.
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    got = call("GetLogEvents", logGroupName="g", logStreamName="s")
    assert [e["message"] for e in got["events"]] == ["kept"]


def test_without_retention_events_stay(call: Call, logs: Logs, clock: ManualClock) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    put(call, "g", "s", (NOW_MS, "kept forever"))
    clock.advance(400 * DAY_S)
    logs.purge_expired()
    got = call("GetLogEvents", logGroupName="g", logStreamName="s")
    assert [e["message"] for e in got["events"]] == ["kept forever"]
