"""A bounded HTTP/1.1 load generator for loopback: keep-alive connections, a request rate or
as fast as the connections go, statuses, errors and latencies counted."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def failed(self) -> int:
        return len(self.errors) + sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(chunks)
    else:
        body = await reader.read()
    return status, body, headers.get("connection", "").lower() != "close"


async def run_load(
    host: str,
    port: int,
    *,
    paths: list[str] | None = None,
    requests: int | None = None,
    duration: float | None = None,
    rate: float | None = None,
    connections: int = 8,
    host_header: str = "lb.local",
    keep_bodies: bool = True,
    stop: asyncio.Event | None = None,
) -> LoadResult:
    """Send GETs over `connections` keep-alive connections until `requests` were sent,
    `duration` seconds passed or `stop` is set; at most `rate` requests per second overall."""
    result = LoadResult()
    paths = paths or ["/"]
    sent = 0
    start = time.monotonic()
    interval = connections / rate if rate else 0.0

    def more() -> bool:
        if stop is not None and stop.is_set():
            return False
        if requests is not None and sent >= requests:
            return False
        return duration is None or time.monotonic() - start < duration

    async def worker(index: int) -> None:
        nonlocal sent
        reader = writer = None
        next_at = time.monotonic() + interval * index / max(1, connections)
        while more():
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
                if not more():
                    break
            path = paths[sent % len(paths)]
            sent += 1
            t0 = time.monotonic()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\n\r\n".encode())
                status, body, keep = await asyncio.wait_for(_read_response(reader), 30)
                result.latencies.append(time.monotonic() - t0)
                result.statuses[status] += 1
                if keep_bodies:
                    result.bodies[body.decode("latin-1").split(" ")[0]] += 1
                if not keep:
                    writer.close()
                    writer = None
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                result.errors.append(f"{type(exc).__name__}: {exc}")
                if writer is not None:
                    writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    result.elapsed = time.monotonic() - start
    return result
