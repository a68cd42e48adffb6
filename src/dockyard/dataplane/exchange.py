"""What a listener reads of one HTTP request, and the headers and cookies it adds to it:
the trace id, the stickiness cookies."""

from __future__ import annotations

import base64
import binascii
import itertools
import random
from dataclasses import dataclass


@dataclass(slots=True)
class Request:
    method: bytes
    url: bytes
    headers: list[tuple[bytes, bytes, bytes]]  # (lower-case name, name, value)
    body: bytes
    keep_alive: bool
    http11: bool

    def header(self, lname: bytes) -> bytes | None:
        for n, _, v in self.headers:
            if n == lname:
                return v
        return None

    def cookie(self, name: str) -> str | None:
        raw = self.header(b"cookie")
        if raw is None:
            return None
        prefix = name + "="
        for part in raw.decode("latin-1").split(";"):
            part = part.strip()
            if part.startswith(prefix):
                return part[len(prefix) :]
        return None


_trace_prefix: tuple[int, bytes] = (-1, b"")
_trace_serial = itertools.count()


def trace_id(now: int) -> bytes:
    """An X-Amzn-Trace-Id header line: Root=1-<epoch seconds, hex>-<96-bit identifier, hex>;
    the identifier is 32 random bits drawn each second and a 64-bit serial (unique, cheap)."""
    global _trace_prefix
    if _trace_prefix[0] != now:
        _trace_prefix = (
            now,
            b"X-Amzn-Trace-Id: Root=1-%08x-%08x" % (now, random.getrandbits(32)),
        )
    return b"%s%016x\r\n" % (_trace_prefix[1], next(_trace_serial))


def encode_cookie(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cookie(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
