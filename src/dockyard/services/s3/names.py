"""S3's naming rules: bucket names, object keys, tags."""

from __future__ import annotations

import re

from dockyard.services.s3.errors import InvalidBucketName, InvalidTag, KeyTooLongError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
MAX_KEY_BYTES = 1024
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> str:
    """The general-purpose bucket naming rules (InvalidBucketName otherwise)."""
    if (
        not _BUCKET.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IP.match(name)
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
    ):
        raise InvalidBucketName("The specified bucket is not valid.")
    return name


def check_key(key: str) -> str:
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise KeyTooLongError("Your key is too long")
    return key


def check_tags(tags: dict[str, str], limit: int) -> dict[str, str]:
    if len(tags) > limit:
        raise InvalidTag(f"Object tags cannot be greater than {limit}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise InvalidTag("The TagKey you have provided is invalid")
        if len(value) > 256:
            raise InvalidTag("The TagValue you have provided is invalid")
    return tags
