from __future__ import annotations

from dockyard.core.clock import ManualClock
from tests.unit.services.logs.conftest import ACCOUNT, NOW_MS, Call, error_of, put


def test_create_describe_delete_stream(call: Call, clock: ManualClock) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="web/app/1")
    stream = call("DescribeLogStreams", logGroupName="g")["logStreams"][0]
    assert stream["logStreamName"] == "web/app/1"
    assert stream["creationTime"] == NOW_MS
    assert stream["arn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:log-stream:web/app/1"
    assert "firstEventTimestamp" not in stream
    assert "lastEventTimestamp" not in stream

    clock.advance(5)
    out = put(call, "g", "web/app/1", (NOW_MS + 1000, "a"), (NOW_MS + 2000, "b"))
    stream = call("DescribeLogStreams", logGroupName="g")["logStreams"][0]
    assert stream["firstEventTimestamp"] == NOW_MS + 1000
    assert stream["lastEventTimestamp"] == NOW_MS + 2000
    assert stream["lastIngestionTime"] == NOW_MS + 5000
    assert stream["uploadSequenceToken"] == out["nextSequenceToken"]

    err = error_of(call, "CreateLogStream", logGroupName="g", logStreamName="web/app/1")
    assert err.code == "ResourceAlreadyExistsException"
    call("DeleteLogStream", logGroupName="g", logStreamName="web/app/1")
    assert call("DescribeLogStreams", logGroupName="g")["logStreams"] == []
    err = error_of(call, "DeleteLogStream", logGroupName="g", logStreamName="web/app/1")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    err = error_of(call, "CreateLogStream", logGroupName="nope", logStreamName="s")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )


def test_describe_streams_order_prefix_and_pages(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g")
    for name, ts in (("b", 3), ("a", 1), ("c", 2), ("x-1", None), ("x-2", None)):
        call("CreateLogStream", logGroupName="g", logStreamName=name)
        if ts is not None:
            put(call, "g", name, (NOW_MS + ts, "m"))

    def names(**params: object) -> list[str]:
        out: list[str] = []
        token = None
        while True:
            extra: dict[str, str] = {"nextToken": token} if token else {}
            page = call("DescribeLogStreams", logGroupName="g", limit=2, **params, **extra)
            assert len(page["logStreams"]) <= 2
            out += [s["logStreamName"] for s in page["logStreams"]]
            token = page.get("nextToken")
            if not token:
                return out

    assert names() == ["a", "b", "c", "x-1", "x-2"]
    assert names(descending=True) == ["x-2", "x-1", "c", "b", "a"]
    assert names(logStreamNamePrefix="x-") == ["x-1", "x-2"]
    assert names(orderBy="LastEventTime", descending=True)[:3] == ["b", "c", "a"]
    err = error_of(
        call, "DescribeLogStreams", logGroupName="g", orderBy="LastEventTime",
        logStreamNamePrefix="x",
    )  # fmt: skip
    assert err.code == "InvalidParameterException"


def test_group_identifier_forms(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g"
    for ident in ("g", arn, arn + ":*"):
        out = call("DescribeLogStreams", logGroupIdentifier=ident)
        assert [s["logStreamName"] for s in out["logStreams"]] == ["s"]
    err = error_of(call, "DescribeLogStreams", logGroupName="g", logGroupIdentifier="g")
    assert err.code == "InvalidParameterException"
    assert error_of(call, "DescribeLogStreams").code == "InvalidParameterException"
    other = "arn:aws:logs:us-east-1:999999999999:log-group:g"
    assert error_of(call, "DescribeLogStreams", logGroupIdentifier=other).code == (
        "ResourceNotFoundException"
    )
