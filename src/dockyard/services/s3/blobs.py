"""Object bytes on disk, under `<data dir>/s3/`: never in the store, never whole in memory.

Every object version and every uploaded part is a file of its own, named once and never
rewritten: bytes are streamed into `tmp/<random>` while they are hashed, fsynced, then
renamed into `objects/` (or `parts/`), and only then is the metadata committed. A file whose
record was never committed (a crash in between) is an orphan, removed at start with every
temp file. All blocking file work runs on a small executor of its own, never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mmap
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dockyard.services.s3.checksums import Hasher, hasher
from dockyard.services.s3.diskio import Buffers, FolderSync, Sink
from dockyard.services.s3.model import ChecksumAlgorithm

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bytes gathered before a write (and hashing) is handed to the executor.
WRITE_BATCH = 1024 * 1024
READ_CHUNK = 1024 * 1024
# Up to this many bytes are hashed on the loop itself (microseconds), not on a thread.
INLINE_HASH = 16 * 1024
# New files renamed into one folder before the next one is picked.
SHARD_FILES = 1024
# File work in flight at once, over all requests (mostly waiting on fsync, not on a CPU).
WORKERS = 16


@dataclass(slots=True)
class Written:
    """A body stored in a temp file, with what was computed while writing it."""

    tmp: Path  # where the file is now (in place already when `name` is set)
    size: int
    md5: str  # hex
    sha256: str | None
    checksums: dict[ChecksumAlgorithm, str] = field(default_factory=dict)
    # Its name under the root once renamed into place (durably) by `write(kind=...)`.
    name: str | None = None


class _Digests:
    def __init__(self, algorithms: Iterable[ChecksumAlgorithm], sha256: bool) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256() if sha256 else None
        self.flexible: dict[ChecksumAlgorithm, Hasher] = {a: hasher(a) for a in algorithms}

    def updates(self) -> list[Callable[[memoryview], None]]:
        found: list[Callable[[memoryview], None]] = [self.md5.update]
        if self.sha256 is not None:
            found.append(self.sha256.update)
        found.extend(h.update for h in self.flexible.values())
        return found


class Blobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.objects = root / "objects"
        self.parts = root / "parts"
        for folder in (root, self.tmp, self.objects, self.parts):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(folder, 0o700)
        self.executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="s3-files")
        self.buffers = Buffers(WRITE_BATCH, keep=2 * WORKERS)
        self.folder_sync = FolderSync()
        self._shards: dict[str, tuple[str, int]] = {}

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # -- writing -----------------------------------------------------------------------------

    async def write(
        self,
        chunks: AsyncIterator[bytes],
        algorithms: Iterable[ChecksumAlgorithm],
        sha256: bool,
        kind: str | None = None,
    ) -> Written:
        """Stream `chunks` into a new temp file (0600), hashing as it goes; fsynced. With a
        `kind` ("objects", "parts") the file is also renamed into place and its folder
        fsynced in the same last step (`publish` then has nothing left to do): until its
        record is committed it is a file no record names, removed by `discard` or at start.

        The body is gathered into reused buffers of a MiB (one copy), each written and
        hashed on executor threads at once while the next one fills; one write in flight
        per upload, so memory stays bounded. A body of up to a MiB is one step off the
        loop (create, write, fsync, close) beside its digests."""
        tmp = self.tmp / secrets.token_hex(16)
        digests = _Digests(algorithms, sha256)
        sink = Sink(tmp)
        buf = self.buffers.take()
        filled = 0
        # The step in flight (its threads own `sink` and `in_flight` until it is done).
        pending: asyncio.Future[None] | None = None
        in_flight: mmap.mmap | None = None
        final: Path | None = None
        try:
            async for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    if filled == WRITE_BATCH:
                        # Full, and more is coming: hand it off, fill the next.
                        if pending is not None:
                            await asyncio.shield(pending)
                            self.buffers.give(in_flight)
                        in_flight, pending = buf, self._flush(sink, buf, filled, digests)
                        buf, filled = self.buffers.take(), 0
                    n = min(len(view), WRITE_BATCH - filled)
                    buf[filled : filled + n] = view[:n]
                    filled += n
                    view = view[n:]
            if pending is not None:
                await asyncio.shield(pending)
                self.buffers.give(in_flight)
                in_flight = None
            final = self.root / self._new_name(kind) if kind is not None else None
            pending = self._flush(sink, buf, filled, digests, last=True, final=final)
            await asyncio.shield(pending)
            pending = None
            self.buffers.give(buf)
        except BaseException:
            # No file or buffer may be let go while a thread still works on it (a closed
            # descriptor's number is soon another file's); buffers of a failed body are
            # not reused.
            if pending is not None:
                await asyncio.gather(pending, return_exceptions=True)
            await self.run(_close_and_unlink, sink, final)
            raise
        return Written(
            tmp=final or tmp,
            name=str(final.relative_to(self.root)) if final is not None else None,
            size=sink.size,
            md5=digests.md5.hexdigest(),
            sha256=digests.sha256.hexdigest() if digests.sha256 is not None else None,
            checksums={a: h.b64() for a, h in digests.flexible.items()},
        )

    def _flush(
        self,
        sink: Sink,
        buf: mmap.mmap,
        filled: int,
        digests: _Digests,
        *,
        last: bool = False,
        final: Path | None = None,
    ) -> asyncio.Future[None]:
        """Each digest and the write of a buffer at once, on executor threads of their own
        (hashlib releases the GIL): MD5 alone would bound a PUT to one core's speed. The
        last one also fsyncs and closes the file in the same step."""
        data = memoryview(buf)[:filled]
        jobs = []
        if filled <= INLINE_HASH:  # a small body: hashed here, cheaper than a thread hop
            for update in digests.updates():
                update(data)
        else:
            jobs = [self.run(update, data) for update in digests.updates()]
        if last:
            jobs.append(self.run(_write_last, sink, buf, filled, final, self.folder_sync))
        else:
            jobs.append(self.run(_write_more, sink, buf, filled))

        async def together() -> None:
            await asyncio.gather(*jobs)

        return asyncio.ensure_future(together())

    async def publish(self, written: Written, kind: str) -> str:
        """Rename a written temp file into place under a new unique name (returned), then
        fsync its folder (PUTs renaming into the same folder at once share that fsync), in
        one step; nothing to do for a file `write` already put in place."""
        if written.name is not None:
            return written.name
        name = self._new_name(kind)
        await self.run(_place, written.tmp, self.root / name, self.folder_sync)
        return name

    def _new_name(self, kind: str) -> str:
        return f"{kind}/{self._shard(kind)}/{secrets.token_hex(16)}"

    def _shard(self, kind: str) -> str:
        """The folder new files of `kind` go to: the same one for SHARD_FILES files in a
        row (so concurrent PUTs share a folder fsync), then a new random one."""
        shard, used = self._shards.get(kind, ("", SHARD_FILES))
        if used >= SHARD_FILES:
            shard, used = secrets.token_hex(2), 0
        self._shards[kind] = (shard, used + 1)
        return shard

    async def concat(self, names: list[str]) -> Path:
        """The files `names`, one after the other, in a new fsynced temp file (copied by
        the kernel: nothing passes through this process's memory)."""
        tmp = self.tmp / secrets.token_hex(16)
        try:
            await self.run(_concat, [self.root / n for n in names], tmp)
        except BaseException:
            await self.discard(tmp)
            raise
        return tmp

    async def copy(self, name: str) -> Path:
        return await self.concat([name])

    async def discard(self, tmp: Path) -> None:
        await self.run(_unlink, tmp)

    async def remove(self, names: Iterable[str]) -> None:
        paths = [self.root / n for n in names]
        if paths:
            await self.run(_unlink_all, paths)

    # -- reading -----------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.root / name

    async def open(self, name: str) -> int:
        return await self.run(os.open, self.root / name, os.O_RDONLY)

    async def stream(
        self, name: str, start: int, length: int, status: int | None = None
    ) -> FileStream:
        """`length` bytes of the file `name` from `start`, its first piece already read."""
        fd, first = await self.run(_open_range, self.root / name, start, length)
        return FileStream(self, fd, start, length, status, first)

    # -- start ---------------------------------------------------------------------------

    def sweep(self, referenced: set[str]) -> int:
        """Remove temp files and files no committed record names (at start, before any
        request). Returns how many went."""
        gone = 0
        for entry in self.tmp.iterdir():
            _unlink(entry)
            gone += 1
        for top in (self.objects, self.parts):
            for folder in top.iterdir():
                for entry in folder.iterdir():
                    if f"{top.name}/{folder.name}/{entry.name}" not in referenced:
                        _unlink(entry)
                        gone += 1
        if gone:
            log.info("removed %d unfinished or unreferenced S3 files", gone)
        return gone

    def close(self) -> None:
        self.executor.shutdown(wait=False)


class FileStream:
    """A byte range of a stored file, read in pieces off the loop (a GetObject body). Its
    first piece is read when it is opened, in the same step: a body of up to a MiB costs
    one trip to the executor (open, read, close)."""

    def __init__(
        self,
        blobs: Blobs,
        fd: int | None,
        start: int,
        length: int,
        status: int | None,
        first: bytes = b"",
    ):
        self.blobs = blobs
        self.fd = fd
        self.start = start
        self.length = length
        self.status = status
        self._first = first

    async def chunks(self) -> AsyncIterator[bytes]:
        first, self._first = self._first, b""
        offset, left = self.start + len(first), self.length - len(first)
        if first:
            yield first
        while left > 0 and self.fd is not None:
            data = await self.blobs.run(os.pread, self.fd, min(READ_CHUNK, left), offset)
            if not data:
                return
            offset += len(data)
            left -= len(data)
            yield data

    async def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            await self.blobs.run(os.close, fd)


def _open_range(path: Path, start: int, length: int) -> tuple[int | None, bytes]:
    """Open a stored file and read the first piece of `length` bytes from `start`; the file
    is closed already (None) when that piece is all of them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        first = os.pread(fd, min(READ_CHUNK, length), start) if length > 0 else b""
    except BaseException:
        os.close(fd)
        raise
    if len(first) >= length:
        os.close(fd)
        return None, first
    return fd, first


def _write_more(sink: Sink, buf: mmap.mmap, filled: int) -> None:
    sink.write(buf, filled)


def _write_last(
    sink: Sink, buf: mmap.mmap, filled: int, final: Path | None, folders: FolderSync
) -> None:
    if filled:
        sink.write(buf, filled)
    sink.finish()
    if final is not None:
        _place(sink.path, final, folders)


def _close_and_unlink(sink: Sink, final: Path | None) -> None:
    sink.close()
    _unlink(sink.path)
    if final is not None:
        _unlink(final)


def _place(tmp: Path, final: Path, folders: FolderSync) -> None:
    """Rename into place and fsync the folder (shared); a new folder is made durable in its
    parent first."""
    folders.ensure(final.parent)
    os.rename(tmp, final)
    folders.sync(final.parent)


def _concat(sources: list[Path], tmp: Path) -> None:
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        offset = 0
        for source in sources:
            fd = os.open(source, os.O_RDONLY)
            try:
                left = os.fstat(fd).st_size
                src_offset = 0
                while left > 0:
                    n = os.copy_file_range(fd, out, left, src_offset, offset)
                    if n == 0:
                        break
                    src_offset += n
                    offset += n
                    left -= n
            finally:
                os.close(fd)
        os.fsync(out)
    finally:
        os.close(out)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        _unlink(path)
