"""The event log: every log event of every stream, in a SQLite database of its own.

Log events are many and only ever appended, read by time and expired, so they do not go
through the record store: the logs service owns `logs.sqlite3` in the data dir (or an
in-memory database). Groups and streams are referred to by small numbers (`gid`, `sid`)
kept in their store records. Events are ordered by (timestamp, id): `id` grows with every
event appended, so it breaks ties in arrival order and positions are stable across restarts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.core.private import private_dir, private_sqlite
from dockyard.core.userregex import compile_regex
from dockyard.services.logs.patterns import FilterPattern

EVENT_OVERHEAD = 26  # bytes AWS counts per event on top of its UTF-8 message
MAX_RESPONSE_BYTES = 1_048_576

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " gid INTEGER NOT NULL, sid INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, ingested INTEGER NOT NULL,"
    " size INTEGER NOT NULL, message TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_stream ON events (sid, ts, id)",
    "CREATE INDEX IF NOT EXISTS events_by_group ON events (gid, ts, id)",
]

Cursor = tuple[int, int]  # (timestamp, id): a position between events


@dataclass(slots=True, frozen=True)
class Event:
    id: int
    sid: int
    timestamp: int
    ingestion_time: int
    message: str

    @property
    def cursor(self) -> Cursor:
        return (self.timestamp, self.id)


@dataclass(slots=True, frozen=True)
class Window:
    """Timestamps `start <= ts < end`."""

    start: int = 0
    end: int = 2**62


def _regexp(pattern: str, text: str) -> bool:
    """SQLite's `regexp()`: RE2 (the pattern was checked when the filter was parsed)."""
    return compile_regex(pattern).search(text) is not None


def message_size(message: str) -> int:
    return len(message.encode("utf-8"))


class EventLog:
    def __init__(self, path: str | None) -> None:
        self.path = path or ":memory:"
        if path is not None:
            private_dir(Path(path).parent)
            private_sqlite(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.create_function("regexp", 2, _regexp, deterministic=True)
        for statement in _SCHEMA:
            self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def max_ids(self) -> tuple[int, int]:
        """The highest group and stream numbers that have events (to never reuse them)."""
        row = self._db.execute("SELECT MAX(gid), MAX(sid) FROM events").fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def append(self, gid: int, sid: int, events: Sequence[tuple[int, str]], ingested: int) -> None:
        """Append events (timestamp ms, message) in one transaction."""
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT INTO events (gid, sid, ts, ingested, size, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(gid, sid, ts, ingested, message_size(msg), msg) for ts, msg in events],
            )
            self._db.execute("COMMIT")  # may fail too (a full disk): then nothing is kept
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def stream_events(
        self,
        sid: int,
        window: Window,
        *,
        after: Cursor | None = None,
        before: Cursor | None = None,
        newest_first: bool = False,
        limit: int = 10_000,
    ) -> list[Event]:
        """Events of one stream in `window`, strictly after/before a cursor, oldest first.

        `newest_first` picks the `limit` newest events of the range (returned oldest first).
        """
        sql = (
            "SELECT id, sid, ts, ingested, message FROM events WHERE sid = ? AND ts >= ? AND ts < ?"
        )
        params: list[object] = [sid, window.start, window.end]
        if after is not None:
            sql += " AND (ts, id) > (?, ?)"
            params.extend(after)
        if before is not None:
            sql += " AND (ts, id) < (?, ?)"
            params.extend(before)
        order = "DESC" if newest_first else "ASC"
        sql += f" ORDER BY ts {order}, id {order} LIMIT ?"
        params.append(limit)
        events, _ = _capped(self._db.execute(sql, params), limit)
        if newest_first:
            events.reverse()
        return events

    def group_events(
        self,
        gid: int,
        window: Window,
        *,
        sids: Iterable[int] | None = None,
        pattern: FilterPattern | None = None,
        after: Cursor | None = None,
        limit: int = 10_000,
    ) -> tuple[list[Event], bool]:
        """Events of a group (optionally of some of its streams) matching `pattern`,
        interleaved by time, oldest first; and whether more follow."""
        sql = (
            "SELECT id, sid, ts, ingested, message FROM events WHERE gid = ? AND ts >= ? AND ts < ?"
        )
        params: list[object] = [gid, window.start, window.end]
        if sids is not None:
            sql += " AND sid IN (SELECT value FROM json_each(?))"
            params.append("[" + ",".join(str(int(s)) for s in sids) + "]")
        if after is not None:
            sql += " AND (ts, id) > (?, ?)"
            params.extend(after)
        if pattern is not None and not pattern.matches_all:
            where, extra = pattern.sql("message")
            sql += f" AND {where}"
            params.extend(extra)
        sql += " ORDER BY ts, id LIMIT ?"
        params.append(limit + 1)
        return _capped(self._db.execute(sql, params), limit)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def delete_stream(self, sid: int) -> None:
        self._db.execute("DELETE FROM events WHERE sid = ?", (sid,))

    def delete_group(self, gid: int) -> None:
        self._db.execute("DELETE FROM events WHERE gid = ?", (gid,))

    def expire(self, gid: int, cutoff: int) -> dict[int, int]:
        """Delete a group's events older than `cutoff`; the bytes freed per stream."""
        freed = {
            int(sid): int(size)
            for sid, size in self._db.execute(
                "SELECT sid, SUM(size) FROM events WHERE gid = ? AND ts < ? GROUP BY sid",
                (gid, cutoff),
            )
        }
        if freed:
            self._db.execute("DELETE FROM events WHERE gid = ? AND ts < ?", (gid, cutoff))
        return freed

    def clear(self) -> None:
        self._db.execute("DELETE FROM events")


def _capped(rows: Iterable[tuple[int, int, int, int, str]], limit: int) -> tuple[list[Event], bool]:
    """Up to `limit` rows as events, stopping before the response would pass 1 MB (as AWS
    does); and whether rows were left over."""
    events: list[Event] = []
    total = 0
    for id_, sid, ts, ingested, message in rows:
        total += message_size(message) + EVENT_OVERHEAD
        if len(events) >= limit or (events and total > MAX_RESPONSE_BYTES):
            return events, True
        events.append(Event(id_, sid, ts, ingested, message))
    return events, False
