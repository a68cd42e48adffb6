"""Blob bytes on disk: content-addressed files under `<data dir>/registry/blobs/sha256/`,
shared by every repository, and the uploads that become them.

An upload is written to `uploads/<uuid>` while hashed; only a complete upload whose sha256
matches the digest the client names is fsynced and renamed into place, so a blob file
always holds exactly its digest's bytes (a crash mid-push leaves only an upload file, which
the next start removes). Every method here does blocking I/O: callers run it off the loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024


class DigestMismatch(ValueError):
    pass


@dataclass(slots=True)
class Upload:
    """A blob upload in progress (the registry's upload session)."""

    id: str
    repository_arn: str
    path: Path
    started: float
    offset: int = 0
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)

    def append(self, data: bytes) -> None:
        with open(self.path, "ab") as f:
            f.write(data)
        self.hasher.update(data)
        self.offset += len(data)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs" / "sha256"
        self.upload_dir = root / "uploads"
        # Touched on the event loop only: the uploads in progress, the digests an upload is
        # moving into place (the collector leaves them alone) and those being collected
        # (an upload of one waits until it is gone, then puts it back).
        self.uploads: dict[str, Upload] = {}
        self.in_flight: dict[str, int] = {}
        self.collecting: set[str] = set()

    def prepare(self) -> None:
        """Create the directories (0700) and drop what a crash left of uploads."""
        for d in (self.root, self.root / "blobs", self.blob_dir, self.upload_dir):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in self.upload_dir.iterdir():
            log.info("removing unfinished upload %s", leftover.name)
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    def path(self, digest: str) -> Path:
        return self.blob_dir / digest.removeprefix("sha256:")

    def size(self, digest: str) -> int | None:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def digests(self) -> list[str]:
        return ["sha256:" + p.name for p in self.blob_dir.iterdir() if len(p.name) == 64]

    def start(self, repository_arn: str, now: float) -> Upload:
        upload_id = str(uuid.uuid4())
        path = self.upload_dir / upload_id
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        return Upload(upload_id, repository_arn, path, now)

    def finish(self, upload: Upload, digest: str) -> int:
        """Verify and move the upload into place as blob `digest`; its size."""
        actual = "sha256:" + upload.hasher.hexdigest()
        if actual != digest:
            self.discard(upload)
            raise DigestMismatch(f"the upload's digest is {actual}, not {digest}")
        fd = os.open(upload.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        target = self.path(digest)
        os.replace(upload.path, target)
        dir_fd = os.open(self.blob_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return upload.offset

    def discard(self, upload: Upload) -> None:
        upload.path.unlink(missing_ok=True)

    def remove(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def read(self, digest: str, start: int, length: int) -> bytes:
        with open(self.path(digest), "rb") as f:
            f.seek(start)
            return f.read(length)
