"""S3's state: buckets, the versions of every key, multipart uploads; loaded from the store
at start, written through to it before memory changes."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sortedcontainers import SortedList

from dockyard.core.clock import Clock
from dockyard.core.eventbus import Event, EventSink, Mailbox
from dockyard.services.s3.blobs import Blobs
from dockyard.services.s3.errors import NoSuchBucket, NoSuchUpload
from dockyard.services.s3.model import Bucket, ObjectVersion, Part, Upload
from dockyard.store.base import Delete, Put, Store

log = logging.getLogger(__name__)

BUCKET_KIND = "s3.bucket"
OBJECT_KIND = "s3.object"
UPLOAD_KIND = "s3.upload"
PART_KIND = "s3.part"
KINDS = (BUCKET_KIND, OBJECT_KIND, UPLOAD_KIND, PART_KIND)


class BucketObjects:
    """The keys of one bucket, sorted, each with its versions newest first."""

    def __init__(self) -> None:
        self.keys: SortedList = SortedList()
        self.versions: dict[str, list[ObjectVersion]] = {}

    def history(self, key: str) -> list[ObjectVersion]:
        return self.versions.get(key, [])

    def current(self, key: str) -> ObjectVersion | None:
        found = self.versions.get(key)
        return found[0] if found else None

    def add(self, version: ObjectVersion) -> None:
        history = self.versions.get(version.key)
        if history is None:
            history = self.versions[version.key] = []
            self.keys.add(version.key)
        history[:] = [v for v in history if v.version_id != version.version_id]
        history.append(version)
        history.sort(key=lambda v: v.seq, reverse=True)

    def drop(self, key: str, version_id: str) -> None:
        history = self.versions.get(key)
        if history is None:
            return
        history[:] = [v for v in history if v.version_id != version_id]
        if not history:
            del self.versions[key]
            self.keys.remove(key)

    def __len__(self) -> int:
        return len(self.versions)


class S3State:
    def __init__(
        self, store: Store, clock: Clock, blobs: Blobs, events: EventSink | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.buckets: dict[str, Bucket] = {}
        self.objects: dict[str, BucketObjects] = {}
        self.uploads: dict[str, Upload] = {}
        self.seq = 0
        self.outbox: Mailbox[Event] | None = (
            Mailbox("s3-events", events.emit) if events is not None else None
        )

    # -- start -------------------------------------------------------------------------------

    def load(self) -> None:
        self.reset()
        referenced: set[str] = set()
        for _key, body in self.store.load(BUCKET_KIND):
            bucket = Bucket.from_dict(body)
            self.buckets[bucket.name] = bucket
            self.objects[bucket.name] = BucketObjects()
        for _key, body in self.store.load(OBJECT_KIND):
            version = ObjectVersion.from_dict(body)
            self.seq = max(self.seq, version.seq)
            if version.blob is not None:
                referenced.add(version.blob)
            self.objects.setdefault(version.bucket, BucketObjects()).add(version)
        for _key, body in self.store.load(UPLOAD_KIND):
            upload = Upload.from_dict(body)
            self.uploads[upload.upload_id] = upload
        for _key, body in self.store.load(PART_KIND):
            part = Part.from_dict(body)
            owner = self.uploads.get(part.upload_id)
            if owner is not None:
                owner.parts[part.number] = part
                referenced.add(part.blob)
        self.blobs.sweep(referenced)

    def reset(self) -> None:
        self.buckets.clear()
        self.objects.clear()
        self.uploads.clear()

    # -- lookups -----------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket:
        bucket = self.buckets.get(name)
        if bucket is None:
            raise NoSuchBucket("The specified bucket does not exist")
        return bucket

    def contents(self, name: str) -> BucketObjects:
        self.bucket(name)
        return self.objects.setdefault(name, BucketObjects())

    def upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or upload.bucket != bucket or upload.key != key:
            raise NoSuchUpload(
                "The specified upload does not exist. The upload ID may be invalid, or the "
                "upload may have been aborted or completed."
            )
        return upload

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    @staticmethod
    def new_version_id() -> str:
        return uuid.uuid4().hex

    # -- the unit of work --------------------------------------------------------------------

    def commit(
        self,
        puts: Iterable[Put] = (),
        deletes: Iterable[Delete] = (),
        apply: Callable[[], None] | None = None,
    ) -> None:
        """Commit the records, then change memory (`apply`). A refused commit raises
        (StoreUnavailable: the front door answers 503) and changes nothing."""
        self.store.write(list(puts), list(deletes))
        if apply is not None:
            apply()

    # -- events ------------------------------------------------------------------------------

    def publish(self, bucket: Bucket, detail_type: str, detail: dict[str, Any]) -> None:
        """An S3 event for EventBridge (when the bucket sends them), queued."""
        if self.outbox is None or not bucket.eventbridge:
            return
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        self.outbox.put(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": detail_type,
                "source": "aws.s3",
                "account": bucket.account_id,
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": bucket.region,
                "resources": [f"arn:aws:s3:::{bucket.name}"],
                "detail": {"version": "0", "bucket": {"name": bucket.name}, **detail},
            }
        )


def record(version: ObjectVersion) -> Put:
    return (OBJECT_KIND, version.record_key, version.to_dict())


def part_record(part: Part) -> Put:
    return (PART_KIND, part.record_key, part.to_dict())


def part_delete(upload_id: str, number: int) -> Delete:
    return (PART_KIND, json.dumps([upload_id, number]))
