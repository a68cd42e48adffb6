"""How a service puts a message on an SQS queue, or a consumer (Lambda's event source
mappings) takes messages from one, without importing SQS. `services/sqs` implements both
protocols; the composition root hands them to EventBridge, SNS and Lambda."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class QueueRefused(Exception):
    """SQS refused the request; `code` and `message` are SQS's own
    (AWS.SimpleQueueService.NonExistentQueue, KMS.AccessDeniedException, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Attribute:
    """A message attribute as SendMessage takes it: DataType String, Number or Binary."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    body: str
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    group_id: str | None = None  # FIFO queues
    deduplication_id: str | None = None  # FIFO queues
    # The ARN of the resource that sent it (a topic, a rule), checked against the
    # queue's policy (aws:SourceArn) by the queue.
    source_arn: str | None = None
    # The service principal sending it (sns.amazonaws.com, events.amazonaws.com).
    principal: str | None = None


@dataclass(frozen=True, slots=True)
class Received:
    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, str]  # system attributes (ApproximateReceiveCount, SentTimestamp, ...)
    message_attributes: Mapping[str, Attribute]


class QueueSender(Protocol):
    def send(self, queue_arn: str, message: Outgoing) -> str:
        """The new message's id. Raises `QueueRefused` for a queue that does not exist or a
        policy that does not let `message.principal`/`source_arn` send to it."""
        ...


class QueueConsumer(Protocol):
    def exists(self, queue_arn: str) -> bool: ...

    async def receive(
        self, queue_arn: str, max_messages: int, wait_seconds: float
    ) -> Sequence[Received]:
        """Up to `max_messages` (1-10), hidden for the queue's visibility timeout, waiting up
        to `wait_seconds` for a first one (a long poll, answered when one arrives)."""
        ...

    def delete(self, queue_arn: str, receipt_handles: Sequence[str]) -> None: ...

    def release(self, queue_arn: str, receipt_handles: Sequence[str]) -> None:
        """Make these messages visible again now (a failed batch)."""
        ...
