"""Request bodies read as a stream (S3 PutObject / UploadPart), never held whole.

`RequestBody` hands the body to its consumer in pieces, as the client sends them. It undoes
`aws-chunked` on the fly (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, each chunk's signature
checked as it arrives, and `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, whose trailing checksum
headers end up in `trailers`). The seed signature is checked from the headers before a byte
is read (it covers the claimed `x-amz-content-sha256`); the consumer hashes what it stores
and calls `finish(sha256)`, which refuses a body whose hash is not the claimed one. A
consumer that commits only after `finish` commits only signed bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping

from dockyard.api.asgi import Receive
from dockyard.api.auth import UNSIGNED_PAYLOAD, AuthError, SigV4, signature
from dockyard.api.http import HttpRequest
from dockyard.api.limits import Disconnected
from dockyard.core.errors import ServiceError

SIGNED_STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# A chunk header line ("<hex size>;chunk-signature=<64 hex>") or a trailer line is short.
_MAX_LINE = 4096
_MAX_TRAILER_BYTES = 16 * 1024
_MAX_CHUNK = 64 * 1024 * 1024
# A body that stops arriving for this long is answered RequestTimeout, as S3 does.
IDLE_TIMEOUT = 20.0


class IncompleteBody(ServiceError):
    code = "IncompleteBody"
    status = 400


class RequestTimeout(ServiceError):
    code = "RequestTimeout"
    status = 400


class InvalidRequest(ServiceError):
    code = "InvalidRequest"
    status = 400


def _mismatch() -> AuthError:
    return AuthError(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.",
        code="SignatureDoesNotMatch",
    )


def _sha_mismatch() -> AuthError:
    return AuthError(
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        code="XAmzContentSHA256Mismatch",
        status=400,
    )


class RequestBody:
    """The body of one request, read once, in order."""

    def __init__(
        self,
        receive: Receive,
        req: HttpRequest,
        sig: SigV4 | None,
        secret: str | None,
    ) -> None:
        self._receive = receive
        self.headers: Mapping[str, str] = req.headers
        self.trailers: dict[str, str] = {}
        claimed = req.headers.get("x-amz-content-sha256", "")
        encoding = req.headers.get("content-encoding", "")
        self.chunked = claimed.startswith("STREAMING-") or "aws-chunked" in encoding
        self._signed_chunks = claimed in (SIGNED_STREAMING, SIGNED_TRAILER) and secret is not None
        # The SHA-256 the consumer must match at `finish` (None: nothing to match).
        self.expected_sha256: str | None = None
        if len(claimed) == 64 and all(c in "0123456789abcdef" for c in claimed):
            self.expected_sha256 = claimed
        self._sig = sig
        self._key = b""
        self._scope = ""
        self._amz_date = ""
        self._previous = sig.signature if sig is not None else ""
        if secret is not None and sig is not None:
            self._check_seed(req, sig, secret, claimed)
        length = req.headers.get("x-amz-decoded-content-length")
        raw = req.headers.get("content-length")
        self.length: int | None = None
        text = length if self.chunked else raw
        if text is not None and text.strip().isdigit():
            self.length = int(text)
        self.received = 0
        # Whether the whole body has arrived: an answer given before (a refusal) must close
        # the connection, whose unread rest would otherwise be taken for the next request.
        self.finished = False
        self._pending: list[bytes] = []

    def _check_seed(self, req: HttpRequest, sig: SigV4, secret: str, claimed: str) -> None:
        if sig.presigned:
            payload = UNSIGNED_PAYLOAD
        elif not claimed:
            raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
        else:
            payload = claimed
        if not hmac.compare_digest(signature(req, sig, secret, payload), sig.signature):
            raise _mismatch()
        self._scope = f"{sig.date}/{sig.region}/{sig.service}/aws4_request"
        self._amz_date = (
            req.query_value("X-Amz-Date") or "" if sig.presigned else req.headers["x-amz-date"]
        )
        key = hmac.new(("AWS4" + secret).encode(), sig.date.encode(), hashlib.sha256).digest()
        for part in (sig.region, sig.service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self._key = key

    async def _raw(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT):
                    message = await self._receive()
            except TimeoutError:
                raise RequestTimeout(
                    "Your socket connection to the server was not read from or written to "
                    "within the timeout period. Idle connections will be closed."
                ) from None
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.finished = True
                return

    async def chunks(self) -> AsyncIterator[bytes]:
        """The decoded body, piece by piece."""
        source = self._decode() if self.chunked else self._raw()
        async for piece in source:
            self.received += len(piece)
            yield piece
        if self.length is not None and self.received != self.length:
            raise IncompleteBody(
                "The request body terminated unexpectedly"
                if self.received < self.length
                else "The request body is longer than its declared length"
            )

    async def _decode(self) -> AsyncIterator[bytes]:
        buf = bytearray()
        raw = self._raw()
        ended = False

        async def fill(n: int) -> bool:
            nonlocal ended
            while len(buf) < n and not ended:
                try:
                    buf.extend(await anext(raw))
                except StopAsyncIteration:
                    ended = True
            return len(buf) >= n

        async def line() -> str:
            while b"\r\n" not in buf:
                if len(buf) > _MAX_LINE or not await fill(len(buf) + 1):
                    raise IncompleteBody("The aws-chunked body has a malformed chunk header")
            end = buf.index(b"\r\n")
            text = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 2]
            return text

        while True:
            header = await line()
            size_text, _, ext = header.partition(";")
            try:
                size = int(size_text.strip(), 16)
            except ValueError:
                raise IncompleteBody("The aws-chunked body has a malformed chunk size") from None
            if size > _MAX_CHUNK:
                raise IncompleteBody("An aws-chunked chunk is larger than this server accepts")
            claimed_sig = ext.partition("chunk-signature=")[2].strip()
            if size:
                digest = hashlib.sha256() if self._signed_chunks else None
                left = size
                while left:
                    if not buf and not await fill(1):
                        raise IncompleteBody("The request body terminated unexpectedly")
                    piece = bytes(buf[:left])
                    del buf[: len(piece)]
                    left -= len(piece)
                    if digest is not None:
                        digest.update(piece)
                    if self._signed_chunks:
                        # Nothing of a chunk is handed on before its signature holds.
                        self._pending.append(piece)
                    else:
                        yield piece
                if digest is not None:
                    self._verify_chunk(claimed_sig, digest.hexdigest())
                    for piece in self._pending:
                        yield piece
                    self._pending.clear()
                if not await fill(2) or bytes(buf[:2]) != b"\r\n":
                    raise IncompleteBody("The aws-chunked body has a malformed chunk ending")
                del buf[:2]
                continue
            if self._signed_chunks:
                self._verify_chunk(claimed_sig, _EMPTY_SHA256)
            # The last chunk: trailers (if any), then an empty line.
            size_seen = 0
            while True:
                text = await line() if (buf or await fill(1)) else ""
                if not text:
                    break
                size_seen += len(text)
                if size_seen > _MAX_TRAILER_BYTES:
                    raise IncompleteBody("The aws-chunked trailer is too large")
                name, _, value = text.partition(":")
                self.trailers[name.strip().lower()] = value.strip()
            return

    def _verify_chunk(self, claimed: str, sha: str) -> None:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                self._amz_date,
                self._scope,
                self._previous,
                _EMPTY_SHA256,
                sha,
            ]
        )
        computed = hmac.new(self._key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(computed, claimed):
            raise _mismatch()
        self._previous = computed

    def finish(self, sha256_hex: str | None) -> None:
        """Refuse the body if it is not the one signed (`sha256_hex`: what was received)."""
        if self.expected_sha256 is not None and sha256_hex != self.expected_sha256:
            raise _sha_mismatch()


def virtual_host_bucket(host: str) -> str | None:
    """The bucket of a virtual-hosted-style S3 request (`<bucket>.s3.localhost[:port]`,
    `<bucket>.s3.<region>.localhost[:port]`), else None."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower()
    if not name.endswith(".localhost"):
        return None
    labels = name[: -len(".localhost")].split(".")
    # bucket names may hold dots: <bucket...>.s3 or <bucket...>.s3.<region>
    if len(labels) >= 2 and labels[-1] == "s3":
        bucket = ".".join(labels[:-1])
    elif len(labels) >= 3 and labels[-2] == "s3":
        bucket = ".".join(labels[:-2])
    else:
        return None
    return bucket or None


def bucket_path(path: str, bucket: str) -> str:
    """The path-style path of a virtual-hosted request's path."""
    return f"/{bucket}" if path in ("", "/") else f"/{bucket}{path}"
