from __future__ import annotations

import datetime as dt

import pytest

from dockyard.core.schedule import ScheduleError, parse

JAN1 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(5 minutes)", "2025-01-01T00:05:00"),
        ("rate(1 hour)", "2025-01-01T01:00:00"),
        ("cron(0 12 * * ? *)", "2025-01-01T12:00:00"),
        ("cron(0/15 * * * ? *)", "2025-01-01T00:15:00"),
        ("cron(30 18 ? * MON-FRI *)", "2025-01-01T18:30:00"),
        ("cron(0 0 ? * SAT *)", "2025-01-04T00:00:00"),
        ("cron(0 8 15 * ? *)", "2025-01-15T08:00:00"),
        ("cron(0 0 L * ? *)", "2025-01-31T00:00:00"),
        ("cron(0 10 ? * 6#3 *)", "2025-01-17T10:00:00"),
        ("cron(0 10 ? * 2L *)", "2025-01-27T10:00:00"),
        ("cron(0 9 1W * ? *)", "2025-01-01T09:00:00"),
        ("cron(0 0 1 JAN ? 2026)", "2026-01-01T00:00:00"),
    ],
)
def test_next_time(expr: str, expected: str) -> None:
    assert parse(expr).next_time(JAN1, origin=JAN1) == at(expected)


def test_time_zone_and_at() -> None:
    ny = parse("cron(0 9 * * ? *)").next_time(JAN1, origin=JAN1, tz="America/New_York")
    assert ny == at("2025-01-01T14:00:00")
    once = parse("at(2025-03-01T06:00:00)", allow_at=True)
    assert once.next_time(JAN1, origin=JAN1) == at("2025-03-01T06:00:00")
    assert once.next_time(at("2025-03-02T00:00:00"), origin=JAN1) is None


@pytest.mark.parametrize(
    "expr",
    ["rate(0 minutes)", "rate(1 minutes)", "rate(5 minute)", "cron(0 12 * * * *)",
     "cron(0 12 * *)", "cron(61 * * * ? *)", "at(2025-01-01T00:00:00)", "every day"],
)  # fmt: skip
def test_invalid(expr: str) -> None:
    with pytest.raises(ScheduleError):
        parse(expr)
