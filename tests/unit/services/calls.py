"""Calling a service's handlers the way the front door calls them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dockyard.api.context import RequestContext
from dockyard.api.provider import Provider
from dockyard.core.errors import ServiceError

ACCOUNT = "123456789012"
REGION = "us-east-1"

Call = Callable[..., dict[str, Any]]


def caller(provider: Provider, account: str = ACCOUNT, region: str = REGION) -> Call:
    """`call(operation, **params)`: the handler's output for a request of `account`."""
    handlers = provider.handlers

    def call(operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext(
            service=provider.service, operation=operation, account_id=account, region=region,
            request_id="r-1",
        )  # fmt: skip
        result = handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result

    return call


def error_of(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call(operation, **params)
    return err.value
