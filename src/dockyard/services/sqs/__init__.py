"""Amazon SQS: standard and FIFO queues, their messages, dead-letter queues, long polls."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.sqs import access, ops_messages, ops_queues
from dockyard.services.sqs.model import DEDUP_KIND, MESSAGE_KIND, QUEUE_KIND
from dockyard.services.sqs.ports import ServedQueues
from dockyard.services.sqs.service import Sqs

__all__ = ["DEDUP_KIND", "MESSAGE_KIND", "QUEUE_KIND", "ServedQueues", "Sqs", "provider"]


def provider(sqs: Sqs, scheme: str = "http") -> Provider:
    """`scheme`: of the queue URLs (https when the server serves TLS)."""
    return Provider(
        service="sqs",
        handlers={**ops_queues.handlers(sqs, scheme), **ops_messages.handlers(sqs)},
        validation_error_code="InvalidParameterValue",
        reset=sqs.reset,
        access=access.access(sqs.queues),
        resource_policy=access.resource_policy(sqs.queues),
    )
