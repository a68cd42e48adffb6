"""PostgreSQL store: one autocommitted statement per write, versioned schema, reconnects.

A write returns once PostgreSQL has committed it, so a killed server loses nothing it
acknowledged. If the connection drops (the database restarted), the next call reconnects
once and retries: every write is idempotent (an upsert or a delete), so a retry is safe.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from dockyard.store.base import StoreError, StoreUnavailable
from dockyard.store.migrations import POSTGRES_MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

T = TypeVar("T")

URL_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
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


class PostgresStore:
    def __init__(self, url: str) -> None:
        if urlsplit(url).scheme not in URL_SCHEMES:
            raise StoreError(f"not a PostgreSQL URL (postgresql://...): {redact(url)}")
        self.url = url
        self.display_url = redact(url)
        self._closed = False
        self._conn = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        options: dict[str, Any] = {}
        try:
            params = conninfo_to_dict(self.url)
        except psycopg.Error:
            raise StoreError(f"invalid PostgreSQL URL: {self.display_url}") from None
        if "connect_timeout" not in params:
            options["connect_timeout"] = CONNECT_TIMEOUT
        try:
            return psycopg.connect(self.url, autocommit=True, **options)
        except psycopg.Error as exc:
            reason = str(exc).strip().replace("\n", " ")
            raise StoreUnavailable(
                f"cannot reach the PostgreSQL store at {self.display_url}: {reason}"
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

    def _run(self, op: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T:
        """`op` on the connection; reconnect once and retry if the connection was lost."""
        if self._closed:
            raise RuntimeError(f"store {self.display_url} is closed")
        try:
            return op(self._conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if not (self._conn.closed or self._conn.broken):
                raise
            log.warning(
                "lost the connection to the store %s (%s); reconnecting",
                self.display_url,
                str(exc).strip().replace("\n", " "),
            )
        self._conn.close()
        self._conn = self._connect()
        log.info("reconnected to the store %s", self.display_url)
        return op(self._conn)

    @property
    def schema_version(self) -> int:
        row = self._run(lambda c: c.execute("SELECT version FROM schema_version").fetchone())
        return int(row[0]) if row else 0

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        body = json.dumps(value, separators=(",", ":"))
        self._run(
            lambda c: c.execute(
                "INSERT INTO records (kind, key, body) VALUES (%s, %s, %s) "
                "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                (kind, key, body),
            )
        )

    def delete(self, kind: str, key: str) -> None:
        self._run(
            lambda c: c.execute("DELETE FROM records WHERE kind = %s AND key = %s", (kind, key))
        )

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._run(
            lambda c: c.execute(
                "SELECT body FROM records WHERE kind = %s AND key = %s", (kind, key)
            ).fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        rows = self._run(
            lambda c: c.execute(
                "SELECT key, body FROM records WHERE kind = %s ORDER BY key", (kind,)
            ).fetchall()
        )
        for key, body in rows:
            yield key, json.loads(body)

    def reset(self) -> None:
        self._run(lambda c: c.execute("DELETE FROM records"))

    def close(self) -> None:
        self._closed = True
        self._conn.close()
