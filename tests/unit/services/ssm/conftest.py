"""Fixtures: Parameter Store on an in-memory store and a manual clock, called like the front
door calls it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dockyard.api.context import RequestContext
from dockyard.api.errors import ServiceError
from dockyard.core.clock import ManualClock
from dockyard.services.ssm import Ssm, provider
from dockyard.store import SqliteStore

ACCOUNT = "123456789012"
REGION = "us-east-1"

Call = Callable[..., dict[str, Any]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def ssm(clock: ManualClock) -> Ssm:
    service = Ssm(SqliteStore(":memory:"), clock)
    service.load()
    return service


def make_call(service: Ssm, account: str = ACCOUNT, region: str = REGION) -> Call:
    handlers = provider(service).handlers

    def call(operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext(
            service="ssm", operation=operation, account_id=account, region=region,
            request_id="r-1",
        )  # fmt: skip
        result = handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result

    return call


@pytest.fixture
def call(ssm: Ssm) -> Call:
    return make_call(ssm)


def error_of(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call(operation, **params)
    return err.value
