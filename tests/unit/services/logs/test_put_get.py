from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from tests.unit.services.logs.conftest import NOW_MS, Call, error_of, put

DAY = 24 * 3600 * 1000


@pytest.fixture
def stream(call: Call) -> Call:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    return call


def messages(out: dict[str, Any]) -> list[str]:
    return [e["message"] for e in out["events"]]


def test_put_then_get_whole_stream(stream: Call, clock: ManualClock) -> None:
    first = put(stream, "g", "s", (NOW_MS - 2000, "one"), (NOW_MS - 1000, "two"))
    clock.advance(1)
    second = put(stream, "g", "s", (NOW_MS, "three"))
    assert len(first["nextSequenceToken"]) == 56
    assert second["nextSequenceToken"] != first["nextSequenceToken"]
    assert "rejectedLogEventsInfo" not in first
    out = stream("GetLogEvents", logGroupName="g", logStreamName="s")
    assert out["events"] == [
        {"timestamp": NOW_MS - 2000, "message": "one", "ingestionTime": NOW_MS},
        {"timestamp": NOW_MS - 1000, "message": "two", "ingestionTime": NOW_MS},
        {"timestamp": NOW_MS, "message": "three", "ingestionTime": NOW_MS + 1000},
    ]
    assert out["nextForwardToken"].startswith("f/")
    assert out["nextBackwardToken"].startswith("b/")


def test_sequence_token_is_ignored(stream: Call) -> None:
    out = stream(
        "PutLogEvents", logGroupName="g", logStreamName="s", sequenceToken="stale",
        logEvents=[{"timestamp": NOW_MS, "message": "ok"}],
    )  # fmt: skip
    assert "nextSequenceToken" in out
    assert messages(stream("GetLogEvents", logGroupName="g", logStreamName="s")) == ["ok"]


def test_batch_rules(stream: Call) -> None:
    err = error_of(
        stream, "PutLogEvents", logGroupName="g", logStreamName="s",
        logEvents=[{"timestamp": NOW_MS, "message": "b"},
                   {"timestamp": NOW_MS - 1, "message": "a"}],
    )  # fmt: skip
    assert err.code == "InvalidParameterException"
    assert "chronological" in err.message
    err = error_of(
        stream, "PutLogEvents", logGroupName="g", logStreamName="s",
        logEvents=[{"timestamp": NOW_MS - DAY - 1, "message": "a"},
                   {"timestamp": NOW_MS, "message": "b"}],
    )  # fmt: skip
    assert "24 hours" in err.message
    big = "x" * 600_000
    err = error_of(
        stream, "PutLogEvents", logGroupName="g", logStreamName="s",
        logEvents=[{"timestamp": NOW_MS, "message": big}, {"timestamp": NOW_MS, "message": big}],
    )  # fmt: skip
    assert err.code == "InvalidParameterException"
    assert "1048576" in err.message
    err = error_of(
        stream, "PutLogEvents", logGroupName="g", logStreamName="nope",
        logEvents=[{"timestamp": NOW_MS, "message": "a"}],
    )  # fmt: skip
    assert err.code == "ResourceNotFoundException"


def test_rejected_indexes(stream: Call) -> None:
    out = put(
        stream, "g", "s",
        (NOW_MS - 14 * DAY - 10, "old"),
        (NOW_MS - 14 * DAY - 5, "old too"),
        (NOW_MS - 14 * DAY + 5, "kept"),
    )  # fmt: skip
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    out = put(
        stream, "g", "s",
        (NOW_MS, "kept 2"),
        (NOW_MS + 2 * 3600_000 + 1, "new"),
        (NOW_MS + 3 * 3600_000, "newer"),
    )  # fmt: skip
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    got = stream("GetLogEvents", logGroupName="g", logStreamName="s", startFromHead=True)
    assert messages(got) == ["kept", "kept 2"]


