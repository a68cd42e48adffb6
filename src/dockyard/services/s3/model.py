"""S3's records: buckets, object versions, multipart uploads and their parts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

NULL_VERSION = "null"


class Versioning(StrEnum):
    ENABLED = "Enabled"
    SUSPENDED = "Suspended"


class ChecksumAlgorithm(StrEnum):
    CRC32 = "CRC32"
    CRC32C = "CRC32C"
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    CRC64NVME = "CRC64NVME"


@dataclass(slots=True)
class Bucket:
    name: str
    account_id: str
    region: str
    created: float
    versioning: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # the policy document, as JSON text
    cors: list[dict[str, Any]] | None = None
    lifecycle: list[dict[str, Any]] | None = None
    eventbridge: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Bucket:
        return cls(**body)


@dataclass(slots=True)
class ObjectVersion:
    bucket: str
    key: str
    version_id: str
    seq: int  # the order versions were written in (newest is highest)
    last_modified: float
    size: int = 0
    etag: str = ""  # with its quotes, as S3 shows it
    blob: str | None = None  # the file name under the data dir; None for a delete marker
    delete_marker: bool = False
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Content-Encoding, Content-Disposition, Content-Language, Cache-Control, Expires.
    headers: dict[str, str] = field(default_factory=dict)
    checksum: dict[str, str] = field(default_factory=dict)  # algorithm -> base64 value
    checksum_type: str | None = None  # FULL_OBJECT | COMPOSITE
    parts: int | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def record_key(self) -> str:
        return object_key(self.bucket, self.key, self.version_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> ObjectVersion:
        return cls(**body)


@dataclass(slots=True)
class Part:
    upload_id: str
    number: int
    size: int
    etag: str
    blob: str
    last_modified: float
    checksum: dict[str, str] = field(default_factory=dict)

    @property
    def record_key(self) -> str:
        return json.dumps([self.upload_id, self.number])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Part:
        return cls(**body)


@dataclass(slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    parts: dict[int, Part] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        del body["parts"]  # each part is a record of its own
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Upload:
        return cls(**{k: v for k, v in body.items() if k != "parts"})


def object_key(bucket: str, key: str, version_id: str) -> str:
    return json.dumps([bucket, key, version_id])
