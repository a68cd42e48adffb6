"""The HTTP request and response as the front door sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str  # raw (still percent-encoded) path, without the query string
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    # The body as sent, when it came content-encoded (gzip): what a SigV4 signature covers.
    raw_body: bytes | None = None
    # The SHA-256 (hex) of the body as sent, once computed (SigV4).
    body_sha256: str | None = None
    _query: list[tuple[str, str]] | None = field(default=None, repr=False)
    _form: dict[str, str] | None = field(default=None, repr=False)

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            self._query = parse_qsl(self.query_string, keep_blank_values=True)
        return self._query

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    @property
    def is_form(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")

    @property
    def form(self) -> dict[str, str]:
        """The query-protocol parameters: a form body, else the query string."""
        if self._form is None:
            if self.method == "POST" and self.body and self.is_form:
                text = self.body.decode("utf-8", errors="replace")
                self._form = dict(parse_qsl(text, keep_blank_values=True))
            else:
                self._form = dict(self.query)
        return self._form


class ResponseStream(Protocol):
    """A response body sent in pieces (an S3 object read from its file): `length` bytes in
    all, `status` overriding the operation's (206 for a range), `close` called once sent or
    abandoned."""

    length: int
    status: int | None

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: ResponseStream | None = None
