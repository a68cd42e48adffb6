"""Streamed request bodies: aws-chunked decoding, chunk signatures, trailers, lengths."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import pytest

from dockyard.api.auth import AuthError, SigV4
from dockyard.api.http import HttpRequest
from dockyard.api.streaming import (
    IncompleteBody,
    RequestBody,
    bucket_path,
    virtual_host_bucket,
)
from dockyard.core.errors import ServiceError


def _receiver(wire: bytes, piece: int = 7) -> Any:
    parts = [wire[i : i + piece] for i in range(0, len(wire), piece)] or [b""]

    async def receive() -> dict[str, Any]:
        body = parts.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    return receive


def _read(body: RequestBody) -> bytes:
    async def go() -> bytes:
        return b"".join([c async for c in body.chunks()])

    return asyncio.run(go())


def _req(headers: dict[str, str]) -> HttpRequest:
    return HttpRequest("PUT", "/b/k", "", {"host": "h", **headers})


def test_plain_body_is_passed_through_and_its_hash_checked() -> None:
    data = b"hello world" * 100
    sha = hashlib.sha256(data).hexdigest()
    headers = {"x-amz-content-sha256": sha, "content-length": str(len(data))}
    body = RequestBody(_receiver(data), _req(headers), None, None)
    assert _read(body) == data
    body.finish(sha)
    with pytest.raises(AuthError) as err:
        body.finish(hashlib.sha256(b"other").hexdigest())
    assert err.value.code == "XAmzContentSHA256Mismatch"


def test_a_short_body_is_incomplete() -> None:
    body = RequestBody(_receiver(b"abc"), _req({"content-length": "10"}), None, None)
    with pytest.raises(IncompleteBody):
        _read(body)


def test_unsigned_chunked_body_with_trailer() -> None:
    wire = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    headers = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
               "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "11"}  # fmt: skip
    body = RequestBody(_receiver(wire, piece=3), _req(headers), None, None)
    assert _read(body) == b"hello world"
    assert body.trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


@pytest.mark.parametrize(
    "wire",
    [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhel", b"5\r\nhelloXX0\r\n\r\n", b"5" * 5000],
)
def test_malformed_chunked_bodies(wire: bytes) -> None:
    headers = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
               "content-encoding": "aws-chunked"}  # fmt: skip
    with pytest.raises(ServiceError):
        _read(RequestBody(_receiver(wire), _req(headers), None, None))


def _signed(chunks: list[bytes], secret: str, tamper: bool) -> tuple[HttpRequest, SigV4, bytes]:
    from dockyard.api.auth import signature

    headers = {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
               "x-amz-date": "20260101T000000Z", "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(sum(map(len, chunks)))}  # fmt: skip
    req = _req(headers)
    signed = ("host", "x-amz-content-sha256", "x-amz-date")
    draft = SigV4("AK", "20260101", "us-east-1", "s3", signed, "")
    seed = signature(req, draft, secret, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    sig = SigV4("AK", "20260101", "us-east-1", "s3", signed, seed)
    key = hmac.new(f"AWS4{secret}".encode(), b"20260101", hashlib.sha256).digest()
    for part in ("us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    previous, wire = seed, bytearray()
    empty = hashlib.sha256(b"").hexdigest()
    for chunk in [*chunks, b""]:
        text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", "20260101T000000Z",
                          "20260101/us-east-1/s3/aws4_request", previous, empty,
                          hashlib.sha256(chunk).hexdigest()])  # fmt: skip
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        sent = chunk[::-1] if tamper and chunk else chunk
        wire += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    return req, sig, bytes(wire)


def test_signed_chunks_are_verified() -> None:
    chunks = [b"first chunk", b"second"]
    req, sig, wire = _signed(chunks, "s3cret", tamper=False)
    assert _read(RequestBody(_receiver(wire), req, sig, "s3cret")) == b"".join(chunks)
    req, sig, wire = _signed(chunks, "s3cret", tamper=True)
    body = RequestBody(_receiver(wire), req, sig, "s3cret")
    with pytest.raises(AuthError) as err:
        _read(body)
    assert err.value.code == "SignatureDoesNotMatch"
    with pytest.raises(AuthError):  # the seed signature, before any byte is read
        RequestBody(_receiver(wire), req, sig, "wrong")


def test_virtual_host_names() -> None:
    assert virtual_host_bucket("my-bucket.s3.localhost:4566") == "my-bucket"
    assert virtual_host_bucket("a.b.s3.us-west-2.localhost") == "a.b"
    assert virtual_host_bucket("127.0.0.1:4566") is None
    assert virtual_host_bucket("s3.localhost:4566") is None
    assert virtual_host_bucket("x.elb.localhost") is None
    assert bucket_path("/", "b") == "/b" and bucket_path("/k/x", "b") == "/b/k/x"


def test_a_body_that_stops_arriving_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from dockyard.api import streaming

    monkeypatch.setattr(streaming, "IDLE_TIMEOUT", 0.05)

    async def never() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}

    body = RequestBody(never, _req({"content-length": "10"}), None, None)
    with pytest.raises(ServiceError) as err:
        _read(body)
    assert err.value.code == "RequestTimeout"
