"""Fixtures: SQS on a SQLite store and a manual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.scope import Scope
from dockyard.services.sqs import Sqs
from dockyard.store import SqliteStore

SCOPE = Scope("123456789012", "us-east-1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite3"


@pytest.fixture
def sqs(clock: ManualClock, store_path: Path) -> Sqs:
    service = Sqs(SqliteStore(store_path), clock)
    service.load()
    return service
