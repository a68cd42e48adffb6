"""Fixtures: EC2 on an in-memory store, called like the front door calls it."""

from __future__ import annotations

import pytest

from dockyard.services.ec2 import Ec2, provider
from dockyard.store import SqliteStore
from tests.unit.services.calls import ACCOUNT, REGION, Call, caller, error_of


@pytest.fixture
def store() -> SqliteStore:
    return SqliteStore(":memory:")


@pytest.fixture
def ec2(store: SqliteStore) -> Ec2:
    service = Ec2(store)
    service.load()
    return service


def make_call(service: Ec2, account: str = ACCOUNT, region: str = REGION) -> Call:
    return caller(provider(service), account, region)


@pytest.fixture
def call(ec2: Ec2) -> Call:
    return make_call(ec2)


__all__ = ["ACCOUNT", "REGION", "Call", "error_of", "make_call"]
