"""Export tasks: a log group's events of a time range, written to an S3 bucket as gzip
files (`<prefix>/<task id>/<stream>/000000.gz`, one `<ISO time> <message>` line per event),
through the `ObjectSink` port.

A task is a store record (`logs.export`); it runs after CreateExportTask returns (never
inline), PENDING -> RUNNING -> COMPLETED (or FAILED with the reason, or CANCELLED). One
export may be active per account at a time, as in CloudWatch Logs. A task found PENDING or
RUNNING at start is run again from the beginning (its objects are simply rewritten).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.envfiles import ObjectUnavailable
from dockyard.core.objectstore import ObjectSink
from dockyard.core.scope import Scope
from dockyard.services.logs.errors import (
    InvalidOperationException,
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from dockyard.services.logs.events import Window
from dockyard.services.logs.model import LogGroup
from dockyard.services.logs.service import Logs
from dockyard.store.base import Store

log = logging.getLogger(__name__)

KIND = "logs.export"
PAGE = 10_000
DEFAULT_PREFIX = "exportedlogs"


class ExportStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


ACTIVE = (ExportStatus.PENDING, ExportStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class ExportTask:
    task_id: str
    task_name: str | None
    account_id: str
    region: str
    group_name: str
    stream_prefix: str | None
    start: int  # epoch ms, inclusive
    end: int  # epoch ms, exclusive
    destination: str
    destination_prefix: str
    status: str
    message: str
    created: int
    completed: int | None = None

    def to_wire(self) -> dict[str, Any]:
        info: dict[str, Any] = {"creationTime": self.created}
        if self.completed is not None:
            info["completionTime"] = self.completed
        out: dict[str, Any] = {
            "taskId": self.task_id,
            "logGroupName": self.group_name,
            "from": self.start,
            "to": self.end,
            "destination": self.destination,
            "destinationPrefix": self.destination_prefix,
            "status": {"code": self.status, "message": self.message},
            "executionInfo": info,
        }
        if self.task_name:
            out["taskName"] = self.task_name
        return out


class Exports:
    def __init__(self, store: Store, clock: Clock, logs: Logs, sink: ObjectSink | None) -> None:
        self.store = store
        self.clock = clock
        self.logs = logs
        self.sink = sink
        self.tasks: dict[str, ExportTask] = {}
        self._running: set[asyncio.Task[None]] = set()

    def load(self) -> None:
        self.tasks = {key: ExportTask(**body) for key, body in self.store.load(KIND)}

    def reset(self) -> None:
        self.tasks.clear()

    def start(self) -> None:
        for task in list(self.tasks.values()):
            if task.status in ACTIVE:
                self._schedule(task.task_id)

    async def stop(self) -> None:
        for running in list(self._running):
            running.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    def _save(self, task: ExportTask) -> ExportTask:
        self.store.put(KIND, task.task_id, asdict(task))
        self.tasks[task.task_id] = task
        return task

    def _now(self) -> int:
        return int(self.clock.now() * 1000)

    # -- operations --------------------------------------------------------------------------

    def create(
        self,
        scope: Scope,
        group: LogGroup,
        *,
        task_name: str | None,
        stream_prefix: str | None,
        start: int,
        end: int,
        destination: str,
        destination_prefix: str | None,
    ) -> ExportTask:
        if start > end:
            raise InvalidParameterException("The 'from' time must be earlier than the 'to' time.")
        if self.sink is None or not self.sink.bucket_exists(scope.account_id, destination):
            raise InvalidParameterException("The specified bucket does not exist.")
        if any(
            t.account_id == scope.account_id and t.status in ACTIVE for t in self.tasks.values()
        ):
            raise LimitExceededException("Resource limit exceeded.")
        task = ExportTask(
            task_id=str(uuid.uuid4()),
            task_name=task_name,
            account_id=scope.account_id,
            region=scope.region,
            group_name=group.name,
            stream_prefix=stream_prefix,
            start=start,
            end=end,
            destination=destination,
            destination_prefix=destination_prefix or DEFAULT_PREFIX,
            status=ExportStatus.PENDING,
            message="Pending.",
            created=self._now(),
        )
        self._save(task)
        self._schedule(task.task_id)
        return task

    def cancel(self, scope: Scope, task_id: str) -> None:
        task = self.tasks.get(task_id)
        if task is None or task.account_id != scope.account_id:
            raise ResourceNotFoundException("The specified export task does not exist.")
        if task.status not in ACTIVE:
            raise InvalidOperationException(
                f"The specified export task has already finished ({task.status})."
            )
        self._save(replace(task, status=ExportStatus.CANCELLED, message="Cancelled by user",
                           completed=self._now()))  # fmt: skip

    def of_scope(self, scope: Scope) -> list[ExportTask]:
        found = [
            t
            for t in self.tasks.values()
            if t.account_id == scope.account_id and t.region == scope.region
        ]
        return sorted(found, key=lambda t: (-t.created, t.task_id))

    # -- running -----------------------------------------------------------------------------

    def _schedule(self, task_id: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not serving yet: `start` runs it
        running = loop.create_task(self._run(task_id), name=f"logs-export-{task_id}")
        self._running.add(running)
        running.add_done_callback(self._running.discard)

    def _still(self, task_id: str) -> ExportTask | None:
        task = self.tasks.get(task_id)
        return task if task is not None and task.status in ACTIVE else None

    async def _run(self, task_id: str) -> None:
        await asyncio.sleep(0)  # after the creating request has been answered
        task = self._still(task_id)
        if task is None:
            return
        task = self._save(replace(task, status=ExportStatus.RUNNING, message="Started."))
        try:
            await self._export(task)
        except ObjectUnavailable as exc:
            if self._still(task_id) is not None:
                self._save(replace(task, status=ExportStatus.FAILED, message=exc.message,
                                   completed=self._now()))  # fmt: skip
            return
        except Exception as exc:  # the task says so; the server goes on
            log.exception("export task %s failed", task_id)
            if self._still(task_id) is not None:
                self._save(replace(task, status=ExportStatus.FAILED, message=str(exc),
                                   completed=self._now()))  # fmt: skip
            return
        if self._still(task_id) is not None:
            done = "Completed successfully"
            self._save(replace(task, status=ExportStatus.COMPLETED, message=done,
                               completed=self._now()))  # fmt: skip

    async def _export(self, task: ExportTask) -> None:
        assert self.sink is not None
        group = self.logs.directory.find_group(Scope(task.account_id, task.region), task.group_name)
        if group is None:
            raise ObjectUnavailable("The log group no longer exists")
        window = Window(start=task.start, end=task.end)
        prefix = task.destination_prefix.strip("/")
        for stream in self.logs.directory.streams_of(group):
            if task.stream_prefix and not stream.name.startswith(task.stream_prefix):
                continue
            if not self.logs.events.stream_events(stream.sid, window, limit=1):
                continue
            if self._still(task.task_id) is None:
                return
            key = f"{prefix}/{task.task_id}/{stream.name}/000000.gz"
            await self.sink.put(
                task.account_id,
                task.destination,
                key,
                self._gzip_lines(stream.sid, window),
                content_type="application/octet-stream",
                content_encoding="gzip",
            )

    async def _gzip_lines(self, sid: int, window: Window) -> AsyncIterator[bytes]:
        packer = zlib.compressobj(wbits=31)
        after = None
        while True:
            events = self.logs.events.stream_events(sid, window, after=after, limit=PAGE)
            if not events:
                break
            lines = "".join(f"{_iso(e.timestamp)} {e.message}\n" for e in events).encode("utf-8")
            out = packer.compress(lines)
            if out:
                yield out
            after = events[-1].cursor
            if len(events) < PAGE:
                break
            await asyncio.sleep(0)  # let requests in between pages
        yield packer.flush()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
