from __future__ import annotations

import multiprocessing as mp
import os
import signal
from pathlib import Path

import pytest

from dockyard.store import SqliteStore
from dockyard.store.migrations import SCHEMA_VERSION


def test_put_get_load_delete(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.put("k", "b", {"n": 2})
    store.put("k", "a", {"n": 1})
    store.put("other", "a", {"n": 9})
    store.put("k", "a", {"n": 3})  # replaces
    assert store.get("k", "a") == {"n": 3}
    assert list(store.load("k")) == [("a", {"n": 3}), ("b", {"n": 2})]
    store.delete("k", "a")
    assert store.get("k", "a") is None
    store.reset()
    assert list(store.load("other")) == []


def test_schema_version_recorded_and_newer_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    assert store.schema_version == SCHEMA_VERSION
    store._db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    store.close()
    with pytest.raises(RuntimeError, match="newer than this"):
        SqliteStore(tmp_path / "s.db")


def _write_then_die(path: str) -> None:
    store = SqliteStore(path)
    for i in range(100):
        store.put("k", f"{i:03}", {"i": i})
    os.kill(os.getpid(), signal.SIGKILL)


def test_writes_survive_a_killed_process(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    proc = mp.get_context("fork").Process(target=_write_then_die, args=(path,))
    proc.start()
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    rows = list(SqliteStore(path).load("k"))
    assert len(rows) == 100
    assert rows[-1] == ("099", {"i": 99})
