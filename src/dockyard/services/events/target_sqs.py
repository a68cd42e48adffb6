"""SQS queues as targets: each matched event becomes a message on the queue, sent as
`events.amazonaws.com` for the rule (the queue's policy must allow that, as in AWS). A FIFO
queue needs SqsParameters.MessageGroupId; the event id is the deduplication id."""

from __future__ import annotations

from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.queues import Outgoing, QueueRefused, QueueSender

PRINCIPAL = "events.amazonaws.com"


def is_queue(target_arn: str) -> bool:
    parts = target_arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "sqs" and bool(parts[5]) and "/" not in parts[5]


def problem(target: dict[str, Any]) -> str | None:
    """Why an SQS target cannot be used (None when it can)."""
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    if str(target["Arn"]).endswith(".fifo") and not group:
        return "SqsParameters.MessageGroupId must be provided for a FIFO queue target."
    if group and not str(target["Arn"]).endswith(".fifo"):
        return "SqsParameters can only be used with a FIFO queue target."
    return None


def deliver(
    queues: QueueSender, rule_arn: str, target: dict[str, Any], event: dict[str, Any], body: str
) -> str:
    arn = str(target["Arn"])
    fifo = arn.endswith(".fifo")
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    message = Outgoing(
        body=body,
        group_id=group if fifo else None,
        deduplication_id=str(event.get("id")) if fifo and event.get("id") else None,
        source_arn=rule_arn,
        principal=PRINCIPAL,
    )
    try:
        message_id = queues.send(arn, message)
    except QueueRefused as exc:
        raise ServiceError(exc.message, code=exc.code) from exc
    return f"delivered as message {message_id}"
