"""Fixtures: the logs service on an in-memory store and a manual clock, called like the
front door calls it (a handler per operation, a request context, parsed params)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dockyard.api.context import RequestContext
from dockyard.api.errors import ServiceError
from dockyard.core.clock import ManualClock
from dockyard.services.logs import Logs, provider
from dockyard.store import SqliteStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
START = 1_700_000_000.0
NOW_MS = int(START * 1000)

Call = Callable[..., dict[str, Any]]


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
    handlers = provider(service).handlers

    def call(operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext(
            service="logs", operation=operation, account_id=account, region=region,
            request_id="r-1",
        )  # fmt: skip
        result = handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result

    return call


@pytest.fixture
def call(logs: Logs) -> Call:
    return make_call(logs)


def error_of(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call(operation, **params)
    return err.value


def put(call: Call, group: str, stream: str, *events: tuple[int, str]) -> dict[str, Any]:
    return call(
        "PutLogEvents",
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events],
    )
