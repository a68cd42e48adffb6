"""PostgreSQL store: one transaction per write, versioned schema, reconnects, bounded waits.

A write returns once PostgreSQL has committed it, so a killed server loses nothing it
acknowledged; a write that raises committed nothing. All I/O runs on one worker thread that
owns the connection, never on the caller's thread (the server's event loop):

- a healthy call blocks its caller for one round trip to the database, and never more
  than `CALL_TIMEOUT` seconds: a write not answered by then is cancelled (rolled back,
  never committed later) and the caller gets `StoreUnavailable`; while the worker is
  still stuck on it, further calls fail at once instead of queueing behind it;
- a connection found broken is replaced on the worker; the caller waits for that at most
  `RECONNECT_WAIT` seconds, then gets `StoreUnavailable` (a 503 for the client) while the
  worker keeps trying: an unreachable database never stalls the loop for a connect timeout;
- a statement in flight is bounded by `statement_timeout`, and a dead peer by TCP keepalives
  and `tcp_user_timeout`, so a call never waits forever.

Every write is idempotent (upserts and deletes in one transaction), so a client retry after
a 503 is safe.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from dockyard.store.base import Committed, Delete, Put, StoreError, StoreUnavailable
from dockyard.store.migrations import POSTGRES_MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

T = TypeVar("T")

URL_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT = 5  # seconds, unless the URL says otherwise
RECONNECT_WAIT = 1.0  # seconds a caller waits for a reconnect before answering unavailable
CALL_TIMEOUT = 2.0  # seconds a caller waits for its statement before answering unavailable
# libpq parameters, unless the URL says otherwise: a statement is cut after 10 s, and a dead
# peer is noticed in about 10 s instead of the kernel's two hours.
STATEMENT_TIMEOUT_S = 10
SESSION_DEFAULTS: dict[str, Any] = {
    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}",
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10000,
}
UPSERT = (
    "INSERT INTO records (kind, key, body) VALUES (%s, %s, %s) "
    "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
# Held while migrating, so two servers starting on one database migrate it once.
MIGRATION_LOCK = 0x646F636B79617264  # "dockyard"


def redact(url: str) -> str:
    """`url` without its password (in the user part or a `password=` parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}@{hosts}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Ticket:
    """A write's race between the worker reaching COMMIT and its caller giving up: exactly
    one wins. A cancelled write rolls back; once committing, the caller waits for the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "pending"

    def start_commit(self) -> bool:
        with self._lock:
            if self._state == "cancelled":
                return False
            self._state = "committing"
            return True

    def cancel(self) -> bool:
        with self._lock:
            if self._state == "committing":
                return False
            self._state = "cancelled"
            return True


def _reason(exc: BaseException) -> str:
    return str(exc).strip().replace("\n", " ")


class PostgresStore:
    def __init__(self, url: str) -> None:
        if urlsplit(url).scheme not in URL_SCHEMES:
            raise StoreError(f"not a PostgreSQL URL (postgresql://...): {redact(url)}")
        self.url = url
        self.display_url = redact(url)
        self._closed = False
        self._committed = Committed()
        # One worker thread owns the connection: calls run one at a time, in order.
        self._worker = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="dockyard-postgres"
        )
        self._reconnecting: concurrent.futures.Future[None] | None = None
        self._stuck: concurrent.futures.Future[Any] | None = None  # a call given up on
        self._lock = threading.Lock()
        self._conn = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            self._worker.shutdown(wait=False)
            raise

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            params = conninfo_to_dict(self.url)
        except psycopg.Error:
            raise StoreError(f"invalid PostgreSQL URL: {self.display_url}") from None
        options: dict[str, Any] = {k: v for k, v in SESSION_DEFAULTS.items() if k not in params}
        if "connect_timeout" not in params:
            options["connect_timeout"] = CONNECT_TIMEOUT
        try:
            return psycopg.connect(self.url, autocommit=True, **options)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot reach the PostgreSQL store at {self.display_url}: {_reason(exc)}"
            ) from None

    def _migrate(self) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            row = self._conn.execute("SELECT version FROM schema_version").fetchone()
            current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"database {self.display_url} has schema version {current}, newer than "
                    f"this Dockyard ({SCHEMA_VERSION}); upgrade Dockyard or use another --store"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in POSTGRES_MIGRATIONS[version]:
                    self._conn.execute(statement)
                self._conn.execute("DELETE FROM schema_version")
                self._conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
                log.info("store %s migrated to schema version %d", self.display_url, version)

    def _reconnect(self) -> None:
        """On the worker: replace the broken connection."""
        self._conn.close()
        self._conn = self._connect()
        log.info("reconnected to the store %s", self.display_url)

    def _ensure_connected(self) -> None:
        """On the caller: if the connection is broken, have the worker reconnect, and wait
        for that at most RECONNECT_WAIT seconds (it carries on in the background)."""
        with self._lock:
            pending = self._reconnecting
            if pending is None or pending.done():
                if not (self._conn.closed or self._conn.broken):
                    return
                pending = self._reconnecting = self._worker.submit(self._reconnect)
        try:
            pending.result(timeout=RECONNECT_WAIT)
        except concurrent.futures.TimeoutError:
            raise StoreUnavailable(
                f"cannot reach the PostgreSQL store at {self.display_url}: still reconnecting"
            ) from None

    def _call(
        self, op: Callable[[psycopg.Connection[tuple[Any, ...]]], T], ticket: Ticket | None
    ) -> T:
        """`op` on the worker, waited for at most CALL_TIMEOUT seconds (see the module doc)."""
        stuck = self._stuck
        if stuck is not None and not stuck.done():
            raise StoreUnavailable(f"the PostgreSQL store at {self.display_url} is not answering")
        future = self._worker.submit(lambda: op(self._conn))
        try:
            return future.result(timeout=CALL_TIMEOUT)
        except concurrent.futures.TimeoutError:
            if ticket is not None and not ticket.cancel():
                return future.result()  # already committing: its outcome is the answer
            future.cancel()
            self._stuck = future
            raise StoreUnavailable(
                f"the PostgreSQL store at {self.display_url} did not answer within "
                f"{CALL_TIMEOUT:g} s"
            ) from None

    def _run(
        self, op: Callable[[psycopg.Connection[tuple[Any, ...]]], T], ticket: Ticket | None = None
    ) -> T:
        """`op` on the worker's connection. A lost connection is replaced and `op` retried
        once (every op is one idempotent transaction); any other database failure is
        `StoreUnavailable`, with nothing committed."""
        if self._closed:
            raise RuntimeError(f"store {self.display_url} is closed")
        for attempt in (1, 2):
            self._ensure_connected()
            try:
                return self._call(op, ticket)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                lost = self._conn.closed or self._conn.broken
                if lost and attempt == 1:
                    log.warning(
                        "lost the connection to the store %s (%s); reconnecting",
                        self.display_url,
                        _reason(exc),
                    )
                    continue
                raise StoreUnavailable(
                    f"cannot reach the PostgreSQL store at {self.display_url}: {_reason(exc)}"
                ) from None
        raise AssertionError("unreachable")

    @property
    def schema_version(self) -> int:
        row = self._run(lambda c: c.execute("SELECT version FROM schema_version").fetchone())
        return int(row[0]) if row else 0

    def write(self, puts: Iterable[Put] = (), deletes: Iterable[Delete] = ()) -> None:
        rows = [(kind, key, json.dumps(value, separators=(",", ":"))) for kind, key, value in puts]
        gone = list(deletes)
        if not rows and not gone:
            return

        ticket = Ticket()

        def commit(c: psycopg.Connection[tuple[Any, ...]]) -> None:
            with c.transaction(), c.cursor() as cur:
                if gone:
                    cur.executemany("DELETE FROM records WHERE kind = %s AND key = %s", gone)
                if rows:
                    cur.executemany(UPSERT, rows)
                if not ticket.start_commit():
                    raise psycopg.Rollback()  # the caller gave up: it answered "not stored"

        self._run(commit, ticket)
        self._committed.written(rows, gone)

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self.write(puts=[(kind, key, value)])

    def delete(self, kind: str, key: str) -> None:
        self.write(deletes=[(kind, key)])

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT body FROM records WHERE kind = %s AND key = %s", (kind, key)
            ).fetchone()
        )
        self._committed.seen(kind, key, None if row is None else row[0])
        return None if row is None else dict(json.loads(row[0]))

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        rows = self._run(
            lambda c: c.execute(
                "SELECT key, body FROM records WHERE kind = %s ORDER BY key", (kind,)
            ).fetchall()
        )
        for key, body in rows:
            self._committed.seen(kind, key, body)
            yield key, json.loads(body)

    def reset(self) -> None:
        self._run(lambda c: c.execute("DELETE FROM records"))
        self._committed.clear()

    def committed(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._committed.get(kind, key)

    def close(self) -> None:
        self._closed = True
        self._worker.shutdown(wait=True, cancel_futures=True)
        self._conn.close()
