"""Each contract test runs against every store: SQLite, and PostgreSQL (a private server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockyard.store import SqliteStore, Store
from dockyard.store.postgres import PostgresStore
from tests.support.postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


@dataclass(slots=True)
class Backend:
    name: str
    open: Callable[[], Store]  # a new store on the same database each call
    set_schema_version: Callable[[Store, int], None]


def _set_sqlite_version(store: Store, version: int) -> None:
    assert isinstance(store, SqliteStore)
    store._db.execute("UPDATE schema_version SET version = ?", (version,))


def _set_postgres_version(store: Store, version: int) -> None:
    assert isinstance(store, PostgresStore)
    store._conn.execute("UPDATE schema_version SET version = %s", (version,))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[Store] = []

    def remember(store: Store) -> Store:
        opened.append(store)
        return store

    if request.param == "sqlite":
        path = tmp_path / "s.db"
        yield Backend("sqlite", lambda: remember(SqliteStore(path)), _set_sqlite_version)
    else:
        url: str = request.getfixturevalue("postgres_url")
        yield Backend("postgresql", lambda: remember(PostgresStore(url)), _set_postgres_version)
    for store in opened:
        store.close()
