"""Multipart uploads: each part a file and a record; completing concatenates the files (in
the kernel, off the loop) into the object's own file."""

from __future__ import annotations

import base64
import secrets

from dockyard.services.s3 import checksums
from dockyard.services.s3.blobs import Written
from dockyard.services.s3.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
)
from dockyard.services.s3.model import ChecksumAlgorithm, ObjectVersion, Part, Upload
from dockyard.services.s3.names import check_key
from dockyard.services.s3.objects import ObjectAttributes, Objects
from dockyard.services.s3.state import UPLOAD_KIND, S3State, part_delete, part_record

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


class Multipart:
    def __init__(self, state: S3State, objects: Objects) -> None:
        self.state = state
        self.objects = objects

    def create(
        self, bucket: str, key: str, attrs: ObjectAttributes, checksum_algorithm: str | None
    ) -> Upload:
        state = self.state
        state.bucket(bucket)
        check_key(key)
        upload_id = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
        upload = Upload(
            upload_id=upload_id,
            bucket=bucket,
            key=key,
            initiated=state.clock.now(),
            content_type=attrs.content_type,
            metadata=attrs.metadata,
            headers=attrs.headers,
            checksum_algorithm=checksum_algorithm,
            tags=attrs.tags,
        )
        state.commit(
            [(UPLOAD_KIND, upload_id, upload.to_dict())],
            apply=lambda: state.uploads.__setitem__(upload_id, upload),
        )
        return upload

    async def add_part(self, upload: Upload, number: int, written: Written) -> Part:
        """Publish a written part (replacing an earlier part of that number)."""
        state = self.state
        if not 1 <= number <= MAX_PARTS:
            await state.blobs.discard(written.tmp)
            raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        blob = await state.blobs.publish(written, "parts")
        part = Part(
            upload_id=upload.upload_id,
            number=number,
            size=written.size,
            etag=f'"{written.md5}"',
            blob=blob,
            last_modified=state.clock.now(),
            checksum={a.value: v for a, v in written.checksums.items()},
        )
        replaced = upload.parts.get(number)
        try:
            state.commit([part_record(part)], apply=lambda: upload.parts.__setitem__(number, part))
        except BaseException:
            await state.blobs.remove([blob])
            raise
        if replaced is not None:
            await state.blobs.remove([replaced.blob])
        return part

    async def complete(
        self, upload: Upload, listed: list[tuple[int, str, dict[str, str]]]
    ) -> ObjectVersion:
        """The object made of the listed parts (number, ETag, checksums), in order."""
        if not listed:
            raise MalformedXML(
                "The XML you provided was not well-formed or did not validate against our "
                "published schema"
            )
        chosen: list[Part] = []
        previous = 0
        for number, etag, _sums in listed:
            if number <= previous:
                raise InvalidPartOrder(
                    "The list of parts was not in ascending order. Parts must be ordered by "
                    "part number."
                )
            previous = number
            part = upload.parts.get(number)
            if part is None or (etag and part.etag.strip('"') != etag.strip('"')):
                raise InvalidPart(
                    "One or more of the specified parts could not be found. The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag."
                )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_BYTES:
                raise EntityTooSmall(
                    "Your proposed upload is smaller than the minimum allowed size"
                )
        state = self.state
        tmp = await state.blobs.concat([p.blob for p in chosen])
        size = sum(p.size for p in chosen)
        etag = checksums.multipart_etag([p.etag for p in chosen])
        checksum: dict[str, str] = {}
        algorithm = upload.checksum_algorithm
        if algorithm is not None and all(algorithm in p.checksum for p in chosen):
            checksum[algorithm] = checksums.composite(
                ChecksumAlgorithm(algorithm), [p.checksum[algorithm] for p in chosen]
            )
        written = Written(tmp=tmp, size=size, md5=etag.strip('"'), sha256=None)
        attrs = ObjectAttributes(
            content_type=upload.content_type,
            metadata=upload.metadata,
            headers=upload.headers,
            tags=upload.tags,
        )
        # The object's record goes in first; the upload's records and part files after.
        version = await self.objects.store(
            upload.bucket,
            upload.key,
            written,
            attrs,
            etag=etag,
            checksum=checksum,
            checksum_type="COMPOSITE" if checksum else None,
            parts=len(chosen),
        )
        await self._forget(upload)
        return version

    async def abort(self, upload: Upload) -> None:
        await self._forget(upload)

    async def _forget(self, upload: Upload) -> None:
        state = self.state
        deletes = [(UPLOAD_KIND, upload.upload_id)]
        deletes.extend(part_delete(upload.upload_id, n) for n in upload.parts)

        def apply() -> None:
            state.uploads.pop(upload.upload_id, None)

        state.commit(deletes=deletes, apply=apply)
        await state.blobs.remove([p.blob for p in upload.parts.values()])

    def of_bucket(self, bucket: str, prefix: str = "") -> list[Upload]:
        self.state.bucket(bucket)
        found = [
            u
            for u in self.state.uploads.values()
            if u.bucket == bucket and u.key.startswith(prefix)
        ]
        return sorted(found, key=lambda u: (u.key, u.initiated, u.upload_id))
