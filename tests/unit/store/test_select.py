"""Choosing the store: SQLite in the data dir by default, PostgreSQL with --store."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cli import build_parser
from dockyard.store import SqliteStore, StoreError, open_store
from dockyard.store.postgres import PostgresStore


def test_default_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    assert isinstance(store, SqliteStore)
    assert store.path == str(tmp_path / "dockyard.sqlite3")
    store.close()


def test_postgresql_url_opens_that_database(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url, tmp_path)
    assert isinstance(store, PostgresStore)
    store.put("k", "a", {"n": 1})
    store.close()
    again = PostgresStore(postgres_url)
    assert again.get("k", "a") == {"n": 1}
    again.close()
    assert list(tmp_path.iterdir()) == []  # nothing of the state lands in the data dir


def test_unknown_store_url_is_refused_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported store mysql://") as raised:
        open_store("mysql://root:hunter2@db/x", tmp_path)
    assert "hunter2" not in str(raised.value)
    assert "postgresql://" in str(raised.value)


def test_store_option_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKYARD_STORE", raising=False)
    assert build_parser().parse_args(["server"]).store is None
    monkeypatch.setenv("DOCKYARD_STORE", "postgresql://u:p@h/env")
    assert build_parser().parse_args(["server"]).store == "postgresql://u:p@h/env"
    args = build_parser().parse_args(["server", "--store", "postgresql://u:p@h/flag"])
    assert args.store == "postgresql://u:p@h/flag"
