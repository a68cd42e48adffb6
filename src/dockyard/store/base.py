"""The `Store` protocol.

State lives in memory, in the services' domain objects. A domain writes through here
*before* it changes memory (the unit of work: validate → build the new records → commit →
apply → publish), so a failed commit changes nothing. A record is a JSON document under a
(kind, key) pair; kinds are named by the owning service (`ecs.cluster`, `logs.group`, ...)
and keys are usually ARNs, so they carry the account and region.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

Put = tuple[str, str, dict[str, Any]]  # (kind, key, body)
Delete = tuple[str, str]  # (kind, key)


class StoreError(RuntimeError):
    """A store cannot be used: unreachable, a schema newer than ours, a URL we do not know.
    The message says which store (never its password) and what to do."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or cannot take a write now (disk full, I/O error,
    connection lost). Nothing of the failed call was committed; retrying later is safe.
    The front door answers it as a retryable 503 ServiceUnavailable."""


# SQLite result codes that mean "the storage cannot take this now", not "a bug of ours".
SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_NOMEM,
}

OS_UNAVAILABLE = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS}


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` is a storage failure (ours or a side SQLite file's: metrics, logs)
    that a client should retry later, rather than a bug."""
    if isinstance(exc, StoreUnavailable):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return (code & 0xFF) in SQLITE_UNAVAILABLE
        text = str(exc).lower()
        return any(s in text for s in ("full", "disk i/o", "locked", "readonly", "unable to open"))
    return isinstance(exc, OSError) and exc.errno in OS_UNAVAILABLE


class Committed:
    """A write-through copy of the committed records (their JSON text), kept by a store."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], str] = {}

    def seen(self, kind: str, key: str, body: str | None) -> None:
        if body is None:
            self._bodies.pop((kind, key), None)
        else:
            self._bodies[(kind, key)] = body

    def written(self, rows: Iterable[tuple[str, str, str]], gone: Iterable[Delete]) -> None:
        for kind, key in gone:
            self._bodies.pop((kind, key), None)
        for kind, key, body in rows:
            self._bodies[(kind, key)] = body

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        body = self._bodies.get((kind, key))
        return None if body is None else dict(json.loads(body))

    def clear(self) -> None:
        self._bodies.clear()


class Store(Protocol):
    def write(self, puts: Iterable[Put] = (), deletes: Iterable[Delete] = ()) -> None:
        """Commit every put (an upsert) and delete in one transaction: all or nothing.
        Raises `StoreUnavailable` when it could not commit (then nothing changed)."""
        ...

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """`write` of one record."""
        ...

    def delete(self, kind: str, key: str) -> None:
        """`write` of one delete."""
        ...

    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    def committed(self, kind: str, key: str) -> dict[str, Any] | None:
        """The record as this store last committed or read it, without I/O (so it answers
        while the database is down): what a failed write rolls memory back to."""
        ...

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record of a kind, in key order."""
        ...

    def reset(self) -> None:
        """Remove every record (the `/_dockyard/reset` endpoint)."""
        ...

    def close(self) -> None: ...
