"""The client side of a listener's limits, driven by hand: header sizes, the client header
timeout and the idle timeout, in the server's clock (time_scale)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from dockyard.dataplane import proxy
from dockyard.dataplane.config import FixedResponse, ListenerConfig, RuleConfig
from dockyard.dataplane.metrics import LoadBalancerCounters


class Transport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def writelines(self, parts: Any) -> None:
        self.written += b"".join(parts)

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else None

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Plane:
    def __init__(self, loop: asyncio.AbstractEventLoop, time_scale: float) -> None:
        self.loop = loop
        self.pool: Any = None
        self.groups: dict[str, Any] = {}
        self.time_scale = time_scale

    def now(self) -> float:
        return self.loop.time()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def connect(loop: asyncio.AbstractEventLoop, idle: float = 60.0, scale: float = 1.0) -> tuple[
    proxy.ClientConnection, Transport
]:  # fmt: skip
    config = ListenerConfig("arn", 80, "HTTP", "lb", "app/lb/1", (
        RuleConfig("default", (), FixedResponse(200, "text/plain", b"ok")),
    ), idle_timeout=idle)  # fmt: skip
    runtime = proxy.ListenerRuntime(Plane(loop, scale), config, LoadBalancerCounters())
    conn = proxy.ClientConnection(runtime)
    transport = Transport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport


def status(transport: Transport) -> bytes:
    return transport.written.split(b"\r\n", 1)[0]


def test_a_request_within_the_limits_is_answered(loop: asyncio.AbstractEventLoop) -> None:
    conn, transport = connect(loop)
    conn.data_received(b"GET /" + b"a" * 16000 + b" HTTP/1.1\r\nX-A: " + b"b" * 16000 + b"\r\n\r\n")
    assert status(transport) == b"HTTP/1.1 200 OK"
    assert not transport.closed


@pytest.mark.parametrize(
    "head",
    [
        b"GET /" + b"a" * (17 * 1024) + b" HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX-A: " + b"b" * (17 * 1024) + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n"
        + b"".join(b"X-%d: %s\r\n" % (i, b"c" * 15000) for i in range(5))
        + b"\r\n",
    ],
)
def test_oversized_heads_get_400_and_close(loop: asyncio.AbstractEventLoop, head: bytes) -> None:
    conn, transport = connect(loop)
    conn.data_received(head)
    assert status(transport) == b"HTTP/1.1 400 Bad Request"
    assert transport.closed


def test_an_endless_header_sent_in_pieces_is_refused_before_it_ends(
    loop: asyncio.AbstractEventLoop,
) -> None:
    conn, transport = connect(loop)
    conn.data_received(b"GET / HTTP/1.1\r\nX-Endless: ")
    for _ in range(100):
        if transport.closed:
            break
        conn.data_received(b"z" * 4096)
    assert status(transport) == b"HTTP/1.1 400 Bad Request"
    assert transport.closed


def test_headers_not_complete_by_the_header_timeout_get_408(
    loop: asyncio.AbstractEventLoop,
) -> None:
    conn, transport = connect(loop, scale=30.0)
    conn.data_received(b"GET / HTTP/1.1\r\nX-Slow: a")
    started = conn.head_started
    conn.check_client(started + 1.9)  # 57 s of the server's clock
    assert not transport.closed
    conn.check_client(started + 2.0)  # 60 s
    assert status(transport) == b"HTTP/1.1 408 Request Timeout"
    assert transport.closed
    answered = transport.written
    conn.check_client(started + 3.0)  # the next sweep, before the connection is gone
    assert transport.written == answered  # said once


def test_an_idle_connection_closes_silently_at_the_idle_timeout(
    loop: asyncio.AbstractEventLoop,
) -> None:
    conn, transport = connect(loop, idle=120.0, scale=10.0)
    conn.data_received(b"GET / HTTP/1.1\r\n\r\n")
    answered = transport.written
    conn.check_client(conn.last_read + 11.9)
    assert not transport.closed
    conn.check_client(conn.last_read + 12.0)
    assert transport.closed
    assert transport.written == answered  # nothing more said


def test_a_stalled_body_gets_408_at_the_idle_timeout(loop: asyncio.AbstractEventLoop) -> None:
    conn, transport = connect(loop)
    conn.data_received(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    conn.check_client(conn.last_read + 59.0)
    assert not transport.closed
    conn.check_client(conn.last_read + 60.0)
    assert status(transport) == b"HTTP/1.1 408 Request Timeout"
    assert transport.closed
