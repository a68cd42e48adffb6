"""What only the PostgreSQL store does: name its database without the password, survive a
database restart, refuse clearly when the database cannot be reached."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from dockyard.store import StoreError, StoreUnavailable
from dockyard.store.migrations import SCHEMA_VERSION
from dockyard.store.postgres import CALL_TIMEOUT, STATEMENT_TIMEOUT_S, PostgresStore, redact
from tests.support.postgres import PASSWORD, PostgresServer, start_postgres
from tests.support.server import free_port
from tests.support.waiting import wait_for


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A private server of this test's own, free to be stopped and restarted."""
    server = start_postgres()
    yield server
    server.destroy()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u@h:5432/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgres://h/db?password=pw&sslmode=require", "postgres://h/db?sslmode=require"),
        ("postgresql://u:p%40w@h1:1,h2:2/db", "postgresql://u@h1:1,h2:2/db"),
    ],
)
def test_redact_leaves_out_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_unreachable_database_named_without_its_password() -> None:
    url = f"postgresql://dockyard:{PASSWORD}@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(StoreUnavailable) as raised:
        PostgresStore(url)
    message = str(raised.value)
    assert f"postgresql://dockyard@127.0.0.1:{url.split(':')[-1]}" in message
    assert "cannot reach the PostgreSQL store" in message
    assert PASSWORD not in message


def test_wrong_password_is_refused_without_showing_it(postgres_url: str) -> None:
    wrong = postgres_url.replace(PASSWORD, "not-the-password")
    with pytest.raises(StoreUnavailable, match="password authentication failed") as raised:
        PostgresStore(wrong)
    assert "not-the-password" not in str(raised.value)


def test_not_a_postgresql_url_is_refused() -> None:
    with pytest.raises(StoreError, match="not a PostgreSQL URL"):
        PostgresStore("mysql://u@h/db")


def test_carries_on_after_the_database_restarts(own_server: PostgresServer) -> None:
    store = PostgresStore(own_server.create_database())
    store.put("k", "before", {"n": 1})
    own_server.restart()
    store.put("k", "after", {"n": 2})  # reconnects instead of failing
    assert list(store.load("k")) == [("after", {"n": 2}), ("before", {"n": 1})]
    own_server.restart()
    assert store.get("k", "before") == {"n": 1}
    store.close()


def test_database_down_is_a_clear_error_until_it_is_back(own_server: PostgresServer) -> None:
    store = PostgresStore(own_server.create_database())
    store.put("k", "a", {"n": 1})
    own_server.stop()
    with pytest.raises(StoreUnavailable, match="cannot reach the PostgreSQL store") as raised:
        store.put("k", "b", {"n": 2})
    assert PASSWORD not in str(raised.value)
    own_server.start()
    store.put("k", "b", {"n": 2})
    assert [key for key, _ in store.load("k")] == ["a", "b"]
    store.close()


def test_servers_starting_together_migrate_the_database_once(postgres_url: str) -> None:
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(PostgresStore(postgres_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [s.schema_version for s in stores] == [SCHEMA_VERSION] * 4
    for store in stores:
        store.close()


def test_a_stuck_write_fails_fast_and_never_commits_later(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    store.put("k", "a", {"n": 1})
    other = psycopg.connect(postgres_url)  # holds the table locked in an open transaction
    try:
        other.execute("LOCK TABLE records IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="did not answer"):
            store.put("k", "a", {"n": 2})
        # Given up on well before PostgreSQL's own statement timeout would cut it.
        assert time.monotonic() - started < STATEMENT_TIMEOUT_S
        with pytest.raises(StoreUnavailable, match="not answering"):
            store.put("k", "b", {"n": 3})  # at once, not queued behind the stuck write
    finally:
        other.rollback()
        other.close()

    def writes_again() -> bool:
        try:
            store.put("k", "c", {"n": 4})
        except StoreUnavailable:
            return False
        return True

    wait_for(writes_again, timeout=30, what="the store to take writes again")
    assert store.get("k", "a") == {"n": 1}  # the cancelled write was rolled back
    assert store.get("k", "b") is None
    assert store.get("k", "c") == {"n": 4}
    assert CALL_TIMEOUT < STATEMENT_TIMEOUT_S
    store.close()
