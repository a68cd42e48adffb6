"""Records to SQS's output shapes, and the request's queue URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.api.context import RequestContext
from dockyard.core.errors import ServiceError
from dockyard.services.sqs import digests
from dockyard.services.sqs.model import Message, MessageAttribute, Queue

SYSTEM_NAMES = (
    "SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
    "SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)  # fmt: skip


def queue_url(ctx: RequestContext, scheme: str, queue: Queue) -> str:
    """`http://<host:port>/<account>/<name>` (https on a TLS server), with the host the
    request was sent to: where the SDKs send the queue's requests."""
    host = ctx.headers.get("host") or "localhost"
    return f"{scheme}://{host}/{queue.account_id}/{queue.name}"


def attribute_from_wire(doc: Mapping[str, Any]) -> MessageAttribute:
    binary = doc.get("BinaryValue")
    return MessageAttribute(
        str(doc.get("DataType") or ""),
        doc.get("StringValue"),
        bytes(binary) if binary is not None else None,
    )


def attributes_from_wire(doc: Mapping[str, Any] | None) -> dict[str, MessageAttribute]:
    return {name: attribute_from_wire(value) for name, value in (doc or {}).items()}


def attribute_to_wire(attribute: MessageAttribute) -> dict[str, Any]:
    out: dict[str, Any] = {"DataType": attribute.data_type}
    if attribute.string_value is not None:
        out["StringValue"] = attribute.string_value
    if attribute.binary_value is not None:
        out["BinaryValue"] = attribute.binary_value
    return out


def wanted(names: list[str], name: str) -> bool:
    for pattern in names:
        if pattern in ("All", ".*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def system_attributes(message: Message, fifo: bool) -> dict[str, str]:
    out = {
        "SenderId": message.sender_id,
        "SentTimestamp": str(int(message.sent * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int((message.first_received or 0) * 1000)),
    }
    if fifo:
        out["SequenceNumber"] = f"{message.sequence:020d}"
        if message.deduplication_id is not None:
            out["MessageDeduplicationId"] = message.deduplication_id
    if message.group_id is not None:
        out["MessageGroupId"] = message.group_id
    if message.trace_header is not None:
        out["AWSTraceHeader"] = message.trace_header
    if message.dead_letter_source is not None:
        out["DeadLetterQueueSourceArn"] = message.dead_letter_source
    return out


def message_to_wire(
    message: Message, fifo: bool, system_names: list[str], attribute_names: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    if system_names:
        system = system_attributes(message, fifo)
        chosen = {k: v for k, v in system.items() if "All" in system_names or k in system_names}
        if chosen:
            out["Attributes"] = chosen
    if attribute_names and message.attributes:
        shown = {k: v for k, v in message.attributes.items() if wanted(attribute_names, k)}
        if shown:
            out["MessageAttributes"] = {k: attribute_to_wire(v) for k, v in shown.items()}
            out["MD5OfMessageAttributes"] = digests.md5_of_attributes(shown)
    return out


def batch_failure(entry_id: str, err: ServiceError) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": err.sender_fault,
            "Code": err.query_code or err.code, "Message": err.message}  # fmt: skip
