"""Fixtures: the logs service on an in-memory store and a manual clock, called like the
front door calls it (a handler per operation, a request context, parsed params)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.services.logs import Logs, provider
from dockyard.store import SqliteStore
from tests.unit.services.calls import ACCOUNT, REGION, Call, caller, error_of

START = 1_700_000_000.0
NOW_MS = int(START * 1000)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture
def logs(clock: ManualClock) -> Iterator[Logs]:
    service = Logs(SqliteStore(":memory:"), clock, None)
    service.load()
    yield service
    service.close()


def make_call(service: Logs, account: str = ACCOUNT, region: str = REGION) -> Call:
    return caller(provider(service), account, region)


@pytest.fixture
def call(logs: Logs) -> Call:
    return make_call(logs)


def put(call: Call, group: str, stream: str, *events: tuple[int, str]) -> dict[str, Any]:
    return call(
        "PutLogEvents",
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events],
    )


__all__ = ["ACCOUNT", "REGION", "Call", "error_of", "make_call"]
