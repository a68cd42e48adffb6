"""An ALB listener protects itself from clients as ALB does: request headers must be complete
within the client header timeout (60 s) or the connection is closed with 408; a request line
or header over 16 KiB, or headers over 64 KiB in all, get 400; a connection with no request in
progress closes after the load balancer's `idle_timeout.timeout_seconds`. The server runs at
--time-scale 30 so these timeouts are real seconds in the test: 60 s of the server's clock is
2 s of the test's."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

SCALE = 30
HEADER_TIMEOUT = 60 / SCALE  # real seconds
LATE = 0.5  # real seconds a timeout may fire after its time (the sweep runs every clock second)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(
        tmp_path_factory.mktemp("limits") / "data", "--runtime", "process",
        "--time-scale", str(SCALE),
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def elb(server: DockyardProcess) -> Any:
    return make_client("elbv2", server.endpoint)


@pytest.fixture(scope="module")
def alb(elb: Any) -> tuple[str, int]:
    """An ALB whose listener answers every request itself (200 "ok")."""
    lb = elb.create_load_balancer(Name="limits", Subnets=["subnet-a", "subnet-b"])
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    port = free_port()
    elb.create_listener(LoadBalancerArn=arn, Port=port, Protocol="HTTP", DefaultActions=[{
        "Type": "fixed-response",
        "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain",
                                "MessageBody": "ok"},
    }])  # fmt: skip
    wait_for(lambda: get(port, "/")[0] == 200, what="the listener")
    return arn, port


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def test_a_client_trickling_its_headers_is_closed_at_the_header_timeout(
    alb: tuple[str, int],
) -> None:
    _, port = alb
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    closed = threading.Event()
    answer: list[bytes] = []

    def reader() -> None:
        answer.append(read_until_closed(sock))
        closed.set()

    threading.Thread(target=reader, daemon=True).start()
    start = time.monotonic()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
    normal: list[int] = []
    # One byte every 0.1 s (3 s of the server's clock): the connection is never idle, its
    # headers just never end. Meanwhile a normal client uses the same listener.
    while not closed.is_set() and time.monotonic() - start < HEADER_TIMEOUT + 5:
        try:
            sock.send(b"a")
        except OSError:
            break
        normal.append(get(port, "/")[0])
        closed.wait(0.1)
    assert closed.wait(10), "the trickling connection was never closed"
    lasted = time.monotonic() - start
    assert HEADER_TIMEOUT * 0.9 <= lasted < HEADER_TIMEOUT + LATE, f"closed after {lasted:.2f} s"
    assert answer[0].startswith(b"HTTP/1.1 408 "), answer[0][:80]
    sock.close()
    assert normal and set(normal) == {200}, normal
    assert get(port, "/") == (200, b"ok")


@pytest.mark.parametrize(
    ("what", "path", "headers"),
    [
        ("a request line over 16 KiB", "/" + "a" * 17 * 1024, {}),
        ("one header over 16 KiB", "/", {"X-Big": "a" * 17 * 1024}),
        ("headers over 64 KiB in all", "/", {f"X-Part-{i}": "a" * 14 * 1024 for i in range(5)}),
    ],
)
def test_oversized_request_headers_get_400(
    alb: tuple[str, int], what: str, path: str, headers: dict[str, str]
) -> None:
    _, port = alb
    assert get(port, path, headers)[0] == 400, what


def test_headers_within_the_limits_are_served(alb: tuple[str, int]) -> None:
    _, port = alb
    headers = {f"X-Part-{i}": "a" * 15 * 1024 for i in range(3)}
    assert get(port, "/" + "a" * 15 * 1024, headers) == (200, b"ok")


def idle_lifetime(port: int) -> float:
    """Seconds from the end of a keep-alive exchange until the listener closes it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: idle\r\n\r\n")
        data = b""
        while not data.endswith(b"ok"):
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        start = time.monotonic()
        rest = read_until_closed(sock)
        assert rest == b"", rest[:80]  # closed without a word: nothing was asked
        return time.monotonic() - start
    finally:
        sock.close()


def test_an_idle_connection_closes_after_the_load_balancers_idle_timeout(
    elb: Any, alb: tuple[str, int]
) -> None:
    arn, port = alb
    default = 60 / SCALE
    lasted = idle_lifetime(port)
    assert default * 0.9 <= lasted < default + LATE, f"closed after {lasted:.2f} s"
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]
    )
    try:
        longer = 120 / SCALE
        wait_for(lambda: idle_lifetime(port) >= longer * 0.9, timeout=30,
                 what="the new idle timeout in force")  # fmt: skip
        lasted = idle_lifetime(port)
        assert longer * 0.9 <= lasted < longer + LATE, f"closed after {lasted:.2f} s"
    finally:
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "60"}],
        )


def test_a_request_body_that_stops_coming_gets_408_at_the_idle_timeout(
    alb: tuple[str, int],
) -> None:
    _, port = alb
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: stall\r\nContent-Length: 10\r\n\r\nabc")
        start = time.monotonic()
        answer = read_until_closed(sock)
        lasted = time.monotonic() - start
    finally:
        sock.close()
    idle = 60 / SCALE
    assert idle * 0.9 <= lasted < idle + LATE, f"closed after {lasted:.2f} s"
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]


def test_a_connection_in_use_outlives_the_idle_timeout(alb: tuple[str, int]) -> None:
    _, port = alb
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.connect()
        assert conn.sock is not None
        local = conn.sock.getsockname()
        start = time.monotonic()
        while time.monotonic() - start < 2 * HEADER_TIMEOUT:  # past the 60 s idle timeout
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"ok")
            assert not resp.will_close
            time.sleep(0.2)  # 6 s of the server's clock between requests
        assert conn.sock is not None and conn.sock.getsockname() == local  # the same one
    finally:
        conn.close()
