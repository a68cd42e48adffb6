"""Which store a server uses: SQLite in its data dir, or the database a `--store` URL names."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from dockyard.store.base import Store, StoreError
from dockyard.store.sqlite import SqliteStore

log = logging.getLogger(__name__)

SQLITE_FILE = "dockyard.sqlite3"


def open_store(url: str | None, data_dir: Path) -> Store:
    """`url` None or empty: SQLite in `data_dir`; `postgresql://user:pass@host:port/db`:
    that PostgreSQL database (raises `StoreUnavailable` if it cannot be reached)."""
    if not url:
        path = data_dir / SQLITE_FILE
        log.info("state store: SQLite %s", path)
        return SqliteStore(path)
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        from dockyard.store.postgres import PostgresStore

        store = PostgresStore(url)
        log.info("state store: PostgreSQL %s", store.display_url)
        return store
    raise StoreError(
        f"unsupported store {scheme + '://...' if scheme else repr(url)}: "
        "expected postgresql://user:password@host:port/database"
    )
