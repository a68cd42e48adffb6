"""Connections to targets: HTTP/1.1 with keep-alive, pooled per target address.

An `UpstreamConnection` carries one exchange at a time; the exchange (the client connection
that sent the request) gets the response through the `Exchange` callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from typing import Protocol, cast

import httptools

MAX_IDLE_PER_TARGET = 256


class Exchange(Protocol):
    def on_response_head(
        self, conn: UpstreamConnection, status: int, reason: bytes,
        headers: list[tuple[bytes, bytes]], keep_alive: bool,
    ) -> None: ...  # fmt: skip

    def on_response_body(self, conn: UpstreamConnection, body: bytes) -> None: ...

    def on_response_done(self, conn: UpstreamConnection) -> None: ...

    def on_upstream_lost(self, conn: UpstreamConnection, exc: Exception | None) -> None: ...


def client_tls() -> ssl.SSLContext:
    """Targets' certificates are not verified, as ALB does not verify them."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class UpstreamConnection(asyncio.Protocol):
    def __init__(self, pool: Pool, address: tuple[str, int, bool]) -> None:
        self.pool = pool
        self.address = address
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: Exchange | None = None
        self.closed = False
        self.reused = False  # served an exchange before: a failure may be a stale keep-alive
        self.got_bytes = False  # of the current exchange's response
        self.head_only = False  # the current request is HEAD: the response has no body
        self.last_activity = 0.0
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []

    # asyncio

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:
            self.close()  # a target must not speak unasked
            return
        self.got_bytes = True
        self.last_activity = self.pool.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            exchange, self.exchange = self.exchange, None
            self.close()
            if exchange is not None:
                exchange.on_upstream_lost(self, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.on_upstream_lost(self, exc)

    # httptools

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            self._reason, self._headers = b"", []
            return  # an interim response; the final one follows
        headers, reason = self._headers, self._reason
        self._reason, self._headers = b"", []
        exchange.on_response_head(self, status, reason, headers, self.parser.should_keep_alive())
        if self.head_only and self.exchange is not None:
            # llhttp would wait for the body that Content-Length announces: start afresh.
            self.parser = httptools.HttpResponseParser(self)
            self.exchange = None
            exchange.on_response_done(self)

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.on_response_body(self, body)

    def on_message_complete(self) -> None:
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.on_response_done(self)

    # use

    def send(self, exchange: Exchange, data: bytes, head_only: bool) -> None:
        assert self.transport is not None
        self.exchange = exchange
        self.got_bytes = False
        self.head_only = head_only
        self.last_activity = self.pool.loop.time()
        self.transport.write(data)

    def close(self) -> None:
        self.closed = True
        self.exchange = None
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        self.exchange = None
        if self.transport is not None:
            self.transport.abort()


class Pool:
    """Idle keep-alive connections per target address (host, port, tls)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.idle: dict[tuple[str, int, bool], deque[UpstreamConnection]] = {}
        self._tls: ssl.SSLContext | None = None

    def take(self, address: tuple[str, int, bool]) -> UpstreamConnection | None:
        idle = self.idle.get(address)
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                conn.reused = True
                return conn
        return None

    def give_back(self, conn: UpstreamConnection) -> None:
        if conn.closed:
            return
        idle = self.idle.setdefault(conn.address, deque())
        if len(idle) >= MAX_IDLE_PER_TARGET:
            conn.close()
            return
        idle.append(conn)

    def forget(self, conn: UpstreamConnection) -> None:
        idle = self.idle.get(conn.address)
        if idle:
            with contextlib.suppress(ValueError):
                idle.remove(conn)

    def close_idle(self, address: tuple[str, int, bool] | None = None) -> None:
        """Close idle connections (to one target, or all)."""
        keys = [address] if address is not None else list(self.idle)
        for key in keys:
            for conn in list(self.idle.pop(key, ())):
                conn.close()

    async def connect(self, address: tuple[str, int, bool], timeout: float) -> UpstreamConnection:
        host, port, tls = address
        if tls and self._tls is None:
            self._tls = client_tls()
        async with asyncio.timeout(timeout):
            _, conn = await self.loop.create_connection(
                lambda: UpstreamConnection(self, address), host, port,
                ssl=self._tls if tls else None,
            )  # fmt: skip
        return conn
