"""The MD5 digests SQS answers (and SDKs verify): of a body, and of message attributes in
SQS's encoding (per attribute, sorted by name: length-prefixed name and data type, a
transport byte, 1 for String/Number or 2 for Binary, then the length-prefixed value)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping

from dockyard.services.sqs.model import MessageAttribute


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_prefixed(name.encode("utf-8")))
        digest.update(_prefixed(attribute.data_type.encode("utf-8")))
        if attribute.binary_value is not None:
            digest.update(b"\x02" + _prefixed(attribute.binary_value))
        else:
            digest.update(b"\x01" + _prefixed((attribute.string_value or "").encode("utf-8")))
    return digest.hexdigest()
