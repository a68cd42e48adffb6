"""The instance metadata service: 169.254.169.254 as each micro-host sees it.

The machine side DNATs `169.254.169.254:80` from every micro-host to this server, so a
request's source address is the instance's private IP: `InstanceMetadata.by_address` says
which instance asks. IMDSv2 (`PUT /latest/api/token`, then `X-aws-ec2-metadata-token` on each
GET) always works; IMDSv1 (a GET without a token) only while the instance's `http_tokens` is
`optional`. As IMDS answers:

- PUT /latest/api/token: `X-aws-ec2-metadata-token-ttl-seconds` 1-21600, else 400; a PUT
  carrying `X-Forwarded-For` (a proxy relaying it) 403.
- a GET with an invalid or expired token, or without one when tokens are required: 401.
- the endpoint disabled in the instance's metadata options, or a peer that is no instance:
  403. Any other method: 405. A path with nothing there: 404.

Limits: the request line and each header at most 8 KiB, all headers at most 16 KiB, a body
at most 4 KiB (else 400 / 413 and the connection closes); a request (headers and body) must
arrive within HEADER_TIMEOUT of its first byte (else 408); an idle keep-alive connection
closes after IDLE_TIMEOUT. Requests on one connection are answered in order, one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from email.utils import formatdate
from typing import cast

import httptools

from dockyard.core.clock import Clock
from dockyard.core.hosts import InstanceMetadata, InstanceView
from dockyard.dataplane import imds_paths
from dockyard.dataplane.imds_tokens import MAX_TTL, MIN_TTL, TokenBook

log = logging.getLogger(__name__)

MAX_LINE = 8 * 1024
MAX_HEAD = 16 * 1024
MAX_BODY = 4 * 1024
HEADER_TIMEOUT = 10.0  # seconds, loop time
IDLE_TIMEOUT = 60.0
TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 413: "Payload Too Large",
    500: "Internal Server Error",
}  # fmt: skip


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    keep_alive: bool


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()


def error(status: int) -> Response:
    """An error as IMDS shows it: a small HTML page naming the status."""
    title = f"{status} - {REASONS[status]}"
    page = (
        '<?xml version="1.0" encoding="iso-8859-1"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
        '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
        f" <head>\n  <title>{title}</title>\n </head>\n <body>\n  <h1>{title}</h1>\n"
        " </body>\n</html>\n"
    )
    return Response(status, page.encode(), "text/html")


class MetadataService:
    """Answers one request: who asks (by address), whether it may, and what is there."""

    def __init__(self, metadata: InstanceMetadata, clock: Clock, tokens: TokenBook) -> None:
        self.metadata = metadata
        self.clock = clock
        self.tokens = tokens

    async def answer(self, peer: str, req: Request) -> Response:
        if req.method not in ("GET", "HEAD", "PUT"):
            return error(405)
        if req.path == TOKEN_PATH and req.method != "PUT":
            return error(405)
        if req.method == "PUT" and req.path != TOKEN_PATH:
            return error(405)
        if req.method == "PUT" and "x-forwarded-for" in req.headers:
            return error(403)
        view = self.metadata.by_address(peer)
        if view is None or not view.endpoint_enabled:
            return error(403)
        if req.method == "PUT":
            return self._token(view, req)
        token = req.headers.get(TOKEN_HEADER)
        extra: tuple[tuple[str, str], ...] = ()
        if token is not None:
            left = self.tokens.remaining(token, view.instance_id)
            if left is None:
                return error(401)
            extra = ((TTL_HEADER, str(int(left))),)
        elif view.http_tokens == "required":
            return error(401)
        found = await self._lookup(view, req.path)
        if found is None:
            return error(404)
        return Response(200, found.body, headers=extra)

    def _token(self, view: InstanceView, req: Request) -> Response:
        text = req.headers.get(TTL_HEADER, "").strip()
        if not text.isdigit() or not MIN_TTL <= int(text) <= MAX_TTL:
            return error(400)
        ttl = int(text)
        token = self.tokens.issue(view.instance_id, ttl)
        return Response(200, token.encode(), headers=((TTL_HEADER, str(ttl)),))

    async def _lookup(self, view: InstanceView, path: str) -> imds_paths.Found | None:
        segments = path.split("/")[1:]  # "/latest/meta-data/" -> ["latest", "meta-data", ""]
        if segments in ([""], []):
            return imds_paths.Found(b"latest")
        if segments[0] != "latest":
            return None
        credentials = None
        if view.role_name and segments[1:4] == ["meta-data", "iam", "security-credentials"]:
            credentials = await self.metadata.role_credentials(view.instance_id)
        now = self.clock.now()
        tree = imds_paths.latest(view, credentials, now, self.metadata.identity_signature)
        return imds_paths.resolve(tree, segments[1:])


class Connection(asyncio.Protocol):
    def __init__(self, server: ImdsServer) -> None:
        self.server = server
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.queue: deque[Request] = deque()
        self.worker: asyncio.Task[None] | None = None
        self.closing = False
        self._url = b""
        self._headers: dict[str, str] = {}
        self._head_bytes = 0
        self._body_bytes = 0
        self._in_head = False
        self._in_request = False  # from the first byte of a request to its last
        self._timer: asyncio.TimerHandle | None = None

    # asyncio

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self.server.connections.add(self)
        self._arm(self.server.idle_timeout)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        was_in_head = self._in_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reject(400)
            return
        except httptools.HttpParserError:
            self._reject(413 if self._body_bytes > MAX_BODY else 400)
            return
        if was_in_head and self._in_head:
            # Header bytes httptools holds without a callback yet (an unfinished line).
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD + MAX_LINE:
                self._reject(400)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)
        self._disarm()
        self.queue.clear()
        if self.worker is not None:
            self.worker.cancel()

    # httptools

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._head_bytes = 0
        self._body_bytes = 0
        self._in_head = True
        self._in_request = True
        self._arm(self.server.header_timeout)  # the whole request, body too

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_LINE:
            raise httptools.HttpParserError("request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        if len(name) + len(value) > MAX_LINE or self._head_bytes > MAX_HEAD:
            raise httptools.HttpParserError("request headers too large")
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]},{text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        self._in_head = False

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > MAX_BODY:
            raise httptools.HttpParserError("request body too large")

    def on_message_complete(self) -> None:
        self._in_request = False
        self._disarm()
        try:
            url = httptools.parse_url(self._url)
            path = url.path.decode("latin-1") if url.path else "/"
        except httptools.HttpParserInvalidURLError:
            path = ""
        self.queue.append(Request(
            self.parser.get_method().decode("latin-1"),
            path,
            self._headers,
            self.parser.should_keep_alive(),
        ))  # fmt: skip
        if len(self.queue) > 1 and self.transport is not None:
            self.transport.pause_reading()  # one request ahead is enough
        if self.worker is None or self.worker.done():
            self.worker = self.loop.create_task(self._work())

    # answering, in order

    async def _work(self) -> None:
        while self.queue and not self.closing:
            req = self.queue.popleft()
            if not req.path.startswith("/"):
                response = error(400)
            else:
                try:
                    response = await self.server.service.answer(self.peer, req)
                except Exception:
                    log.exception("metadata request %s %s failed", req.method, req.path)
                    response = error(500)
            self._write(response, req.keep_alive, head=req.method == "HEAD")
            if not req.keep_alive:
                self._close()
                return
            if self.transport is not None:
                self.transport.resume_reading()
        if not self.closing and not self._in_request:
            self._arm(self.server.idle_timeout)

    def _write(self, response: Response, keep_alive: bool, head: bool = False) -> None:
        if self.transport is None or self.closing:
            return
        lines = [
            f"HTTP/1.1 {response.status} {REASONS[response.status]}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            f"Date: {formatdate(usegmt=True)}",
            "Server: EC2ws",
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
        ]
        lines += [f"{name}: {value}" for name, value in response.headers]
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.transport.write(head_bytes if head else head_bytes + response.body)

    def _reject(self, status: int) -> None:
        self._write(error(status), keep_alive=False)
        self._close()

    def _close(self) -> None:
        self.closing = True
        self._disarm()
        if self.transport is not None:
            self.transport.close()

    # timers (loop time)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self._in_request:
            self._reject(408)
        elif not self.queue and (self.worker is None or self.worker.done()):
            self._close()  # idle


class ImdsServer:
    """The metadata service listening on `host:port` (port 0: a free one)."""

    def __init__(
        self,
        metadata: InstanceMetadata,
        clock: Clock,
        host: str = "169.254.169.254",
        port: int = 0,
        tokens: TokenBook | None = None,
        header_timeout: float = HEADER_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.service = MetadataService(metadata, clock, tokens or TokenBook(clock))
        self.host = host
        self.port = port
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self.loop: asyncio.AbstractEventLoop  # set by start(), before any connection

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(
            lambda: Connection(self), self.host, self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("instance metadata service listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection._close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
