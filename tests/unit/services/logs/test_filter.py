from __future__ import annotations

from typing import Any

import pytest

from tests.unit.services.logs.conftest import ACCOUNT, NOW_MS, Call, error_of, put


@pytest.fixture
def group(call: Call) -> Call:
    call("CreateLogGroup", logGroupName="g")
    for name in ("web/1", "web/2", "worker/1"):
        call("CreateLogStream", logGroupName="g", logStreamName=name)
    put(call, "g", "web/1", (NOW_MS + 1, "GET / 200"), (NOW_MS + 4, "ERROR db timeout"))
    put(call, "g", "web/2", (NOW_MS + 2, "GET /health 200"), (NOW_MS + 5, "WARN slow"))
    put(call, "g", "worker/1", (NOW_MS + 3, "ERROR job failed"), (NOW_MS + 6, "done"))
    return call


def rows(out: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["logStreamName"], e["message"]) for e in out["events"]]


def test_interleaves_all_streams_by_time(group: Call) -> None:
    out = group("FilterLogEvents", logGroupName="g")
    assert [e["message"] for e in out["events"]] == [
        "GET / 200", "GET /health 200", "ERROR job failed", "ERROR db timeout", "WARN slow", "done",
    ]  # fmt: skip
    first = out["events"][0]
    assert first["timestamp"] == NOW_MS + 1
    assert first["ingestionTime"] == NOW_MS
    assert len(first["eventId"]) == 56
    assert len({e["eventId"] for e in out["events"]}) == 6
    assert out["searchedLogStreams"] == []
    assert "nextToken" not in out


def test_terms_streams_and_time(group: Call) -> None:
    assert rows(group("FilterLogEvents", logGroupName="g", filterPattern="ERROR")) == [
        ("worker/1", "ERROR job failed"),
        ("web/1", "ERROR db timeout"),
    ]
    assert rows(group("FilterLogEvents", logGroupName="g", filterPattern="ERROR timeout")) == [
        ("web/1", "ERROR db timeout"),
    ]
    assert rows(group("FilterLogEvents", logGroupName="g", filterPattern="?WARN ?failed")) == [
        ("worker/1", "ERROR job failed"),
        ("web/2", "WARN slow"),
    ]
    out = group(
        "FilterLogEvents", logGroupName="g", logStreamNamePrefix="web/", filterPattern="GET"
    )
    assert rows(out) == [("web/1", "GET / 200"), ("web/2", "GET /health 200")]
    out = group("FilterLogEvents", logGroupName="g", logStreamNames=["worker/1", "missing"])
    assert [m for _, m in rows(out)] == ["ERROR job failed", "done"]
    out = group("FilterLogEvents", logGroupName="g", startTime=NOW_MS + 2, endTime=NOW_MS + 4)
    assert [m for _, m in rows(out)] == ["GET /health 200", "ERROR job failed"]
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:*"
    out = group("FilterLogEvents", logGroupIdentifier=arn, filterPattern='"db timeout"')
    assert rows(out) == [("web/1", "ERROR db timeout")]
    out = group("FilterLogEvents", logGroupName="g", logStreamNamePrefix="nothing")
    assert out["events"] == []


def test_pages_with_next_token(group: Call) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"logGroupName": "g", "limit": 4}
    pages = 0
    while True:
        out = group("FilterLogEvents", **params)
        pages += 1
        seen += [e["message"] for e in out["events"]]
        if "nextToken" not in out:
            break
        params["nextToken"] = out["nextToken"]
    assert pages == 2
    assert len(seen) == 6
    assert seen[-1] == "done"
    # A page that ends exactly at the last event has no token.
    assert "nextToken" not in group("FilterLogEvents", logGroupName="g", limit=6)


def test_filter_errors(group: Call) -> None:
    for params in (
        {"logGroupName": "nope"},
        {"logGroupIdentifier": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:nope"},
    ):
        assert error_of(group, "FilterLogEvents", **params).code == "ResourceNotFoundException"
    bad: list[dict[str, Any]] = [
        {"logGroupName": "g", "logStreamNames": ["a"], "logStreamNamePrefix": "a"},
        {"logGroupName": "g", "nextToken": "bogus"},
        {"logGroupName": "g", "filterPattern": "{ $.x = 1 }"},
        {},
    ]
    for params in bad:
        assert error_of(group, "FilterLogEvents", **params).code == "InvalidParameterException"
