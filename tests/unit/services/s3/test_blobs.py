"""Object bodies on disk: what a PUT stores and a GET reads back, the shared folder fsync,
the reused buffers (real files in a temp folder; nothing mocked but the fsync counter)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from dockyard.services.s3 import blobs as blobs_module
from dockyard.services.s3.blobs import READ_CHUNK, WRITE_BATCH, Blobs
from dockyard.services.s3.diskio import Buffers, FolderSync
from dockyard.services.s3.model import ChecksumAlgorithm

MiB = 1024 * 1024


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[i : i + size]


async def _read_all(blobs: Blobs, name: str, start: int, length: int) -> bytes:
    stream = await blobs.stream(name, start, length)
    try:
        return b"".join([chunk async for chunk in stream.chunks()])
    finally:
        await stream.close()


@pytest.mark.parametrize(
    "size",
    [0, 1, 1000, 16 * 1024, 16 * 1024 + 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 12345],
)
def test_a_body_is_stored_whole_with_its_digests_and_read_back(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    blobs = Blobs(tmp_path / "s3")

    async def main() -> None:
        # Pieces of an odd size, as a client's TCP segments arrive.
        written = await blobs.write(
            _pieces(data, 65_537), [ChecksumAlgorithm.CRC32, ChecksumAlgorithm.SHA1], True
        )
        assert written.size == size
        assert written.md5 == hashlib.md5(data).hexdigest()
        assert written.sha256 == hashlib.sha256(data).hexdigest()
        crc = zlib.crc32(data).to_bytes(4, "big")
        assert written.checksums[ChecksumAlgorithm.CRC32] == base64.b64encode(crc).decode()
        sha1 = hashlib.sha1(data).digest()
        assert written.checksums[ChecksumAlgorithm.SHA1] == base64.b64encode(sha1).decode()
        assert written.tmp.read_bytes() == data
        assert written.tmp.stat().st_mode & 0o777 == 0o600
        name = await blobs.publish(written, "objects")
        assert not written.tmp.exists()
        assert await _read_all(blobs, name, 0, size) == data
        if size > 10:
            assert await _read_all(blobs, name, 5, size - 10) == data[5:-5]

    try:
        asyncio.run(main())
    finally:
        blobs.close()


def test_ranges_across_read_pieces(tmp_path: Path) -> None:
    data = os.urandom(READ_CHUNK * 2 + 100)
    blobs = Blobs(tmp_path / "s3")

    async def main() -> None:
        written = await blobs.write(_pieces(data, MiB), [], False)
        name = await blobs.publish(written, "objects")
        for start, length in [(0, len(data)), (READ_CHUNK - 1, 2), (7, READ_CHUNK + 9)]:
            assert await _read_all(blobs, name, start, length) == data[start : start + length]
        # A piece that is all of it: the file is closed once read, nothing left open.
        stream = await blobs.stream(name, 0, 10)
        assert stream.fd is None

    try:
        asyncio.run(main())
    finally:
        blobs.close()


def test_a_failed_body_leaves_no_file_and_its_buffers_are_not_reused(tmp_path: Path) -> None:
    blobs = Blobs(tmp_path / "s3")

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (WRITE_BATCH + 10)  # one full buffer handed off, a second begun
        yield b"y" * 10
        raise ConnectionResetError("client went away")

    async def main() -> None:
        with pytest.raises(ConnectionResetError):
            await blobs.write(broken(), [], False)

    try:
        asyncio.run(main())
        assert list((tmp_path / "s3" / "tmp").iterdir()) == []
        assert len(blobs.buffers) == 0
    finally:
        blobs.close()


def test_buffers_of_good_bodies_are_reused(tmp_path: Path) -> None:
    blobs = Blobs(tmp_path / "s3")

    async def main() -> None:
        for _ in range(3):
            written = await blobs.write(_pieces(os.urandom(2 * MiB + 1), MiB), [], False)
            await blobs.discard(written.tmp)

    try:
        asyncio.run(main())
        assert 1 <= len(blobs.buffers) <= 2  # two at most in use by one upload
    finally:
        blobs.close()


def test_the_pool_keeps_at_most_its_limit() -> None:
    pool = Buffers(4096, keep=2)
    taken = [pool.take() for _ in range(5)]
    assert len({id(b) for b in taken}) == 5
    for buf in taken:
        pool.give(buf)
    assert len(pool) == 2
    assert pool.take() in taken


def test_concurrent_puts_share_folder_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = Blobs(tmp_path / "s3")
    synced: list[Path] = []
    real = blobs.folder_sync._sync

    def counting(path: Path) -> None:  # a slow disk: renames pile up behind each fsync
        synced.append(path)
        time.sleep(0.05)
        real(path)

    monkeypatch.setattr(blobs.folder_sync, "_sync", counting)

    async def one(i: int) -> str:
        written = await blobs.write(_pieces(os.urandom(1000 + i), 4096), [], False)
        return await blobs.publish(written, "objects")

    async def main() -> list[str]:
        return await asyncio.gather(*(one(i) for i in range(40)))

    try:
        names = asyncio.run(main())
    finally:
        blobs.close()
    assert len(set(names)) == 40
    assert len({n.split("/")[1] for n in names}) == 1  # one folder for files in a row
    assert 1 <= len(synced) < 40
    for name in names:
        assert (tmp_path / "s3" / name).stat().st_size >= 1000


def test_a_new_shard_after_shard_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blobs_module, "SHARD_FILES", 3)
    blobs = Blobs(tmp_path / "s3")
    try:
        shards = [blobs._shard("objects") for _ in range(9)]
    finally:
        blobs.close()
    assert shards[0] == shards[1] == shards[2] and shards[3] == shards[4] == shards[5]
    assert len(set(shards)) >= 2  # random: two of three may match by chance


# -- FolderSync alone --------------------------------------------------------------------------


def test_a_caller_waits_for_an_fsync_that_began_after_it_asked(tmp_path: Path) -> None:
    gate = threading.Event()
    began: list[float] = []

    def slow(folder: Path) -> None:
        began.append(time.monotonic())
        if len(began) == 1:
            gate.wait(10)

    group = FolderSync(slow)
    first = threading.Thread(target=group.sync, args=(tmp_path,))
    first.start()
    _until(lambda: len(began) == 1)
    # Three more while the first is in flight: none is done by it, they share one later.
    later = [threading.Thread(target=group.sync, args=(tmp_path,)) for _ in range(3)]
    for thread in later:
        thread.start()
    time.sleep(0.05)
    assert len(began) == 1 and all(t.is_alive() for t in later)
    gate.set()
    for thread in [first, *later]:
        thread.join(10)
    assert len(began) == 2 and group.syncs == 2


def test_a_failed_fsync_raises_in_its_thread_and_the_waiters_run_their_own(
    tmp_path: Path,
) -> None:
    gate = threading.Event()
    calls: list[int] = []

    def flaky(folder: Path) -> None:
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)
            raise OSError(5, "Input/output error")

    group = FolderSync(flaky)
    failed: list[BaseException] = []

    def first() -> None:
        try:
            group.sync(tmp_path)
        except OSError as exc:
            failed.append(exc)

    a = threading.Thread(target=first)
    a.start()
    _until(lambda: len(calls) == 1)
    b = threading.Thread(target=group.sync, args=(tmp_path,))
    b.start()
    gate.set()
    a.join(10)
    b.join(10)
    assert len(failed) == 1 and len(calls) == 2
    group.sync(tmp_path)  # idle again: a fresh fsync
    assert len(calls) == 3 and group._folders == {}


def test_folders_are_synced_apart(tmp_path: Path) -> None:
    seen: list[Path] = []
    group = FolderSync(seen.append)
    group.sync(tmp_path / "a")
    group.sync(tmp_path / "b")
    assert seen == [tmp_path / "a", tmp_path / "b"]


def test_a_new_folder_is_made_durable_in_its_parent_once_per_folder(tmp_path: Path) -> None:
    seen: list[Path] = []
    group = FolderSync(seen.append)
    folder = tmp_path / "objects" / "ab12"
    group.ensure(folder)
    group.ensure(folder)
    assert folder.is_dir() and seen == [tmp_path / "objects"]
    group.ensure(tmp_path / "objects" / "cd34")  # a folder made by someone else: same
    assert seen == [tmp_path / "objects"] * 2


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_placed_file_no_record_names_is_removed_at_start(tmp_path: Path) -> None:
    blobs = Blobs(tmp_path / "s3")

    async def main() -> tuple[str, str]:
        kept = await blobs.write(_pieces(b"kept", 4), [], False, "objects")
        orphan = await blobs.write(_pieces(b"orphan", 6), [], False, "objects")
        assert kept.name is not None and orphan.name is not None
        # In place already: publish has nothing left to do.
        assert await blobs.publish(kept, "objects") == kept.name
        assert kept.tmp == tmp_path / "s3" / kept.name and kept.tmp.read_bytes() == b"kept"
        return kept.name, orphan.name

    try:
        kept_name, orphan_name = asyncio.run(main())
        # As after a crash between the rename and the commit of the record.
        assert blobs.sweep({kept_name}) == 1
        assert (tmp_path / "s3" / kept_name).exists()
        assert not (tmp_path / "s3" / orphan_name).exists()
    finally:
        blobs.close()
