"""SQS's records: a queue (its attributes as SQS names them, tags) and a message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.scope import Scope

QUEUE_KIND = "sqs.queue"
MESSAGE_KIND = "sqs.message"
DEDUP_KIND = "sqs.dedup"


def queue_arn(scope: Scope, name: str) -> str:
    return f"arn:aws:sqs:{scope.region}:{scope.account_id}:{name}"


@dataclass(slots=True)
class Queue:
    name: str
    account_id: str
    region: str
    created: float
    modified: float
    # Settable attributes, as strings, the way Get/SetQueueAttributes carry them.
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def arn(self) -> str:
        return queue_arn(self.scope, self.name)

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    def number(self, name: str) -> int:
        return int(self.attributes[name])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Queue:
        return cls(**body)


@dataclass(frozen=True, slots=True)
class MessageAttribute:
    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.data_type}
        if self.string_value is not None:
            out["s"] = self.string_value
        if self.binary_value is not None:
            out["b"] = self.binary_value.hex()
        return out

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> MessageAttribute:
        raw = body.get("b")
        return cls(body["t"], body.get("s"), bytes.fromhex(raw) if raw is not None else None)


@dataclass(slots=True)
class Message:
    """A message as stored. What a receive changes (receive count, visibility, the current
    receipt handle) lives in memory only: after a restart every message is visible again,
    as SQS's at-least-once delivery allows."""

    message_id: str
    queue_arn: str
    sequence: int  # global send order: the store key, FIFO's SequenceNumber
    body: str
    md5_of_body: str
    sent: float
    available: float  # visible from (DelaySeconds)
    sender_id: str
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    md5_of_attributes: str | None = None
    trace_header: str | None = None  # AWSTraceHeader, the one system attribute
    group_id: str | None = None
    deduplication_id: str | None = None
    dead_letter_source: str | None = None
    # -- in memory only --
    receive_count: int = 0
    first_received: float | None = None
    visible_at: float = 0.0
    receipt: str | None = None  # the latest receipt handle
    generation: int = 0  # bumps whenever visible_at changes (stale heap entries skip)

    @property
    def key(self) -> str:
        return message_key(self.queue_arn, self.sequence)

    @property
    def in_flight(self) -> bool:
        return self.receipt is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.message_id,
            "q": self.queue_arn,
            "n": self.sequence,
            "body": self.body,
            "md5": self.md5_of_body,
            "sent": self.sent,
            "available": self.available,
            "sender": self.sender_id,
        }
        if self.attributes:
            out["attrs"] = {k: v.to_dict() for k, v in self.attributes.items()}
            out["md5a"] = self.md5_of_attributes
        for key, value in (("trace", self.trace_header), ("group", self.group_id),
                           ("dedup", self.deduplication_id),
                           ("dlq", self.dead_letter_source)):  # fmt: skip
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Message:
        return cls(
            message_id=body["id"],
            queue_arn=body["q"],
            sequence=int(body["n"]),
            body=body["body"],
            md5_of_body=body["md5"],
            sent=float(body["sent"]),
            available=float(body["available"]),
            sender_id=body["sender"],
            attributes={
                k: MessageAttribute.from_dict(v) for k, v in (body.get("attrs") or {}).items()
            },
            md5_of_attributes=body.get("md5a"),
            trace_header=body.get("trace"),
            group_id=body.get("group"),
            deduplication_id=body.get("dedup"),
            dead_letter_source=body.get("dlq"),
            visible_at=float(body["available"]),
        )


def message_key(queue_arn: str, sequence: int) -> str:
    return f"{queue_arn}/{sequence:020d}"
