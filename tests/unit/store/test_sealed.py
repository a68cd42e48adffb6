"""Records of secret kinds sealed at rest: nothing of them in clear in the database, every
read gets them back, a sealed body cannot be moved to another record."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from dockyard.store.base import StoreError
from dockyard.store.sealed import SealedStore, load_or_create_key
from dockyard.store.sqlite import SqliteStore

SECRET = "hunter2-s3cr3t"


def sealed(path: Path, key: bytes) -> SealedStore:
    return SealedStore(SqliteStore(path), key, ["ssm.parameter"])


def test_secret_kinds_are_not_in_clear_and_read_back(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "store.key")
    assert stat.S_IMODE(os.stat(tmp_path / "store.key").st_mode) == 0o600
    store = sealed(tmp_path / "db.sqlite3", key)
    store.put("ssm.parameter", "arn:p", {"value": SECRET})
    store.write([("ssm.parameter", "arn:q", {"value": SECRET}), ("ecs.cluster", "c", {"n": 1})])
    assert store.get("ssm.parameter", "arn:p") == {"value": SECRET}
    assert store.committed("ssm.parameter", "arn:q") == {"value": SECRET}
    assert dict(store.load("ssm.parameter")) == {
        "arn:p": {"value": SECRET},
        "arn:q": {"value": SECRET},
    }
    assert store.get("ecs.cluster", "c") == {"n": 1}  # other kinds as they were
    store.close()
    for name in ("db.sqlite3", "db.sqlite3-wal"):
        if (tmp_path / name).exists():
            assert SECRET.encode() not in (tmp_path / name).read_bytes()
    # Reopened with the same key (a restart): the same records.
    again = sealed(tmp_path / "db.sqlite3", load_or_create_key(tmp_path / "store.key"))
    assert again.get("ssm.parameter", "arn:p") == {"value": SECRET}


def test_a_sealed_body_cannot_be_moved_or_read_with_another_key(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    key = os.urandom(32)
    store = sealed(path, key)
    store.put("ssm.parameter", "arn:p", {"value": SECRET})
    store.close()
    db = sqlite3.connect(path)
    body = db.execute("SELECT body FROM records WHERE key = 'arn:p'").fetchone()[0]
    db.execute(
        "INSERT INTO records (kind, key, body) VALUES ('ssm.parameter', 'arn:other', ?)", (body,)
    )
    db.commit()
    db.close()
    same_key = sealed(path, key)
    assert same_key.get("ssm.parameter", "arn:p") == {"value": SECRET}
    with pytest.raises(StoreError, match="cannot be unsealed"):
        same_key.get("ssm.parameter", "arn:other")  # bound to the record it was sealed for
    other_key = sealed(path, load_or_create_key(tmp_path / "k1"))
    with pytest.raises(StoreError, match="cannot be unsealed"):
        other_key.get("ssm.parameter", "arn:p")  # another server's key


def test_records_written_before_sealing_are_read_and_sealed_on_their_next_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    plain = SqliteStore(path)
    plain.put("ssm.parameter", "arn:p", {"value": SECRET})
    plain.close()
    store = sealed(path, os.urandom(32))
    assert store.get("ssm.parameter", "arn:p") == {"value": SECRET}
    store.put("ssm.parameter", "arn:p", {"value": SECRET})
    assert "sealed" in (SqliteStore(path).get("ssm.parameter", "arn:p") or {})