def test_get_time_range_and_limit(stream: Call) -> None:
    put(stream, "g", "s", *[(NOW_MS + i, f"m{i}") for i in range(10)])
    out = stream(
        "GetLogEvents", logGroupName="g", logStreamName="s", startTime=NOW_MS + 2,
        endTime=NOW_MS + 6, startFromHead=True,
    )  # fmt: skip
    assert messages(out) == ["m2", "m3", "m4", "m5"]  # endTime is exclusive
    head = stream("GetLogEvents", logGroupName="g", logStreamName="s", limit=3, startFromHead=True)
    assert messages(head) == ["m0", "m1", "m2"]
    tail = stream("GetLogEvents", logGroupName="g", logStreamName="s", limit=3)
    assert messages(tail) == ["m7", "m8", "m9"]  # newest events, oldest first


def test_forward_tokens_page_to_the_end_then_repeat(stream: Call) -> None:
    put(stream, "g", "s", *[(NOW_MS, f"m{i}") for i in range(5)])  # equal timestamps
    seen: list[str] = []
    out = stream("GetLogEvents", logGroupName="g", logStreamName="s", limit=2, startFromHead=True)
    seen += messages(out)
    while True:
        token = out["nextForwardToken"]
        out = stream(
            "GetLogEvents", logGroupName="g", logStreamName="s", limit=2, nextToken=token,
            startFromHead=True,
        )  # fmt: skip
        if not out["events"]:
            assert out["nextForwardToken"] == token
            break
        seen += messages(out)
    assert seen == [f"m{i}" for i in range(5)]
    # Polling with the end token picks up what arrives later.
    put(stream, "g", "s", (NOW_MS + 5, "later"))
    again = stream("GetLogEvents", logGroupName="g", logStreamName="s", nextToken=token)
    assert messages(again) == ["later"]


def test_backward_tokens_page_to_the_start(stream: Call) -> None:
    put(stream, "g", "s", *[(NOW_MS + i, f"m{i}") for i in range(5)])
    out = stream("GetLogEvents", logGroupName="g", logStreamName="s", limit=2)
    assert messages(out) == ["m3", "m4"]
    back = stream(
        "GetLogEvents", logGroupName="g", logStreamName="s", limit=2,
        nextToken=out["nextBackwardToken"],
    )  # fmt: skip
    assert messages(back) == ["m1", "m2"]
    back2 = stream(
        "GetLogEvents", logGroupName="g", logStreamName="s", limit=2,
        nextToken=back["nextBackwardToken"],
    )  # fmt: skip
    assert messages(back2) == ["m0"]
    end = stream(
        "GetLogEvents", logGroupName="g", logStreamName="s", limit=2,
        nextToken=back2["nextBackwardToken"],
    )  # fmt: skip
    assert end["events"] == []
    assert end["nextBackwardToken"] == back2["nextBackwardToken"]
    # Going forward again from a backward page continues after it.
    fwd = stream(
        "GetLogEvents", logGroupName="g", logStreamName="s", limit=2,
        nextToken=back["nextForwardToken"],
    )  # fmt: skip
    assert messages(fwd) == ["m3", "m4"]


def test_empty_stream_tokens_and_tailing(stream: Call) -> None:
    out = stream("GetLogEvents", logGroupName="g", logStreamName="s")
    assert out["events"] == []
    put(stream, "g", "s", (NOW_MS, "first"))
    nxt = stream("GetLogEvents", logGroupName="g", logStreamName="s",
                 nextToken=out["nextForwardToken"])  # fmt: skip
    assert messages(nxt) == ["first"]


def test_bad_tokens_and_missing_stream(stream: Call) -> None:
    err = error_of(stream, "GetLogEvents", logGroupName="g", logStreamName="s", nextToken="x/1")
    assert err.code == "InvalidParameterException"
    err = error_of(stream, "GetLogEvents", logGroupName="g", logStreamName="nope")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
