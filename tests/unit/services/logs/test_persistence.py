from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.core.clock import ManualClock
from dockyard.services.logs import Logs
from dockyard.store import SqliteStore
from tests.unit.services.logs.conftest import NOW_MS, make_call, put


def open_logs(data: Path, clock: ManualClock) -> tuple[Logs, SqliteStore]:
    store = SqliteStore(data / "dockyard.sqlite3")
    logs = Logs(store, clock, str(data / "logs.sqlite3"))
    logs.load()
    return logs, store


def test_groups_streams_and_events_survive_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    logs, store = open_logs(tmp_path, clock)
    call = make_call(logs)
    call("CreateLogGroup", logGroupName="g", tags={"env": "test"})
    call("PutRetentionPolicy", logGroupName="g", retentionInDays=30)
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    put(call, "g", "s", (NOW_MS, "before restart"))
    token = call("GetLogEvents", logGroupName="g", logStreamName="s")["nextForwardToken"]
    call("CreateLogGroup", logGroupName="deleted")
    call("CreateLogStream", logGroupName="deleted", logStreamName="s")
    put(call, "deleted", "s", (NOW_MS, "gone"))
    call("DeleteLogGroup", logGroupName="deleted")
    before = call("DescribeLogStreams", logGroupName="g")
    logs.close()
    store.close()

    logs, store = open_logs(tmp_path, clock)
    call = make_call(logs)
    group = call("DescribeLogGroups")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in group] == [("g", 30)]
    assert call("ListTagsLogGroup", logGroupName="g")["tags"] == {"env": "test"}
    assert call("DescribeLogStreams", logGroupName="g") == before
    got = call("GetLogEvents", logGroupName="g", logStreamName="s")
    assert [e["message"] for e in got["events"]] == ["before restart"]
    # Tokens handed out before the restart keep working.
    put(call, "g", "s", (NOW_MS + 1, "after restart"))
    got = call("GetLogEvents", logGroupName="g", logStreamName="s", nextToken=token)
    assert [e["message"] for e in got["events"]] == ["after restart"]
    # A recreated group does not inherit anything.
    call("CreateLogGroup", logGroupName="deleted")
    call("CreateLogStream", logGroupName="deleted", logStreamName="s")
    assert call("FilterLogEvents", logGroupName="deleted")["events"] == []
    logs.close()
    store.close()


def test_reset_forgets_events(tmp_path: Path, clock: ManualClock) -> None:
    logs, store = open_logs(tmp_path, clock)
    call = make_call(logs)
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    put(call, "g", "s", (NOW_MS, "x"))
    store.reset()
    logs.reset()
    assert call("DescribeLogGroups")["logGroups"] == []
    assert logs.events.count() == 0
    logs.close()
    store.close()


class TestPutEvents:
    """The Python interface container output arrives through (awslogs log driver)."""

    def test_creates_stream_and_group_when_asked(self, logs: Logs) -> None:
        logs.put_events(
            "123456789012", "us-east-1", "/ecs/web", "web/app/abc",
            [(NOW_MS + 2, "second"), (NOW_MS + 1, "first"), (NOW_MS + 3, "")],
            create_group=True,
        )  # fmt: skip
        call = make_call(logs)
        out = call("GetLogEvents", logGroupName="/ecs/web", logStreamName="web/app/abc")
        # Sorted by time; empty lines are skipped as the awslogs driver does.
        assert [e["message"] for e in out["events"]] == ["first", "second"]
        logs.put_events(
            "123456789012", "us-east-1", "/ecs/web", "web/app/abc", [(NOW_MS + 4, "third")],
            create_group=False,
        )  # fmt: skip
        out = call("GetLogEvents", logGroupName="/ecs/web", logStreamName="web/app/abc")
        assert [e["message"] for e in out["events"]][-1] == "third"

    def test_missing_group_drops_with_warning(
        self, logs: Logs, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level("WARNING", logger="dockyard.services.logs.service"):
            logs.put_events(
                "123456789012", "us-east-1", "/ecs/none", "s", [(NOW_MS, "lost")],
                create_group=False,
            )  # fmt: skip
        assert "/ecs/none" in caplog.text
        assert "ResourceNotFoundException" in caplog.text
        assert make_call(logs)("DescribeLogGroups")["logGroups"] == []

    def test_invalid_names_are_dropped(self, logs: Logs, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level("WARNING", logger="dockyard.services.logs.service"):
            logs.put_events(
                "123456789012", "us-east-1", "bad group!", "s", [(NOW_MS, "x")],
                create_group=True,
            )  # fmt: skip
        assert "logGroupName" in caplog.text
        assert make_call(logs)("DescribeLogGroups")["logGroups"] == []

    def test_too_old_events_are_dropped(self, logs: Logs) -> None:
        logs.put_events(
            "123456789012", "us-east-1", "g", "s",
            [(NOW_MS - 15 * 24 * 3600_000, "ancient"), (NOW_MS, "now")],
            create_group=True,
        )  # fmt: skip
        out = make_call(logs)("GetLogEvents", logGroupName="g", logStreamName="s")
        assert [e["message"] for e in out["events"]] == ["now"]
