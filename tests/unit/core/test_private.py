"""The data dir's modes: dirs 0700, files 0600, SQLite's journals too, whatever the umask."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from dockyard.core.private import private_dir, private_sqlite, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_wide_data_dir_is_narrowed_and_files_are_written_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        data = tmp_path / "data"
        data.mkdir(mode=0o755)
        assert private_dir(data) == data
        assert mode(data) == 0o700
        assert mode(private_dir(tmp_path / "new" / "dir")) == 0o700
        target = data / "state.json"
        target.write_text("old")
        os.chmod(target, 0o644)
        write_private(target, "new")
        assert (target.read_text(), mode(target)) == ("new", 0o600)
    finally:
        os.umask(old)


def test_sqlite_files_and_their_journals_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "x.sqlite3"
        wal = tmp_path / "x.sqlite3-wal"
        wal.write_bytes(b"")
        os.chmod(wal, 0o644)  # left by an older version
        private_sqlite(str(path))
        assert mode(wal) == 0o600
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
        db.commit()
        files = sorted(tmp_path.glob("x.sqlite3*"))
        assert len(files) == 3
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        db.close()
    finally:
        os.umask(old)
