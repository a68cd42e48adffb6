"""The HTTP/1.1 side of a listener: one `ClientConnection` per client connection, keep-alive,
requests answered in order; each request routed by the listener's current rules and either
answered by the load balancer (fixed response, redirect, 5XX) or forwarded to a target over a
pooled keep-alive connection.

Limits, as ALB has them: request headers must arrive within HEADER_TIMEOUT of their first byte
(else 408 and the connection closes: a client trickling its headers cannot hold a connection);
the request line and each header at most 16 KiB, all headers at most 64 KiB (else 400); a
connection with no request in progress closes after the load balancer's idle timeout. Timeouts
are in the server's clock (`--time-scale` shortens them), checked by the plane's sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from email.utils import formatdate
from typing import Protocol, cast

import httptools

from dockyard.dataplane.balancer import GroupRuntime
from dockyard.dataplane.config import FixedResponse, ListenerConfig, Redirect, TargetConfig
from dockyard.dataplane.exchange import Request, decode_cookie, encode_cookie, trace_id
from dockyard.dataplane.matching import RequestView
from dockyard.dataplane.metrics import LoadBalancerCounters
from dockyard.dataplane.routes import (
    ForwardRuntime,
    Routes,
    elb_response,
    redirect_location,
)
from dockyard.dataplane.upstream import Pool, UpstreamConnection

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds, as ALB waits for a target to accept a connection
HEADER_TIMEOUT = 60.0  # seconds, ALB's HTTP client header timeout
MAX_LINE = 16 * 1024  # the request line, and each header line
MAX_HEAD = 64 * 1024  # all request headers
HOP_REQUEST = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"transfer-encoding",
    b"upgrade", b"expect", b"content-length", b"trailer", b"x-forwarded-proto",
    b"x-forwarded-port", b"x-forwarded-for",
})  # fmt: skip
HOP_RESPONSE = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"trailer",
    b"upgrade",
})  # fmt: skip
BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})
MODE_NONE, MODE_RAW, MODE_CHUNK = 0, 1, 2
STICKY_COOKIE = "AWSALB"
APP_STICKY_COOKIE = "AWSALBAPP-0"
GROUP_COOKIE = "AWSALBTG"
NO_COOKIES: list[bytes] = []


class Plane(Protocol):
    loop: asyncio.AbstractEventLoop
    pool: Pool
    groups: dict[str, GroupRuntime]
    time_scale: float  # server-clock seconds per real second

    def now(self) -> float: ...


class ListenerRuntime:
    """A listener's routing, swapped whole when its configuration changes: requests already
    running keep what they chose, the next request sees the new rules."""

    def __init__(self, plane: Plane, config: ListenerConfig, counters: LoadBalancerCounters):
        self.plane = plane
        self.counters = counters
        self.connections: set[ClientConnection] = set()
        self.update(config)

    def update(self, config: ListenerConfig) -> None:
        self.config = config
        self.routes = Routes(config)
        self.scheme = "https" if config.protocol == "HTTPS" else "http"
        self.forwarded = (
            f"X-Forwarded-Proto: {self.scheme}\r\nX-Forwarded-Port: {config.port}\r\n".encode()
        )


class ClientConnection(asyncio.Protocol):
    def __init__(self, listener: ListenerRuntime) -> None:
        self.listener = listener
        self.plane = listener.plane
        self.loop = listener.plane.loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client_ip = ""
        self.queue: deque[Request] = deque()
        self.closed = False
        # the request being parsed
        self._url = b""
        self._headers: list[tuple[bytes, bytes, bytes]] = []
        self._body: list[bytes] = []
        # the exchange in progress
        self.req: Request | None = None
        self.group: GroupRuntime | None = None
        self.target: TargetConfig | None = None
        self.upstream: UpstreamConnection | None = None
        self.upstream_data = b""
        self.retried = False
        self.started = 0.0
        self.status = 0
        self.resp_started = False
        self.resp_mode = MODE_NONE
        self.close_after = False
        self.upstream_keep_alive = False
        self.until_close = False
        self.pending_head = b""
        self.set_cookies: list[bytes] = NO_COOKIES  # replaced, never appended to
        self.connecting: asyncio.Task[None] | None = None
        # limits: loop (real) times; the sweep converts them to the server's clock
        self.in_head = False
        self.in_body = False
        self.head_started = 0.0
        self.head_bytes = 0
        self.last_read = self.loop.time()

    # asyncio

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        self.client_ip = str(peer[0]) if peer else ""
        self.listener.connections.add(self)
        self.listener.counters.new_connections += 1
        self.listener.counters.active_connections += 1

    def data_received(self, data: bytes) -> None:
        was_in_head = self.in_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reject(501)
            return
        except httptools.HttpParserError:
            self._reject(400)
            return
        if was_in_head and self.in_head:
            # A chunk that is all header bytes (possibly of an unfinished header line, which
            # httptools holds without telling us): counted so no header grows without bound.
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD + MAX_LINE:
                self._reject(400)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.listener.connections.discard(self)
        self.listener.counters.active_connections -= 1
        if self.connecting is not None:
            self.connecting.cancel()
        upstream, self.upstream = self.upstream, None
        if upstream is not None:
            upstream.abort()
        if self.req is not None:
            self._end_exchange()
        self.queue.clear()

    def pause_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.resume_reading()

    # httptools: the request

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._body = []
        self.in_head = True
        self.head_started = self.loop.time()
        self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_LINE:
            raise httptools.HttpParserError("request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value) + 4
        if len(value) > MAX_LINE or self.head_bytes > MAX_HEAD:
            raise httptools.HttpParserError("request headers too large")
        lname = name.lower()
        self._headers.append((lname, name, value))
        if lname == b"expect" and value.lower() == b"100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.in_body = True

    def on_body(self, body: bytes) -> None:
        self.last_read = self.loop.time()  # a body that keeps coming is not idle
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.in_body = False
        req = Request(
            method=self.parser.get_method(),
            url=self._url,
            headers=self._headers,
            body=b"".join(self._body),
            keep_alive=self.parser.should_keep_alive(),
            http11=self.parser.get_http_version() == "1.1",
        )
        if self.req is not None or self.queue:
            self.queue.append(req)
            if self.transport is not None:
                self.transport.pause_reading()  # one request ahead is enough
            return
        self._dispatch(req)

    # routing

    def _view(self, req: Request) -> RequestView:
        url = httptools.parse_url(req.url) if req.url and req.url[0:1] != b"*" else None
        path = url.path.decode("latin-1") if url is not None and url.path else "/"
        query = url.query.decode("latin-1") if url is not None and url.query else ""
        headers: dict[str, str] = {}
        for lname, _, value in req.headers:
            key = lname.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]},{text}" if key in headers else text
        host = (
            headers.get("host", "").rsplit(":", 1)[0]
            if "]" not in headers.get("host", "")
            else headers.get("host", "")
        )
        return RequestView(
            req.method.decode("latin-1"), path, query, host.lower(), headers, self.client_ip
        )

    def _dispatch(self, req: Request) -> None:
        self.req = req
        self.started = self.loop.time()
        self.resp_started = False
        self.retried = False
        self.set_cookies = NO_COOKIES
        listener = self.listener
        listener.counters.requests += 1
        routes = listener.routes
        view = None if routes.trivial else self._view(req)
        action = routes.match(view)
        if isinstance(action, ForwardRuntime):
            self._forward(req, action)
        elif isinstance(action, FixedResponse):
            self._answer(
                elb_response(action.status, action.body, action.content_type or "text/plain",
                             close=not req.keep_alive),
                action.status,
            )  # fmt: skip
        elif isinstance(action, Redirect):
            v = view or self._view(req)
            location = redirect_location(
                action, listener.scheme, v.host, listener.config.port, v.path, v.query
            )
            self._answer(
                elb_response(action.status, b"", extra=[("Location", location)],
                             close=not req.keep_alive),
                action.status,
            )  # fmt: skip
        else:
            self._answer_error(503)

    def _forward(self, req: Request, action: ForwardRuntime) -> None:
        groups = self.plane.groups
        order = action.chooser.order()
        if action.group_stickiness is not None and len(order) > 1:
            order = list(order)
            sticky = decode_cookie(req.cookie(GROUP_COOKIE))
            if sticky in order:
                assert sticky is not None
                order.remove(sticky)
                order.insert(0, sticky)
        for arn in order:
            group = groups.get(arn)
            if group is None:
                continue
            target = None
            kind = group.config.stickiness
            if kind == "lb_cookie" or kind == "app_cookie":
                name = STICKY_COOKIE if kind == "lb_cookie" else APP_STICKY_COOKIE
                key = decode_cookie(req.cookie(name))
                if key is not None:
                    target = group.sticky(key)
            if target is None:
                target = group.pick(self.plane.now() if group.needs_time else 0.0)
            if target is not None:
                break
        else:
            self._answer_error(503)
            return
        self.group, self.target = group, target
        group.acquire(target.key)
        group.counters.requests += 1
        if action.group_stickiness is not None or group.config.stickiness == "lb_cookie":
            cookies: list[bytes] = []
            if action.group_stickiness is not None:
                cookies.extend(self._cookie(GROUP_COOKIE, group.config.arn,
                                            action.group_stickiness))  # fmt: skip
            if group.config.stickiness == "lb_cookie":
                cookies.extend(
                    self._cookie(STICKY_COOKIE, target.key, group.config.stickiness_seconds)
                )
            self.set_cookies = cookies
        self.upstream_data = self._upstream_request(req)
        self._send()

    def _cookie(self, name: str, value: str, seconds: int) -> list[bytes]:
        expires = formatdate(self.plane.now() + seconds, usegmt=True)
        encoded = encode_cookie(value)
        return [
            f"Set-Cookie: {name}={encoded}; Expires={expires}; Path=/\r\n".encode(),
            f"Set-Cookie: {name}CORS={encoded}; Expires={expires}; Path=/; SameSite=None; "
            "Secure\r\n".encode(),
        ]

    def _upstream_request(self, req: Request) -> bytes:
        parts = [req.method, b" ", req.url or b"/", b" HTTP/1.1\r\n"]
        xff: bytes | None = None
        has_host = has_trace = False
        for lname, name, value in req.headers:
            if lname in HOP_REQUEST:
                if lname == b"x-forwarded-for":
                    xff = value if xff is None else xff + b", " + value
                continue
            if lname == b"host":
                has_host = True
            elif lname == b"x-amzn-trace-id":
                has_trace = True
            parts.extend((name, b": ", value, b"\r\n"))
        listener = self.listener
        mode = listener.config.xff_mode
        client = self.client_ip.encode()
        if mode == "append":
            xff = xff + b", " + client if xff else client
        elif mode == "remove":
            xff = None
        if xff:
            parts.extend((b"X-Forwarded-For: ", xff, b"\r\n"))
        parts.append(listener.forwarded)
        if not has_host and self.target is not None:
            parts.append(f"Host: {self.target.host}:{self.target.port}\r\n".encode())
        if not has_trace:
            parts.append(trace_id(int(self.plane.now())))
        if req.body or req.method in BODY_METHODS:
            parts.append(b"Content-Length: %d\r\n" % len(req.body))
        parts.append(b"\r\n")
        if req.body:
            parts.append(req.body)
        return b"".join(parts)

    # the exchange with the target

    def _address(self) -> tuple[str, int, bool]:
        assert self.target is not None and self.group is not None
        return (self.target.host, self.target.port, self.group.config.protocol == "HTTPS")

    def _send(self) -> None:
        address = self._address()
        conn = self.plane.pool.take(address)
        if conn is not None:
            self._attach(conn)
        else:
            self.connecting = self.loop.create_task(self._connect(address))

    async def _connect(self, address: tuple[str, int, bool]) -> None:
        try:
            conn = await self.plane.pool.connect(address, CONNECT_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            self.connecting = None
            self.listener.counters.target_connection_errors += 1
            self._answer_error(504)
            return
        except OSError as exc:
            self.connecting = None
            self.listener.counters.target_connection_errors += 1
            log.debug("target %s:%d refused: %s", address[0], address[1], exc)
            self._answer_error(502)
            return
        self.connecting = None
        if self.closed or self.req is None:
            self.plane.pool.give_back(conn)
            return
        self._attach(conn)

    def _attach(self, conn: UpstreamConnection) -> None:
        assert self.req is not None
        self.upstream = conn
        conn.send(self, self.upstream_data, self.req.method == b"HEAD")

    def check_client(self, now: float) -> None:
        """The client's side of the limits, `now` in loop time. Called by the plane's sweep."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return
        scale = self.plane.time_scale
        if self.in_head:
            if (now - self.head_started) * scale >= HEADER_TIMEOUT:
                self._reject(408)  # headers not complete within the client header timeout
            return
        if self.req is not None or self.queue:
            return  # an exchange in progress: the target's side (check_idle) watches it
        if (now - self.last_read) * scale >= self.listener.config.idle_timeout:
            if self.in_body:
                self._reject(408)  # a request body that stopped coming
            else:
                self.transport.close()  # an idle keep-alive connection

    def check_idle(self, now: float) -> None:
        """The target sent nothing for the load balancer's idle timeout: 504 (or, mid-body,
        the client connection ends). Called by the plane's sweep."""
        conn = self.upstream
        if conn is None or (now - conn.last_activity) * self.plane.time_scale < (
            self.listener.config.idle_timeout
        ):
            return
        self.upstream = None
        conn.abort()
        if self.resp_started:
            self._abort_client()
        else:
            self._answer_error(504)

    def on_response_head(
        self, conn: UpstreamConnection, status: int, reason: bytes,
        headers: list[tuple[bytes, bytes]], keep_alive: bool,
    ) -> None:  # fmt: skip
        req = self.req
        if req is None or self.transport is None:
            return
        self.resp_started = True
        self.status = status
        self.upstream_keep_alive = keep_alive
        parts = [b"HTTP/1.1 %d " % status, reason or b"OK", b"\r\n"]
        has_length = chunked = False
        app_cookie = self.group.app_cookie if self.group else b""
        app_cookie_set = False
        for name, value in headers:
            lname = name.lower()
            if lname in HOP_RESPONSE:
                if lname == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                continue
            if lname == b"content-length":
                has_length = True
            elif app_cookie and lname == b"set-cookie" and value.startswith(app_cookie + b"="):
                app_cookie_set = True
            parts.extend((name, b": ", value, b"\r\n"))
        bodyless = req.method == b"HEAD" or status in (204, 304) or status < 200
        keep = req.keep_alive
        self.until_close = not bodyless and not has_length and not chunked
        if bodyless:
            self.resp_mode = MODE_NONE
        elif has_length and not chunked:
            self.resp_mode = MODE_RAW
        elif req.http11:
            self.resp_mode = MODE_CHUNK
            parts.append(b"Transfer-Encoding: chunked\r\n")
        else:
            self.resp_mode = MODE_RAW  # an HTTP/1.0 client: the body ends with the connection
            keep = False
        self.close_after = not keep
        if not keep:
            parts.append(b"Connection: close\r\n")
        parts.extend(self.set_cookies)
        if app_cookie_set and self.group is not None and self.target is not None:
            parts.extend(self._cookie(APP_STICKY_COOKIE, self.target.key,
                                      self.group.config.stickiness_seconds))  # fmt: skip
        parts.append(b"\r\n")
        self.pending_head = b"".join(parts)  # sent with the first body bytes: one segment

    def on_response_body(self, conn: UpstreamConnection, body: bytes) -> None:
        if self.transport is None or self.closed:
            return
        head, self.pending_head = self.pending_head, b""
        if self.resp_mode == MODE_CHUNK:
            self.transport.writelines((head, b"%x\r\n" % len(body), body, b"\r\n"))
        elif self.resp_mode == MODE_RAW:
            self.transport.writelines((head, body))

    def on_response_done(self, conn: UpstreamConnection) -> None:
        if self.upstream is not conn:
            return
        self.upstream = None
        head, self.pending_head = self.pending_head, b""
        if self.transport is not None:
            tail = b"0\r\n\r\n" if self.resp_mode == MODE_CHUNK else b""
            if head or tail:
                self.transport.write(head + tail)
        target = self.group.by_key.get(self.target.key) if self.group and self.target else None
        if self.upstream_keep_alive and target is not None and target.state != "draining":
            self.plane.pool.give_back(conn)
        else:
            conn.close()
        self._finish(from_target=True)

    def on_upstream_lost(self, conn: UpstreamConnection, exc: Exception | None) -> None:
        if self.upstream is not conn:
            return
        self.upstream = None
        if not self.resp_started:
            if conn.reused and not conn.got_bytes and not self.retried:
                self.retried = True  # a keep-alive connection the target had closed: again
                self._send()
                return
            self._answer_error(502)
        elif self.until_close and exc is None:
            head, self.pending_head = self.pending_head, b""
            if self.transport is not None:
                # the body ended with the connection
                tail = b"0\r\n\r\n" if self.resp_mode == MODE_CHUNK else b""
                self.transport.write(head + tail)
            self._finish(from_target=True)
        else:
            self._abort_client()

    # answers

    def _answer(self, data: bytes, status: int) -> None:
        if self.transport is None or self.closed:
            return
        self.status = status
        self.transport.write(data)
        self.close_after = self.req is None or not self.req.keep_alive
        self.listener.counters.elb_response(status)
        self._finish(from_target=False)

    def _answer_error(self, status: int) -> None:
        if self.req is None:
            return
        self._answer(elb_response(status, close=not self.req.keep_alive), status)

    def _reject(self, status: int) -> None:
        if self.transport is not None and not self.closed:
            self.listener.counters.elb_response(status)
            self.transport.write(elb_response(status, close=True))
            self.transport.close()

    def _abort_client(self) -> None:
        self._end_exchange()
        if self.transport is not None:
            self.transport.abort()

    def _end_exchange(self) -> None:
        if self.group is not None and self.target is not None:
            self.group.release(self.target.key)
        self.req = None
        self.group = None
        self.target = None

    def _finish(self, from_target: bool) -> None:
        self.last_read = self.loop.time()  # idle from the end of the exchange
        if from_target and self.group is not None:
            self.group.counters.target_response(self.status, self.loop.time() - self.started)
        self._end_exchange()
        close, self.close_after = self.close_after, False
        if close:
            if self.transport is not None:
                self.transport.close()
            return
        if self.queue and not self.closed:
            self._dispatch(self.queue.popleft())
            if not self.queue and self.transport is not None and not self.closed:
                self.transport.resume_reading()
