"""SQLite store: WAL mode, one committed transaction per write, versioned schema.

Writes are synchronous on the caller's thread (the event loop): a local WAL commit with
synchronous=NORMAL takes tens of microseconds and never waits on a network. A failed
commit (disk full, I/O error, locked) is rolled back and raised as `StoreUnavailable`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dockyard.store.base import (
    Committed,
    Delete,
    Put,
    StoreError,
    StoreUnavailable,
    is_unavailable,
)
from dockyard.store.migrations import MIGRATIONS, SCHEMA_VERSION

UPSERT = (
    "INSERT INTO records (kind, key, body) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
# How long a write waits for another connection's lock before it fails (milliseconds).
BUSY_TIMEOUT_MS = 2000


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
        self._committed = Committed()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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

    def write(self, puts: Iterable[Put] = (), deletes: Iterable[Delete] = ()) -> None:
        rows = [(kind, key, json.dumps(value, separators=(",", ":"))) for kind, key, value in puts]
        gone = list(deletes)
        if not rows and not gone:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", gone)
                self._db.executemany(UPSERT, rows)
                self._db.execute("COMMIT")
                self._committed.written(rows, gone)
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if not is_unavailable(exc):
                raise
            raise StoreUnavailable(f"cannot write to the store {self.path}: {exc}") from exc

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self.write(puts=[(kind, key, value)])

    def delete(self, kind: str, key: str) -> None:
        self.write(deletes=[(kind, key)])

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT body FROM records WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        self._committed.seen(kind, key, None if row is None else row[0])
        return None if row is None else dict(json.loads(row[0]))

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        rows = self._db.execute(
            "SELECT key, body FROM records WHERE kind = ? ORDER BY key", (kind,)
        ).fetchall()
        for key, body in rows:
            self._committed.seen(kind, key, body)
            yield key, json.loads(body)

    def reset(self) -> None:
        try:
            self._db.execute("DELETE FROM records")
            self._committed.clear()
        except sqlite3.Error as exc:
            if not is_unavailable(exc):
                raise
            raise StoreUnavailable(f"cannot write to the store {self.path}: {exc}") from exc

    def committed(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._committed.get(kind, key)

    def close(self) -> None:
        self._db.close()
