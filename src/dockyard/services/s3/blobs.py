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
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dockyard.services.s3.checksums import Hasher, hasher
from dockyard.services.s3.model import ChecksumAlgorithm

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bytes gathered before a write (and hashing) is handed to the executor.
WRITE_BATCH = 1024 * 1024
READ_CHUNK = 1024 * 1024
# File work in flight at once, over all requests (mostly waiting on fsync, not on a CPU).
WORKERS = 16


@dataclass(slots=True)
class Written:
    """A body stored in a temp file, with what was computed while writing it."""

    tmp: Path
    size: int
    md5: str  # hex
    sha256: str | None
    checksums: dict[ChecksumAlgorithm, str] = field(default_factory=dict)


class _Digests:
    def __init__(self, algorithms: Iterable[ChecksumAlgorithm], sha256: bool) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256() if sha256 else None
        self.flexible: dict[ChecksumAlgorithm, Hasher] = {a: hasher(a) for a in algorithms}

    def update(self, data: bytes) -> None:
        for update in self.updates():
            update(data)

    def updates(self) -> list[Callable[[bytes], None]]:
        found: list[Callable[[bytes], None]] = [self.md5.update]
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

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # -- writing -----------------------------------------------------------------------------

    async def write(
        self,
        chunks: AsyncIterator[bytes],
        algorithms: Iterable[ChecksumAlgorithm],
        sha256: bool,
    ) -> Written:
        """Stream `chunks` into a new temp file (0600), hashing as it goes; fsynced."""
        tmp = self.tmp / secrets.token_hex(16)
        digests = _Digests(algorithms, sha256)
        fd: int | None = None  # opened once a first MiB is there (a small body: one step)
        size = 0
        pending: asyncio.Future[None] | None = None
        batch: list[bytes] = []
        batched = 0
        try:
            try:
                async for chunk in chunks:
                    batch.append(chunk)
                    batched += len(chunk)
                    if batched >= WRITE_BATCH:
                        # One write (and hash) per MiB, in the executor, while the next MiB
                        # arrives; one write in flight per upload, so memory stays bounded.
                        data = b"".join(batch)
                        batch, batched = [], 0
                        size += len(data)
                        if fd is None:
                            fd = await self.run(_create, tmp)
                        if pending is not None:
                            await pending
                        pending = self._write_batch(fd, data, digests)
                if pending is not None:
                    await pending
                    pending = None
                data = b"".join(batch)
                size += len(data)
                if fd is None:
                    await self.run(_write_file, tmp, data, digests)
                else:
                    await self.run(_write_all, fd, data, digests)
                    await self.run(os.fsync, fd)
            finally:
                if pending is not None:
                    await asyncio.gather(pending, return_exceptions=True)
                if fd is not None:
                    await self.run(os.close, fd)
        except BaseException:
            await self.discard(tmp)
            raise
        return Written(
            tmp=tmp,
            size=size,
            md5=digests.md5.hexdigest(),
            sha256=digests.sha256.hexdigest() if digests.sha256 is not None else None,
            checksums={a: h.b64() for a, h in digests.flexible.items()},
        )

    def _write_batch(self, fd: int, data: bytes, digests: _Digests) -> asyncio.Future[None]:
        """Each digest and the write of a batch at once, on executor threads of their own
        (hashlib releases the GIL): MD5 alone would bound a PUT to one core's speed."""
        jobs = [self.run(update, data) for update in digests.updates()]
        jobs.append(self.run(_write_bytes, fd, data))

        async def together() -> None:
            await asyncio.gather(*jobs)

        return asyncio.ensure_future(together())

    async def publish(self, tmp: Path, kind: str) -> str:
        """Rename a written temp file into place under a new unique name (returned)."""
        name = f"{kind}/{secrets.token_hex(2)}/{secrets.token_hex(16)}"
        await self.run(_rename_durably, tmp, self.root / name)
        return name

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
    """A byte range of a stored file, read in pieces off the loop (a GetObject body)."""

    def __init__(self, blobs: Blobs, fd: int, start: int, length: int, status: int | None):
        self.blobs = blobs
        self.fd: int | None = fd
        self.start = start
        self.length = length
        self.status = status

    async def chunks(self) -> AsyncIterator[bytes]:
        offset, left = self.start, self.length
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


def _create(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _write_file(path: Path, data: bytes, digests: _Digests) -> None:
    """A whole (small) body: create, write, fsync, close, in one step off the loop."""
    fd = _create(path)
    try:
        _write_all(fd, data, digests)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes, digests: _Digests) -> None:
    digests.update(data)
    _write_bytes(fd, data)


def _write_bytes(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rename_durably(tmp: Path, final: Path) -> None:
    if not final.parent.exists():
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _fsync_dir(final.parent.parent)
    os.rename(tmp, final)
    _fsync_dir(final.parent)


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
