"""Conditional requests and byte ranges, as S3 decides them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dockyard.services.s3.errors import InvalidRange, NoSuchKey, NotModified, PreconditionFailed


@dataclass(frozen=True, slots=True)
class Conditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None


def _etags(header: str) -> set[str]:
    return {part.strip().strip('"') for part in header.split(",")}


def _matches(header: str, etag: str) -> bool:
    tags = _etags(header)
    return "*" in tags or etag.strip('"') in tags


def check_read(cond: Conditions, etag: str, last_modified: float) -> None:
    """S3's order: If-Match, then If-Unmodified-Since (412); If-None-Match, then
    If-Modified-Since (304). Times compare at whole seconds, as the headers carry them."""
    modified = int(last_modified)
    failed = PreconditionFailed("At least one of the pre-conditions you specified did not hold")
    if cond.if_match is not None:
        if not _matches(cond.if_match, etag):
            raise failed
    elif cond.if_unmodified_since is not None and modified > cond.if_unmodified_since.timestamp():
        raise failed
    if cond.if_none_match is not None:
        if _matches(cond.if_none_match, etag):
            raise NotModified("Not Modified")
    elif cond.if_modified_since is not None and modified <= cond.if_modified_since.timestamp():
        raise NotModified("Not Modified")


def check_write(if_match: str | None, if_none_match: str | None, etag: str | None) -> None:
    """Conditional writes: If-None-Match: * (only if absent), If-Match (only that ETag)."""
    if if_none_match is not None and etag is not None and _matches(if_none_match, etag):
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold")
    if if_match is not None and (etag is None or not _matches(if_match, etag)):
        if etag is None:
            raise NoSuchKey("The specified key does not exist.")
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (start, end inclusive) of a `Range: bytes=...` header, None for the whole object
    (no header, or one S3 ignores); InvalidRange when it cannot be satisfied."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return None
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # not a valid range: S3 answers the whole object
    if start >= size:
        raise _unsatisfiable(size)
    return start, min(end, size - 1)


def _unsatisfiable(size: int) -> InvalidRange:
    return InvalidRange(f"The requested range is not satisfiable (object size {size})")
