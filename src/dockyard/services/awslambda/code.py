"""Functions' deployment packages: each zip kept once under its SHA-256 (`zips/<hex>.zip`),
unpacked once for the execution environments that run it (`code/<hex>/`). All file work
runs off the event loop."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
)

MAX_ZIP_BYTES = 50 * 1024 * 1024  # a zip uploaded directly (ZipFile)
MAX_S3_ZIP_BYTES = 250 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class Package:
    hex: str
    sha256: str  # base64, as CodeSha256
    size: int


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InvalidParameterValueException(
                f"The zip file holds more than {MAX_ENTRIES} entries (ZipFile)."
            )
        total = 0
        for info in infos:
            name = info.filename
            if name.startswith("/") or ".." in Path(name).parts:
                raise InvalidParameterValueException(
                    f"The zip file has an entry outside its root: {name} (ZipFile)."
                )
            total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValueException(
                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )


class CodeStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._unpacking: dict[str, asyncio.Future[Path]] = {}

    def zip_path(self, hex_digest: str) -> Path:
        return self.root / "zips" / f"{hex_digest}.zip"

    def code_path(self, hex_digest: str) -> Path:
        return self.root / "code" / hex_digest

    async def save(self, data: bytes, limit: int = MAX_ZIP_BYTES) -> Package:
        """Check a zip and keep it; raises Lambda's errors for a bad or too large one."""
        if len(data) > limit:
            raise RequestTooLargeException(
                "Request must be smaller than 69905067 bytes for the CreateFunction operation"
            )
        return await asyncio.to_thread(self._save, data)

    def _save(self, data: bytes) -> Package:
        _check_zip(data)
        digest = hashlib.sha256(data)
        hex_digest = digest.hexdigest()
        path = self.zip_path(hex_digest)
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        sha = base64.b64encode(digest.digest()).decode()
        return Package(hex_digest, sha, len(data))

    async def unpack(self, hex_digest: str) -> Path:
        """The unpacked code of a package (unpacked on first use; one unpacking at a time)."""
        target = self.code_path(hex_digest)
        if target.is_dir():
            return target
        pending = self._unpacking.get(hex_digest)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(self._unpack, hex_digest))
            self._unpacking[hex_digest] = pending
            pending.add_done_callback(lambda _: self._unpacking.pop(hex_digest, None))
        return await asyncio.shield(pending)

    def _unpack(self, hex_digest: str) -> Path:
        target = self.code_path(hex_digest)
        if target.is_dir():
            return target
        tmp = target.with_name(target.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700, parents=True)
        with zipfile.ZipFile(self.zip_path(hex_digest)) as archive:
            for info in archive.infolist():
                out = archive.extract(info, tmp)
                mode = (info.external_attr >> 16) & 0o777
                if not info.is_dir():
                    # Lambda keeps the execute bits of the zip (a `bootstrap`); no set-id bits.
                    os.chmod(out, (mode & 0o755) | stat.S_IRUSR if mode else 0o644)
        os.replace(tmp, target)
        return target

    def forget(self, hex_digest: str) -> None:
        """Drop a package nothing uses any more."""
        with contextlib.suppress(OSError):
            self.zip_path(hex_digest).unlink()
        shutil.rmtree(self.code_path(hex_digest), ignore_errors=True)
