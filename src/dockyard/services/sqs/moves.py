"""Message move tasks (dead-letter queue redrive): StartMessageMoveTask moves the messages a
dead-letter queue holds back to the queues they came from, or to a queue named, at a rate.
Each move commits like any other (the message is never in two queues or none). The tasks
themselves live in memory: a restart ends a running one (its moved messages stay moved)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from enum import StrEnum

from dockyard.core.clock import Clock
from dockyard.core.ids import new_uuid
from dockyard.services.sqs.errors import (
    InvalidParameterValue,
    ResourceNotFoundException,
    SqsUnsupported,
)
from dockyard.services.sqs.messages import Messages
from dockyard.services.sqs.queues import Queues
from dockyard.services.sqs.state import QueueState

log = logging.getLogger(__name__)

DEFAULT_RATE = 500  # messages per second when none is given ("system optimized")
MAX_RATE = 500
TICK = 0.1  # seconds between batches of moves
KEPT_PER_SOURCE = 10


class MoveStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


@dataclass(slots=True)
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started: float
    to_move: int
    moved: int = 0
    status: MoveStatus = MoveStatus.RUNNING
    failure: str | None = None
    runner: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def handle(self) -> str:
        raw = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn})
        return base64.b64encode(raw.encode()).decode()


class Moves:
    def __init__(self, clock: Clock, queues: Queues, messages: Messages) -> None:
        self.clock = clock
        self.queues = queues
        self.messages = messages
        self.tasks: dict[str, list[MoveTask]] = {}  # by source ARN, newest first

    def reset(self) -> None:
        for tasks in self.tasks.values():
            for task in tasks:
                if task.runner is not None:
                    task.runner.cancel()
        self.tasks.clear()

    def _queue(self, arn: str) -> QueueState:
        state = self.queues.find(arn)
        if state is None:
            raise ResourceNotFoundException(
                f"The resource that you specified for the SourceArn parameter doesn't exist: {arn}"
            )
        return state

    def start(self, source_arn: str, destination_arn: str | None, rate: int | None) -> MoveTask:
        source = self._queue(source_arn)
        if not self.queues.dead_letter_sources(source):
            raise SqsUnsupported(
                f"Source queue must be configured as a Dead Letter Queue (SourceArn: {source_arn})."
            )
        if destination_arn is not None:
            destination = self.queues.find(destination_arn)
            if destination is None:
                raise ResourceNotFoundException(f"The resource that you specified for the "
                                                f"DestinationArn parameter doesn't exist: "
                                                f"{destination_arn}")  # fmt: skip
            if destination.queue.fifo != source.queue.fifo:
                raise InvalidParameterValue("The destination queue must be of the same type "
                                            "as the source queue (standard or FIFO).")  # fmt: skip
        if rate is not None and not 1 <= rate <= MAX_RATE:
            raise InvalidParameterValue(f"Value {rate} for parameter "
                                        "MaxNumberOfMessagesPerSecond is invalid. Reason: "
                                        "must be between 1 and 500.")  # fmt: skip
        running = [t for t in self.tasks.get(source_arn, []) if t.status == MoveStatus.RUNNING]
        if running:
            raise SqsUnsupported("There is already a task running. Only one active task is "
                                 "allowed for a source queue arn at a given time.")  # fmt: skip
        task = MoveTask(new_uuid(), source_arn, destination_arn, rate, self.clock.now(),
                        to_move=len(source.messages))  # fmt: skip
        kept = self.tasks.setdefault(source_arn, [])
        kept.insert(0, task)
        del kept[KEPT_PER_SOURCE:]
        task.runner = asyncio.get_running_loop().create_task(self._run(task, source))
        return task

    async def _run(self, task: MoveTask, source: QueueState) -> None:
        per_tick = max(1, int((task.rate or DEFAULT_RATE) * TICK))
        last = self.messages.sequence  # only what the queue held when the task started
        try:
            while task.status == MoveStatus.RUNNING:
                now = self.clock.now()
                source.release_due(now)
                batch = [
                    m for m in list(source.messages.values())
                    if m.sequence <= last and not m.in_flight and m.visible_at <= now
                ][:per_tick]  # fmt: skip
                if not batch:
                    task.status = MoveStatus.COMPLETED
                    break
                for message in batch:
                    target_arn = task.destination_arn or message.dead_letter_source
                    target = self.queues.find(target_arn) if target_arn else None
                    if target is None:
                        task.status = MoveStatus.FAILED
                        task.failure = (f"The destination queue {target_arn} of message "
                                        f"{message.message_id} does not exist.")  # fmt: skip
                        return
                    self.messages.move(source, message, target)
                    task.moved += 1
                if len(batch) == per_tick:  # more may be left: keep to the rate
                    await self.clock.sleep(TICK)
        except Exception as exc:  # the store refused: the task fails, moved ones stay moved
            log.warning("sqs: message move task %s failed: %s", task.task_id, exc,
                        extra={"arn": task.source_arn})  # fmt: skip
            task.status = MoveStatus.FAILED
            task.failure = "AWS.SimpleQueueService.InternalError"
        if task.status == MoveStatus.CANCELLING:
            task.status = MoveStatus.CANCELLED

    def cancel(self, handle: str) -> MoveTask:
        try:
            doc = json.loads(base64.b64decode(handle.encode(), validate=True))
            task_id, source_arn = str(doc["taskId"]), str(doc["sourceArn"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise ResourceNotFoundException("Task does not exist.") from None
        task = next((t for t in self.tasks.get(source_arn, []) if t.task_id == task_id), None)
        if task is None:
            raise ResourceNotFoundException("Task does not exist.")
        if task.status != MoveStatus.RUNNING:
            raise SqsUnsupported(f"Only a RUNNING task can be cancelled (status: {task.status}).")
        task.status = MoveStatus.CANCELLED
        return task

    def list(self, source_arn: str, limit: int | None) -> list[MoveTask]:
        self._queue(source_arn)
        if limit is not None and not 1 <= limit <= KEPT_PER_SOURCE:
            raise InvalidParameterValue(f"Value {limit} for parameter MaxResults is invalid. "
                                        "Reason: must be between 1 and 10.")  # fmt: skip
        return self.tasks.get(source_arn, [])[: limit or 1]
