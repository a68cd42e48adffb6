"""Front-door limits: how much of a request the server reads, inflates and parses.

The caps are generous for real SDK use (the largest AWS request bodies Dockyard serves are
a few MiB) and small enough that one request cannot make the server hold much memory or
recurse without bound.
"""

from __future__ import annotations

import re
import zlib

from dockyard.api.asgi import Receive
from dockyard.api.errors import SerializationError
from dockyard.core.errors import ServiceError

# A request body, as sent and after gzip is undone.
MAX_BODY_BYTES = 16 * 1024 * 1024
# The request target (path and query string).
MAX_URL_BYTES = 16 * 1024
# All header names and values together.
MAX_HEADER_BYTES = 64 * 1024
# Nesting of JSON arrays and objects and of XML elements in a request body.
MAX_DEPTH = 100


class RequestTooLarge(ServiceError):
    code = "RequestEntityTooLargeException"
    status = 413


class UriTooLong(ServiceError):
    code = "RequestUriTooLong"
    status = 414


class HeadersTooLarge(ServiceError):
    code = "RequestHeaderFieldsTooLarge"
    status = 431


class Disconnected(Exception):
    """The client went away before its request was read."""


def too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"Request body is larger than the {limit} bytes this server accepts")


async def read_body(receive: Receive, content_length: int | None, limit: int) -> bytes:
    """The request body, read no further than `limit` bytes (RequestTooLarge past it)."""
    if content_length is not None and content_length > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def gunzip(data: bytes, limit: int) -> bytes | None:
    """A gzip body inflated, never past `limit` bytes (RequestTooLarge beyond it);
    None when it is not gzip."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        # One byte past the cap tells "exactly at the cap" from "more to come".
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    return out


def content_length(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


# A JSON string (skipped whole: brackets inside it do not nest) or a bracket.
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPEN = frozenset(b"[{")


def check_json_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """SerializationException for a JSON document nested deeper than `limit`."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    depth = 0
    for match in _JSON_TOKEN.finditer(body):
        first = match.group()[0]
        if first in _OPEN:
            depth += 1
            if depth > limit:
                raise nested_too_deep(limit)
        elif first != 0x22:  # a closing bracket, not a string
            depth -= 1


def nested_too_deep(limit: int = MAX_DEPTH) -> SerializationError:
    return SerializationError(f"Request body nests deeper than {limit} levels")
