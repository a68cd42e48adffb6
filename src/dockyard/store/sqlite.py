"""SQLite store: WAL mode, one committed transaction per write, versioned schema."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dockyard.store.base import StoreError
from dockyard.store.migrations import MIGRATIONS, SCHEMA_VERSION


def _private(path: str) -> None:
    """The database and its journals readable by this user only (SQLite creates the -wal and
    -shm files with the database file's modes)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed write survives a killed process; only a power
        # loss can take back the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        current = row[0] if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"data dir {self.path} has schema version {current}, newer than this "
                f"Dockyard ({SCHEMA_VERSION}); upgrade Dockyard or use another --data-dir"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN")
            for statement in MIGRATIONS[version]:
                self._db.execute(statement)
            self._db.execute("DELETE FROM schema_version")
            self._db.execute("INSERT INTO schema_version VALUES (?)", (version,))
            self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO records (kind, key, body) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
            (kind, key, json.dumps(value, separators=(",", ":"))),
        )

    def delete(self, kind: str, key: str) -> None:
        self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT body FROM records WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        rows = self._db.execute(
            "SELECT key, body FROM records WHERE kind = ? ORDER BY key", (kind,)
        ).fetchall()
        for key, body in rows:
            yield key, json.loads(body)

    def reset(self) -> None:
        self._db.execute("DELETE FROM records")

    def close(self) -> None:
        self._db.close()
