"""The digests S3 keeps of an object: MD5 (the ETag, Content-MD5) and the flexible checksums
the SDKs send (x-amz-checksum-crc32, -crc32c, -sha1, -sha256, -crc64nvme)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from awscrt import checksums as crt

from dockyard.services.s3.errors import BadDigest, InvalidDigest, InvalidRequest
from dockyard.services.s3.model import ChecksumAlgorithm


class Hasher(Protocol):
    def update(self, data: bytes | memoryview) -> None: ...

    def b64(self) -> str: ...


class _Crc:
    def __init__(self, algorithm: ChecksumAlgorithm) -> None:
        self.algorithm = algorithm
        self.value = 0
        self.width = 8 if algorithm == ChecksumAlgorithm.CRC64NVME else 4

    def update(self, data: bytes | memoryview) -> None:
        if self.algorithm == ChecksumAlgorithm.CRC32:
            self.value = zlib.crc32(data, self.value)
        elif self.algorithm == ChecksumAlgorithm.CRC32C:
            self.value = crt.crc32c(data, self.value)
        else:
            self.value = crt.crc64nvme(data, self.value)

    def b64(self) -> str:
        return base64.b64encode(self.value.to_bytes(self.width, "big")).decode()


class _Sha:
    def __init__(self, name: str) -> None:
        self.digest = hashlib.new(name)

    def update(self, data: bytes | memoryview) -> None:
        self.digest.update(data)

    def b64(self) -> str:
        return base64.b64encode(self.digest.digest()).decode()


def hasher(algorithm: ChecksumAlgorithm) -> Hasher:
    if algorithm == ChecksumAlgorithm.SHA1:
        return _Sha("sha1")
    if algorithm == ChecksumAlgorithm.SHA256:
        return _Sha("sha256")
    return _Crc(algorithm)


def header_name(algorithm: ChecksumAlgorithm) -> str:
    return f"x-amz-checksum-{algorithm.value.lower()}"


def algorithm_of(text: str | None) -> ChecksumAlgorithm | None:
    if text is None or not text:
        return None
    try:
        return ChecksumAlgorithm(text.upper())
    except ValueError:
        raise InvalidRequest(
            f"Checksum algorithm {text} is not supported: use one of "
            + ", ".join(a.value for a in ChecksumAlgorithm)
        ) from None


def requested(headers: Mapping[str, str]) -> set[ChecksumAlgorithm]:
    """The checksums a request asks for: sent as headers, announced as a trailer, or named
    by x-amz-sdk-checksum-algorithm."""
    wanted: set[ChecksumAlgorithm] = set()
    for algorithm in ChecksumAlgorithm:
        if header_name(algorithm) in headers:
            wanted.add(algorithm)
    for name in headers.get("x-amz-trailer", "").split(","):
        name = name.strip().lower()
        if name.startswith("x-amz-checksum-"):
            found = algorithm_of(name.removeprefix("x-amz-checksum-"))
            if found is not None:
                wanted.add(found)
    named = algorithm_of(headers.get("x-amz-sdk-checksum-algorithm"))
    if named is not None:
        wanted.add(named)
    return wanted


def md5_of_header(value: str | None) -> str | None:
    """The hex MD5 a Content-MD5 header carries (InvalidDigest when it is not one)."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise InvalidDigest("The Content-MD5 you specified was invalid.")
    return raw.hex()


def check(
    computed: Mapping[ChecksumAlgorithm, str],
    sent: Iterable[Mapping[str, str]],
    md5_hex: str,
    content_md5: str | None,
) -> None:
    """BadDigest when a checksum the client sent (header or trailer) is not what arrived."""
    if content_md5 is not None and content_md5 != md5_hex:
        raise BadDigest("The Content-MD5 you specified did not match what we received.")
    for source in sent:
        for algorithm, value in computed.items():
            claimed = source.get(header_name(algorithm))
            if claimed is not None and claimed != value:
                raise BadDigest(
                    f"The {algorithm.value} you specified did not match the calculated checksum."
                )


def composite(algorithm: ChecksumAlgorithm, part_values: list[str]) -> str:
    """The checksum of a multipart object: the checksum of its parts' checksums, "-N"."""
    h = hasher(algorithm)
    for value in part_values:
        h.update(base64.b64decode(value))
    return f"{h.b64()}-{len(part_values)}"


def multipart_etag(part_etags: list[str]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for etag in part_etags:
        digest.update(bytes.fromhex(etag.strip('"').split("-")[0]))
    return f'"{digest.hexdigest()}-{len(part_etags)}"'
