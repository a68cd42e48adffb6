"""Fixtures: Parameter Store on an in-memory store and a manual clock, called like the front
door calls it."""

from __future__ import annotations

import pytest

from dockyard.core.clock import ManualClock
from dockyard.services.ssm import Ssm, provider
from dockyard.store import SqliteStore
from tests.unit.services.calls import ACCOUNT, REGION, Call, caller, error_of


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def ssm(clock: ManualClock) -> Ssm:
    service = Ssm(SqliteStore(":memory:"), clock)
    service.load()
    return service


def make_call(service: Ssm, account: str = ACCOUNT, region: str = REGION) -> Call:
    return caller(provider(service), account, region)


@pytest.fixture
def call(ssm: Ssm) -> Call:
    return make_call(ssm)


__all__ = ["ACCOUNT", "REGION", "Call", "error_of", "make_call"]
