"""Objects: store a streamed body, read one back (ranges, conditions), copy, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from dockyard.services.s3 import checksums
from dockyard.services.s3.blobs import FileStream, Written
from dockyard.services.s3.conditions import Conditions, byte_range, check_read, check_write
from dockyard.services.s3.errors import (
    InvalidArgument,
    InvalidRequest,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
)
from dockyard.services.s3.model import (
    NULL_VERSION,
    Bucket,
    ChecksumAlgorithm,
    ObjectVersion,
    Versioning,
)
from dockyard.services.s3.names import check_key
from dockyard.services.s3.state import OBJECT_KIND, S3State, record

# The largest object a single PUT may carry (S3: 5 GiB).
MAX_PUT_BYTES = 5 * 1024**3


@dataclass(slots=True)
class ObjectAttributes:
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Opened:
    version: ObjectVersion
    stream: FileStream | None
    range: tuple[int, int] | None


class Objects:
    def __init__(self, state: S3State) -> None:
        self.state = state

    # -- writing -----------------------------------------------------------------------------

    async def receive(
        self,
        chunks: AsyncIterator[bytes],
        headers: Mapping[str, str],
        *,
        sha256: bool,
        kind: str | None = None,
    ) -> Written:
        """A request body, streamed to a file with its digests (not yet an object: no record
        names it). With `kind`, the file is already in place (see `Blobs.write`)."""
        return await self.state.blobs.write(chunks, checksums.requested(headers), sha256, kind)

    def check_received(
        self, written: Written, headers: Mapping[str, str], trailers: Mapping[str, str]
    ) -> None:
        checksums.check(
            written.checksums,
            (headers, trailers),
            written.md5,
            checksums.md5_of_header(headers.get("content-md5")),
        )

    def _next_version_id(self, bucket: Bucket) -> str:
        if bucket.versioning == Versioning.ENABLED:
            return self.state.new_version_id()
        return NULL_VERSION

    async def store(
        self,
        bucket_name: str,
        key: str,
        written: Written,
        attrs: ObjectAttributes,
        *,
        etag: str | None = None,
        checksum_type: str | None = None,
        checksum: dict[str, str] | None = None,
        parts: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> ObjectVersion:
        """Publish the written file as the new current version of `key`, commit its record,
        then show it. A refused commit removes the file and changes nothing."""
        state = self.state
        try:
            bucket = state.bucket(bucket_name)
            check_key(key)
            contents = state.contents(bucket_name)
            current = contents.current(key)
            check_write(
                if_match,
                if_none_match,
                current.etag if current is not None and not current.delete_marker else None,
            )
        except BaseException:
            await state.blobs.discard(written.tmp)
            raise
        blob = await state.blobs.publish(written, "objects")
        version_id = self._next_version_id(bucket)
        version = ObjectVersion(
            bucket=bucket_name,
            key=key,
            version_id=version_id,
            seq=state.next_seq(),
            last_modified=state.clock.now(),
            size=written.size,
            etag=etag or f'"{written.md5}"',
            blob=blob,
            content_type=attrs.content_type or "binary/octet-stream",
            metadata=attrs.metadata,
            headers=attrs.headers,
            checksum=checksum
            if checksum is not None
            else {a.value: v for a, v in written.checksums.items()},
            checksum_type=checksum_type or ("FULL_OBJECT" if written.checksums else None),
            parts=parts,
            tags=attrs.tags,
        )
        # The version this one replaces in place (the "null" one), whose file then goes.
        replaced = next((v for v in contents.history(key) if v.version_id == version_id), None)
        try:
            state.commit([record(version)], apply=lambda: contents.add(version))
        except BaseException:
            await state.blobs.remove([blob])
            raise
        if replaced is not None and replaced.blob is not None:
            await state.blobs.remove([replaced.blob])
        state.publish(
            bucket,
            "Object Created",
            {
                "object": {
                    "key": key,
                    "size": version.size,
                    "etag": version.etag.strip('"'),
                    **({"version-id": version_id} if version_id != NULL_VERSION else {}),
                    "sequencer": f"{version.seq:016X}",
                },
                "request-id": "",
                "reason": "PutObject",
            },
        )
        return version

    # -- reading -----------------------------------------------------------------------------

    def find(self, bucket_name: str, key: str, version_id: str | None) -> ObjectVersion:
        contents = self.state.contents(bucket_name)
        if version_id is not None:
            found = next((v for v in contents.history(key) if v.version_id == version_id), None)
            if found is None:
                if version_id != NULL_VERSION and not _plausible_version(version_id):
                    raise InvalidArgument("Invalid version id specified")
                raise NoSuchVersion("The specified version does not exist.")
            if found.delete_marker:
                raise MethodNotAllowed("The specified method is not allowed against this resource.")
            return found
        current = contents.current(key)
        if current is None or current.delete_marker:
            raise NoSuchKey("The specified key does not exist.")
        return current

    async def open(
        self,
        bucket_name: str,
        key: str,
        version_id: str | None,
        conditions: Conditions,
        range_header: str | None,
        part_number: int | None = None,
        *,
        body: bool = True,
    ) -> Opened:
        version = self.find(bucket_name, key, version_id)
        check_read(conditions, version.etag, version.last_modified)
        if part_number is not None and part_number != 1:
            raise InvalidRequest("Cannot specify part number for a non-multipart object")
        span = byte_range(range_header, version.size)
        if not body or version.blob is None:
            return Opened(version, None, span)
        start, length, status = 0, version.size, None
        if span is not None:
            start, length, status = span[0], span[1] - span[0] + 1, 206
        stream = await self.state.blobs.stream(version.blob, start, length, status)
        return Opened(version, stream, span)

    # -- deleting ----------------------------------------------------------------------------

    async def delete(
        self, bucket_name: str, key: str, version_id: str | None
    ) -> tuple[ObjectVersion | None, bool]:
        """Delete a version (permanently) or, without one, the current object (in a
        versioned bucket: a delete marker on top). Returns the version removed or the marker
        added, and whether that is a delete marker."""
        state = self.state
        bucket = state.bucket(bucket_name)
        contents = state.contents(bucket_name)
        if version_id is not None:
            found = next((v for v in contents.history(key) if v.version_id == version_id), None)
            if found is None:
                if version_id != NULL_VERSION and not _plausible_version(version_id):
                    raise InvalidArgument("Invalid version id specified")
                return None, False
            state.commit(
                deletes=[(OBJECT_KIND, found.record_key)],
                apply=lambda: contents.drop(key, found.version_id),
            )
            if found.blob is not None:
                await state.blobs.remove([found.blob])
            self._deleted(bucket, found, found.delete_marker)
            return found, found.delete_marker
        current = contents.current(key)
        if bucket.versioning is None:
            if current is None:
                return None, False
            state.commit(
                deletes=[(OBJECT_KIND, current.record_key)],
                apply=lambda: contents.drop(key, current.version_id),
            )
            if current.blob is not None:
                await state.blobs.remove([current.blob])
            self._deleted(bucket, current, False)
            return current, False
        marker_id = self._next_version_id(bucket)
        marker = ObjectVersion(
            bucket=bucket_name,
            key=key,
            version_id=marker_id,
            seq=state.next_seq(),
            last_modified=state.clock.now(),
            delete_marker=True,
        )
        replaced = next((v for v in contents.history(key) if v.version_id == marker_id), None)
        state.commit([record(marker)], apply=lambda: contents.add(marker))
        if replaced is not None and replaced.blob is not None:
            await state.blobs.remove([replaced.blob])
        self._deleted(bucket, marker, True)
        return marker, True

    def _deleted(self, bucket: Bucket, version: ObjectVersion, marker: bool) -> None:
        self.state.publish(
            bucket,
            "Object Deleted",
            {
                "object": {
                    "key": version.key,
                    **(
                        {"version-id": version.version_id}
                        if version.version_id != NULL_VERSION
                        else {}
                    ),
                    "sequencer": f"{version.seq:016X}",
                },
                "request-id": "",
                "deletion-type": "Delete Marker Created" if marker else "Permanently Deleted",
                "reason": "DeleteObject",
            },
        )

    # -- copying -----------------------------------------------------------------------------

    async def copy(
        self,
        source: ObjectVersion,
        bucket_name: str,
        key: str,
        attrs: ObjectAttributes | None,
    ) -> ObjectVersion:
        """A new version of `key` with `source`'s bytes (copied by the kernel) and its
        attributes, or `attrs` when the metadata directive is REPLACE."""
        state = self.state
        state.bucket(bucket_name)
        if source.blob is None:
            raise NoSuchKey("The specified key does not exist.")
        tmp = await state.blobs.copy(source.blob)
        written = Written(tmp=tmp, size=source.size, md5=source.etag.strip('"'), sha256=None)
        kept = attrs or ObjectAttributes(
            content_type=source.content_type,
            metadata=dict(source.metadata),
            headers=dict(source.headers),
            tags=dict(source.tags),
        )
        return await self.store(
            bucket_name,
            key,
            written,
            kept,
            etag=source.etag,
            checksum=dict(source.checksum),
            checksum_type=source.checksum_type,
            parts=source.parts,
        )


def _plausible_version(version_id: str) -> bool:
    return len(version_id) == 32 and all(c in "0123456789abcdef" for c in version_id)


def requested_checksum(headers: Mapping[str, str]) -> set[ChecksumAlgorithm]:
    return checksums.requested(headers)
