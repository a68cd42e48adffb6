"""The sample log: every metric sample, in a SQLite database of its own.

Samples are many, only ever appended, expired by time and read back whole at start, so they do
not go through the record store: CloudWatch owns `metrics.sqlite3` in the data dir (None keeps
an in-memory database, for tests). Memory stays the query path; the log is what a restarted
server reloads. Each metric (scope and key) has a small number (`mid`).

A batch (one PutMetricData call, one batch of Dockyard's own measurements) is appended in one
transaction, as one *chunk* per metric: that metric's samples of the batch, in arrival order,
packed as arrays of doubles (timestamps; values). Chunks are read back in the order they were
appended, so equal timestamps keep their arrival order across restarts. A chunk is deleted
when its newest sample has expired; older samples of a chunk still held are skipped on load.

How a sample's aggregate is packed (`kinds`, one byte per sample; NULL when all are SINGLE):
SINGLE is one value `v` (what a PutMetricData `Value` holds): `[v]`; the others are
`[count, sum, minimum, maximum, n, value_1 .. value_n]`.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.core.private import private_dir, private_sqlite
from dockyard.core.scope import Scope
from dockyard.services.cloudwatch.model import MetricKey
from dockyard.services.cloudwatch.statistics import Aggregate

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS metrics ("
    " id INTEGER PRIMARY KEY,"
    " account TEXT NOT NULL, region TEXT NOT NULL,"
    " namespace TEXT NOT NULL, name TEXT NOT NULL, dimensions TEXT NOT NULL,"
    " last_put REAL NOT NULL)",
    # `unit` when every sample of the chunk has the same unit, else `units` (a JSON list).
    "CREATE TABLE IF NOT EXISTS chunks ("
    " id INTEGER PRIMARY KEY, mid INTEGER NOT NULL, newest REAL NOT NULL,"
    " unit TEXT, units TEXT, times BLOB NOT NULL, kinds BLOB, vals BLOB NOT NULL)",
]

# How a sample's aggregate is packed.
SINGLE = 0  # one value
VALUES = 1  # raw values
STATISTIC_SET = 2  # no raw values
PARTIAL = 3  # raw values and statistic sets (percentiles unanswerable)

Entry = tuple[float, str, Aggregate]  # a sample: timestamp, unit, aggregate
Chunk = tuple[int, float, str | None, str | None, bytes, bytes | None, bytes]


def is_single(data: Aggregate) -> bool:
    """Whether `data` is exactly what Aggregate().add_value(v) holds."""
    values, low = data.values, data.minimum
    return (
        data.complete_values
        and data.count == 1.0
        and len(values) == 1
        and values[0] == low == data.maximum
        and data.sum == 0.0 + low
    )


def encode_chunk(mid: int, entries: Sequence[Entry]) -> Chunk:
    times = array("d")
    vals = array("d")
    kinds = bytearray()
    units: list[str] = []
    packed = False
    for ts, unit, data in entries:
        times.append(ts)
        units.append(unit)
        if is_single(data):
            kinds.append(SINGLE)
            vals.append(data.minimum)
            continue
        packed = True
        values = data.values
        if data.complete_values:
            kinds.append(VALUES)
        else:
            kinds.append(PARTIAL if values else STATISTIC_SET)
        vals.extend((data.count, data.sum, data.minimum, data.maximum, float(len(values))))
        vals.extend(values)
    uniform = units.count(units[0]) == len(units)
    return (
        mid, max(times), units[0] if uniform else None, None if uniform else json.dumps(units),
        times.tobytes(), bytes(kinds) if packed else None, vals.tobytes(),
    )  # fmt: skip


def decode_chunk(
    unit: str | None, units: str | None, times: bytes, kinds: bytes | None, vals: bytes
) -> Iterator[Entry]:
    stamps = array("d")
    stamps.frombytes(times)
    numbers = array("d")
    numbers.frombytes(vals)
    unit_of: list[str] = json.loads(units) if units is not None else [unit or "None"] * len(stamps)
    if kinds is None:  # the common case: single values
        for ts, u, v in zip(stamps.tolist(), unit_of, numbers.tolist(), strict=True):
            yield ts, u, Aggregate(1.0, 0.0 + v, v, v, [v])
        return
    flat = numbers.tolist()
    at = 0
    for ts, u, kind in zip(stamps.tolist(), unit_of, kinds, strict=True):
        if kind == SINGLE:
            v = flat[at]
            at += 1
            yield ts, u, Aggregate(1.0, 0.0 + v, v, v, [v])
            continue
        count, total, low, high, n = flat[at : at + 5]
        values = flat[at + 5 : at + 5 + int(n)]
        at += 5 + int(n)
        yield ts, u, Aggregate(count, total, low, high, values, kind == VALUES)


@dataclass(slots=True, frozen=True)
class StoredMetric:
    mid: int
    scope: Scope
    key: MetricKey
    last_put: float


class SampleLog:
    def __init__(self, path: str | None) -> None:
        self.path = path or ":memory:"
        if path is not None:
            private_dir(Path(path).parent)
            private_sqlite(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def max_id(self) -> int:
        """The highest metric number in use (new metrics number on from it)."""
        return int(self._db.execute("SELECT MAX(id) FROM metrics").fetchone()[0] or 0)

    def append(
        self,
        new_metrics: Sequence[StoredMetric],
        batch: dict[int, list[Entry]],
        last_put: float,
    ) -> None:
        """In one transaction: register `new_metrics`, append each metric's samples of the
        batch (mid -> samples in arrival order) as one chunk, and set their last put time."""
        db = self._db
        db.execute("BEGIN")
        try:
            if new_metrics:
                db.executemany(
                    "INSERT INTO metrics (id, account, region, namespace, name, dimensions,"
                    " last_put) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [_metric_row(m) for m in new_metrics],
                )
            db.executemany(
                "INSERT INTO chunks (mid, newest, unit, units, times, kinds, vals)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [encode_chunk(mid, entries) for mid, entries in batch.items() if entries],
            )
            db.executemany(
                "UPDATE metrics SET last_put = ? WHERE id = ?", [(last_put, m) for m in batch]
            )
            db.execute("COMMIT")  # may fail too (a full disk): then nothing is kept
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def metrics(self) -> Iterator[StoredMetric]:
        for mid, account, region, namespace, name, dims, last_put in self._db.execute(
            "SELECT id, account, region, namespace, name, dimensions, last_put FROM metrics"
        ):
            dimensions = tuple((str(n), str(v)) for n, v in json.loads(dims))
            yield StoredMetric(
                int(mid), Scope(account, region), MetricKey(namespace, name, dimensions),
                float(last_put),
            )  # fmt: skip

    def chunks(self, since: float = -float("inf")) -> Iterator[tuple[int, Iterator[Entry]]]:
        """(mid, its samples) of every chunk holding a sample at or after `since`, in the
        order they were appended; samples before `since` are left out."""
        cursor = self._db.execute(
            "SELECT mid, unit, units, times, kinds, vals FROM chunks WHERE newest >= ? ORDER BY id",
            (since,),
        )
        while rows := cursor.fetchmany(1000):
            for mid, unit, units, times, kinds, vals in rows:
                entries = decode_chunk(unit, units, times, kinds, vals)
                yield mid, (e for e in entries if e[0] >= since)

    def count(self) -> int:
        """How many samples the log holds."""
        row = self._db.execute("SELECT SUM(LENGTH(times)) FROM chunks").fetchone()
        return int(row[0] or 0) // 8

    def expire(self, before: float, dropped: Sequence[int] = ()) -> None:
        """Delete the chunks whose samples are all older than `before`, and the metrics
        `dropped` with their chunks."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM chunks WHERE newest < ?", (before,))
            if dropped:
                ids = json.dumps(list(dropped))
                for table, column in (("chunks", "mid"), ("metrics", "id")):
                    db.execute(
                        f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",
                        (ids,),
                    )
            db.execute("COMMIT")  # may fail too (a full disk): then nothing is kept
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def clear(self) -> None:
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM chunks")
        db.execute("DELETE FROM metrics")
        db.execute("COMMIT")


def _metric_row(m: StoredMetric) -> tuple[int, str, str, str, str, str, float]:
    return (
        m.mid, m.scope.account_id, m.scope.region, m.key.namespace, m.key.name,
        json.dumps(m.key.dimensions), m.last_put,
    )  # fmt: skip
