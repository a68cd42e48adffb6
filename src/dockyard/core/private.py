"""Files only the user running Dockyard may read: the data dir 0700, what is written in it 0600.

The server and the agent set `PROCESS_UMASK` at start, so whatever any library creates under
the data dir (SQLite's -wal and -shm files, temporary files) is private too; the helpers here
set the modes explicitly besides, so a module used on its own (tests, tools) writes the same.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PROCESS_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask() -> None:
    """New files and directories of this process: no access for group and others."""
    os.umask(PROCESS_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) 0700; narrow it to 0700 if it has wider modes."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, DIR_MODE)
        log.warning("%s was readable by others (mode %o); narrowed to 0700", path, mode)
    return path


def private_file(path: Path | str) -> None:
    """Create `path` empty and 0600 if missing; narrow it to 0600 if it exists wider."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable by this user only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an old .tmp left wider by an earlier version
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk: leave the last good file, not half a one
        raise
    finally:
        if fd >= 0:
            os.close(fd)


def private_sqlite(path: str) -> None:
    """Before opening a SQLite database: it and its journals 0600 (SQLite creates the -wal
    and -shm files with the database file's modes)."""
    if path == ":memory:" or path.startswith("file:"):
        return
    if not Path(path).parent.exists():
        private_dir(Path(path).parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        with_suffix = path + suffix
        if os.path.exists(with_suffix) and stat.S_IMODE(os.stat(with_suffix).st_mode) & 0o077:
            os.chmod(with_suffix, FILE_MODE)
