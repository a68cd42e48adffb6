"""A write the store refuses (here SQLite with its pages capped, as on a full disk) commits
nothing, raises `StoreUnavailable`, and a record changed in place goes back to its committed
state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dockyard.store import SqliteStore, StoreUnavailable
from dockyard.store.base import is_unavailable
from dockyard.store.undo import put_record


@dataclass(slots=True)
class Thing:
    name: str
    size: int
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Watched:
    name: str
    size: int
    seen_by: list[str] = field(default_factory=list)  # runtime only: not stored

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size}


def full(store: SqliteStore) -> None:
    """No page can be added any more: the next write that needs one fails as on a full disk."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")


def test_full_database_refuses_the_whole_write(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.put("k", "kept", {"n": 1})
    full(store)
    big = [("k", f"new-{i}", {"pad": "x" * 2000}) for i in range(50)]
    with pytest.raises(StoreUnavailable, match="database or disk is full"):
        store.write(puts=big, deletes=[("k", "kept")])
    assert list(store.load("k")) == [("kept", {"n": 1})]  # nothing of it, not even the delete
    assert store.committed("k", "new-0") is None
    store.put("k", "kept", {"n": 2})  # a write that fits in the free space still works
    assert store.get("k", "kept") == {"n": 2}


def test_a_record_changed_in_place_is_rolled_back(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    thing = Thing("a", 1, {"team": "blue"})
    put_record(store, "thing", "a", thing, lambda b: Thing(**b))
    full(store)
    thing.size = 2
    thing.tags["pad"] = "x" * 100_000  # too big for the free pages
    with pytest.raises(StoreUnavailable):
        put_record(store, "thing", "a", thing, lambda b: Thing(**b))
    assert thing == Thing("a", 1, {"team": "blue"})
    assert store.get("thing", "a") == {"name": "a", "size": 1, "tags": {"team": "blue"}}


def test_rollback_keeps_fields_that_are_not_stored(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    watched = Watched("w" * 10, 1)
    put_record(store, "w", "1", watched, lambda b: Watched(**b))
    full(store)
    watched.seen_by.append("agent-1")
    watched.name = "w" * 200_000
    with pytest.raises(StoreUnavailable):
        put_record(store, "w", "1", watched, lambda b: Watched(**b))
    assert watched.name == "w" * 10
    assert watched.seen_by == ["agent-1"]


def test_a_new_record_refused_is_left_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    full(store)
    thing = Thing("n", 5, {"pad": "x" * 100_000})
    with pytest.raises(StoreUnavailable):
        put_record(store, "thing", "n", thing, lambda b: Thing(**b))
    assert thing.size == 5 and store.get("thing", "n") is None


def test_storage_failures_are_told_from_bugs(tmp_path: Path) -> None:
    import errno
    import sqlite3

    store = SqliteStore(tmp_path / "s.db")
    with pytest.raises(sqlite3.OperationalError) as bug:
        store._db.execute("SELECT nope FROM nowhere")
    assert not is_unavailable(bug.value)
    full(store)
    with pytest.raises(sqlite3.OperationalError) as disk:
        store._db.execute("INSERT INTO records VALUES ('k', 'x', ?)", ("x" * 100_000,))
    assert is_unavailable(disk.value)
    assert is_unavailable(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_unavailable(OSError(errno.ENOENT, "No such file"))
