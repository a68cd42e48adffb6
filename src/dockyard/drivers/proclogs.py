"""A process container's output, as its shim writes it (`<ms> o|e <line>` per line, in
`output.log`), followed from a byte offset until the container has finished."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from dockyard.drivers.base import LogLine


def parse(line: bytes, cursor: int) -> LogLine | None:
    ts, _, rest = line.partition(b" ")
    tag, _, message = rest.partition(b" ")
    try:
        stamp = int(ts)
    except ValueError:
        return None
    stream = "stderr" if tag == b"e" else "stdout"
    return LogLine(stamp, stream, message.decode("utf-8", "replace"), cursor)


async def follow(
    path: Path, since: int, finished: Callable[[], bool], poll: float
) -> AsyncIterator[LogLine]:
    """Every whole line from byte `since` on; each line's cursor is the offset after it."""
    offset = since
    pending = b""
    while True:
        done = finished()
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            cursor = offset - len(pending)
            offset += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                cursor += len(line) + 1
                parsed = parse(line, cursor)
                if parsed is not None:
                    yield parsed
            continue
        if done:
            return
        await asyncio.sleep(poll)
