"""The `Store` contract, run against SQLite and PostgreSQL alike (see conftest.py)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable

import pytest

from dockyard.store import Store, StoreError
from dockyard.store.migrations import SCHEMA_VERSION
from tests.unit.store.conftest import Backend


def test_put_get_load_delete(backend: Backend) -> None:
    store = backend.open()
    store.put("k", "b", {"n": 2})
    store.put("k", "a", {"n": 1})
    store.put("other", "a", {"n": 9})
    store.put("k", "a", {"n": 3})  # replaces
    assert store.get("k", "a") == {"n": 3}
    assert list(store.load("k")) == [("a", {"n": 3}), ("b", {"n": 2})]
    store.delete("k", "a")
    assert store.get("k", "a") is None
    store.delete("k", "a")  # deleting what is not there is no error
    store.reset()
    assert list(store.load("other")) == []
    assert list(store.load("k")) == []


def test_load_is_in_byte_wise_key_order(backend: Backend) -> None:
    store = backend.open()
    keys = ["b", "B", "a-b", "ab", "a", "Z", "é"]
    keys += ["arn:aws:ecs:x:cluster/a_b", "arn:aws:ecs:x:cluster/a-c"]
    for key in keys:
        store.put("k", key, {"key": key})
    assert [key for key, _ in store.load("k")] == sorted(keys)


def test_documents_round_trip_exactly(backend: Backend) -> None:
    value = {
        "z": 1,
        "a": [1, 2.5, -0.0, 1e300, None, True, False, "", {}],
        "text": "naïve ☃ \u0000 'quoted' \"double\" \\ back",
        "big": 2**62,
        "when": 1_700_000_000.123456,
        "nested": {"b": {"c": [{"d": "e"}]}},
    }
    store = backend.open()
    store.put("k", "x", value)
    got = store.get("k", "x")
    assert got == value
    assert got is not None and list(got) == list(value)  # key order kept
    assert list(backend.open().load("k")) == [("x", value)]


def test_another_store_on_the_same_database_sees_the_writes(backend: Backend) -> None:
    first = backend.open()
    first.put("ecs.cluster", "arn:1", {"name": "one"})
    first.close()
    second = backend.open()
    assert second.get("ecs.cluster", "arn:1") == {"name": "one"}
    assert second.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]


def test_schema_version_recorded_and_newer_refused(backend: Backend) -> None:
    store = backend.open()
    assert store.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
    backend.set_schema_version(store, SCHEMA_VERSION + 1)
    store.close()
    with pytest.raises(StoreError, match="newer than this Dockyard"):
        backend.open()


def _write_then_die(open_store: Callable[[], Store]) -> None:
    store = open_store()
    for i in range(100):
        store.put("k", f"{i:03}", {"i": i})
    os.kill(os.getpid(), signal.SIGKILL)


def test_writes_survive_a_killed_process(backend: Backend) -> None:
    proc = mp.get_context("fork").Process(target=_write_then_die, args=(backend.open,))
    proc.start()
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    rows = list(backend.open().load("k"))
    assert len(rows) == 100
    assert rows[-1] == ("099", {"i": 99})


def test_write_commits_puts_and_deletes_together(backend: Backend) -> None:
    store = backend.open()
    store.put("k", "old", {"n": 0})
    store.write(puts=[("k", "a", {"n": 1}), ("j", "b", {"n": 2})], deletes=[("k", "old")])
    assert list(store.load("k")) == [("a", {"n": 1})]
    assert store.get("j", "b") == {"n": 2}
    assert store.committed("k", "a") == {"n": 1}
    assert store.committed("k", "old") is None
    store.write()  # nothing to write is no error
    other = backend.open()
    assert other.get("k", "old") is None and other.get("j", "b") == {"n": 2}


def test_committed_answers_what_was_last_read_or_written(backend: Backend) -> None:
    store = backend.open()
    store.put("k", "a", {"n": 1})
    again = backend.open()
    assert again.committed("k", "a") is None  # not seen yet
    assert list(again.load("k")) == [("a", {"n": 1})]
    assert again.committed("k", "a") == {"n": 1}
    again.reset()
    assert again.committed("k", "a") is None
