"""Shipping container output to CloudWatch Logs for containers using the awslogs driver."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from dockyard.core.agentlink import LogEvent
from dockyard.core.taskspec import ContainerSpec, TaskSpec
from dockyard.drivers.base import LogLine

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.2
MAX_BATCH = 1000
MAX_BUFFER = 10_000

PutLogs = Callable[[str, str, str, str, list[LogEvent], bool], Awaitable[None]]


@dataclass(slots=True)
class Destination:
    group: str
    stream: str
    create_group: bool


def destination(spec: TaskSpec, container: ContainerSpec, runtime_id: str) -> Destination | None:
    """Where awslogs sends this container's lines: `prefix/container/task-id`, or (without a
    prefix) a stream named after the container's runtime id, as on EC2."""
    if container.log is None or container.log.driver != "awslogs":
        return None
    options = container.log.options
    group = options.get("awslogs-group")
    if not group:
        return None
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{container.name}/{spec.task_id}" if prefix else runtime_id
    return Destination(group, stream, options.get("awslogs-create-group") == "true")


async def ship(
    lines: AsyncIterator[LogLine],
    put_logs: PutLogs,
    account_id: str,
    region: str,
    dest: Destination,
    on_shipped: Callable[[int], None],
) -> None:
    """Follow `lines` until they end, sending batches every FLUSH_INTERVAL or MAX_BATCH lines.
    `on_shipped(cursor)` is called after each batch the server accepted."""
    loop = asyncio.get_running_loop()
    pending: list[LogLine] = []
    last_flush = loop.time()

    async def flush() -> None:
        nonlocal pending, last_flush
        last_flush = loop.time()
        while pending:
            batch = sorted(pending[:MAX_BATCH], key=lambda line: line.timestamp_ms)
            events = [LogEvent(line.timestamp_ms, line.message) for line in batch]
            try:
                await put_logs(
                    account_id, region, dest.group, dest.stream, events, dest.create_group
                )
            except Exception as exc:
                log.warning("cannot ship logs to %s/%s: %s", dest.group, dest.stream, exc)
                del pending[: max(0, len(pending) - MAX_BUFFER)]
                return
            cursor = pending[len(batch) - 1].cursor
            del pending[: len(batch)]
            on_shipped(cursor)

    iterator = aiter(lines)
    next_line: asyncio.Future[LogLine] = asyncio.ensure_future(anext(iterator))
    try:
        while True:
            timeout = max(0.0, FLUSH_INTERVAL - (loop.time() - last_flush)) if pending else None
            done, _ = await asyncio.wait({next_line}, timeout=timeout)
            if next_line in done:
                try:
                    pending.append(next_line.result())
                except StopAsyncIteration:
                    break
                next_line = asyncio.ensure_future(anext(iterator))
                if len(pending) >= MAX_BATCH:
                    await flush()
            elif pending:
                await flush()
        await flush()
    finally:
        if not next_line.done():
            next_line.cancel()
            with contextlib.suppress(BaseException):
                await next_line
