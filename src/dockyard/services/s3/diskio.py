"""The disk side of object bodies: reusable body buffers, files written front to back, and
folder fsyncs shared by the writes that wait on them at once (group commit).

Bodies are written through the page cache (a GET right after its PUT is served from memory)
and fsynced before the PUT is answered. A body is gathered into a buffer taken from a pool
rather than joined into a new MiB of memory per request: fresh memory costs a page fault
per 4 KiB, which on a virtual machine can cost more than the copy itself.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class Buffers:
    """A pool of page-aligned buffers of `size` bytes, at most `keep` of them kept."""

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self.keep = keep
        self._free: list[mmap.mmap] = []

    def take(self) -> mmap.mmap:
        return self._free.pop() if self._free else mmap.mmap(-1, self.size)

    def give(self, buf: mmap.mmap | None) -> None:
        if buf is not None and len(self._free) < self.keep:
            self._free.append(buf)
        # else dropped: unmapped once no view of it is left

    def __len__(self) -> int:
        return len(self._free)


@dataclass(slots=True)
class Sink:
    """A file being written front to back (created at its first write)."""

    path: Path
    fd: int = -1
    size: int = 0

    def write(self, buf: mmap.mmap, length: int) -> None:
        """Append `buf[:length]`."""
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        _write_all(self.fd, memoryview(buf)[:length], self.size)
        self.size += length

    def finish(self) -> None:
        """fsync (bytes and metadata) and close; an empty body still makes its file."""
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fsync(self.fd)
        finally:
            self.close()

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


def _write_all(fd: int, view: memoryview, offset: int) -> None:
    while view:
        written = os.pwrite(fd, view, offset)
        offset += written
        view = view[written:]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FolderSync:
    """fsync of a folder, shared by the threads that ask at once (group commit): a caller
    returns once an fsync that began after it asked has ended, and all who ask while one is
    in flight share the next one. With N PUTs renaming into the same folder at once, the
    folder is fsynced about twice, not N times. A failed fsync raises in the thread that ran
    it; those waiting on it run their own."""

    def __init__(self, sync: Callable[[Path], None] = fsync_dir) -> None:
        self._sync = sync
        self._lock = threading.Lock()
        self._folders: dict[Path, _Folder] = {}
        self._made: set[Path] = set()  # folders whose own entry is known durable
        self.syncs = 0  # fsyncs done (for tests and figures)

    def ensure(self, folder: Path) -> None:
        """`folder` exists and its entry in its parent is durable. Every thread that has not
        seen that done does it itself (a thread that only saw the folder exist could
        otherwise acknowledge a file in a folder that a power loss takes away)."""
        if folder in self._made:
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.sync(folder.parent)
        self._made.add(folder)

    def sync(self, folder: Path) -> None:
        with self._lock:
            state = self._folders.get(folder)
            if state is None:
                state = self._folders[folder] = _Folder(threading.Condition(self._lock))
            state.asked += 1
            mine = state.asked
            state.users += 1
            try:
                while state.done < mine:
                    if state.running:
                        state.changed.wait()
                        continue
                    state.running = True
                    covers = state.asked  # everything asked so far is renamed already
                    self._lock.release()
                    try:
                        self._sync(folder)
                    finally:
                        self._lock.acquire()
                        state.running = False
                        state.changed.notify_all()
                    state.done = max(state.done, covers)
                    self.syncs += 1
            finally:
                state.users -= 1
                if state.users == 0:
                    del self._folders[folder]


@dataclass(slots=True)
class _Folder:
    changed: threading.Condition
    asked: int = 0  # requests so far
    done: int = 0  # requests covered by a finished fsync
    running: bool = False
    users: int = 0
