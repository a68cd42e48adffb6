"""Trivial servers for benchmarks/s3.py's ceilings: what the benchmark's own client reaches
against a server that does nothing (reads a PUT's body and drops it, answers a GET with a MiB
from memory), over a bare asyncio protocol and over uvicorn with a do-nothing ASGI app (the
HTTP stack Dockyard runs on). Neither stores anything: they bound what any server could
show with this client on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

MiB = 1024 * 1024
_BODY = os.urandom(MiB)
_EMPTY_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class _Discard(asyncio.Protocol):
    """HTTP/1.1 keep-alive, just enough of it: Content-Length bodies, no chunked."""

    def connection_made(self, transport: Any) -> None:  # uvloop's is no asyncio.Transport
        self.transport = transport
        self.buf = bytearray()
        self.left = 0

    def data_received(self, data: bytes) -> None:
        if self.left:
            take = min(self.left, len(data))
            self.left -= take
            data = data[take:]
            if self.left:
                return
            self.transport.write(_EMPTY_200)
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[: end + 4]
            size = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    size = int(value)
            if head.startswith(("GET", "HEAD")):
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % MiB)
                if head.startswith("GET"):
                    self.transport.write(_BODY)
                continue
            take = min(size, len(self.buf))
            del self.buf[:take]
            if take < size:
                self.left = size - take
                return
            self.transport.write(_EMPTY_200)


async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    get = scope["method"] == "GET"
    length = str(MiB if get else 0).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]}
    )
    await send({"type": "http.response.body", "body": _BODY if get else b""})


def _serve_raw(port: int) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(_Discard, "127.0.0.1", port)
        await asyncio.Event().wait()

    uvloop.run(main())


def _serve_uvicorn(port: int) -> None:
    import uvicorn

    uvicorn.run(_asgi, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return
        time.sleep(0.1)
    raise RuntimeError("the trivial server did not start")


@contextlib.contextmanager
def trivial_server(kind: str, port: int) -> Iterator[int]:
    """A trivial server ("raw" or "uvicorn") on `port`, for the length of the block."""
    target = _serve_raw if kind == "raw" else _serve_uvicorn
    proc = multiprocessing.Process(target=target, args=(port,), daemon=True)
    proc.start()
    try:
        _wait(port)
        yield port
    finally:
        proc.terminate()
        proc.join(10)
