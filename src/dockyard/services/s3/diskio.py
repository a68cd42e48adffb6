"""The disk side of object bodies: reusable body buffers, files written front to back, and
folder fsyncs shared by the writes that wait on them at once (group commit).

Bodies are written through the page cache (a GET right after its PUT is served from memory)
and fsynced before the PUT is answered. A body is gathered into a buffer taken from a pool
rather than joined into a new MiB of memory per request: fresh memory costs a page fault
per 4 KiB, which on a virtual machine can cost more than the copy itself.
"""

from __future__ import annotations

import asyncio
import mmap
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


Run = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class _Folder:
    # Settles when the fsync in flight is done (it covers what was renamed before it began).
    running: asyncio.Future[None] | None = None
    # For those who came while one was in flight: the next fsync, shared by all of them.
    waiting: asyncio.Future[None] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class GroupSync:
    """fsync of a folder, shared: a caller waits for an fsync that began after it asked,
    and every caller that asks while one is in flight shares the next one. With N PUTs
    renaming into the same folder at once, the folder is fsynced about twice, not N times."""

    def __init__(self, run: Run, sync: Callable[[Path], None] = fsync_dir) -> None:
        self._run = run
        self._sync = sync
        self._folders: dict[Path, _Folder] = {}
        self.syncs = 0  # fsyncs done (for tests and figures)

    async def sync(self, folder: Path) -> None:
        state = self._folders.get(folder)
        if state is None:
            state = self._folders[folder] = _Folder()
        if state.running is None:
            future = state.running = _future()
            state.task = asyncio.get_running_loop().create_task(self._cycle(folder, state))
        else:
            if state.waiting is None:
                state.waiting = _future()
            future = state.waiting
        # Shielded: one caller giving up must not cancel the fsync the others wait on.
        await asyncio.shield(future)

    async def _cycle(self, folder: Path, state: _Folder) -> None:
        future = state.running
        while future is not None:
            try:
                await self._run(self._sync, folder)
                self.syncs += 1
            except asyncio.CancelledError:  # the server stopping: nobody is answered
                for pending in (future, state.waiting):
                    if pending is not None:
                        pending.cancel()
                self._folders.pop(folder, None)
                raise
            except Exception as exc:  # every waiter of this round sees the failure
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(None)
            future = state.running = state.waiting
            state.waiting = None
        self._folders.pop(folder, None)


def _future() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    # A waiter that gave up leaves no one to read a failure: not worth a warning.
    future.add_done_callback(_consume)
    return future


def _consume(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
