"""PutEvents entries as boto3 sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dockyard.api.context import RequestContext
from dockyard.core.clock import ManualClock
from dockyard.services.events import Events, provider
from dockyard.store.sqlite import SqliteStore


def put_events(*entries: dict[str, Any]) -> dict[str, Any]:
    events = Events(SqliteStore(":memory:"), ManualClock(start=1_700_000_000.0))
    handler = provider(events).handlers["PutEvents"]
    ctx = RequestContext("events", "PutEvents", "000000000000", "us-east-1", "req-1")
    result = handler(ctx, {"Entries": list(entries)})
    assert isinstance(result, dict)
    return result


def test_an_entry_with_its_own_time_is_accepted() -> None:
    out = put_events({
        "Time": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "Source": "my.app",
        "DetailType": "Order placed",
        "Detail": json.dumps({"id": 1}),
    })  # fmt: skip
    assert out["FailedEntryCount"] == 0
    assert out["Entries"][0]["EventId"]


def test_an_entry_without_detail_fails_alone() -> None:
    out = put_events(
        {"Time": datetime(2024, 5, 1, tzinfo=UTC), "Source": "my.app", "DetailType": "x"},
        {"Source": "my.app", "DetailType": "x", "Detail": "{}"},
    )
    assert out["FailedEntryCount"] == 1
    assert out["Entries"][0]["ErrorCode"] == "InvalidArgument"
    assert "Detail" in out["Entries"][0]["ErrorMessage"]
    assert out["Entries"][1]["EventId"]
