"""How a service publishes to an SNS topic without importing SNS (CloudWatch alarm actions,
EventBridge targets, CodeDeploy triggers). `services/sns` implements `TopicPublisher`; the
composition root hands it to the others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class PublishRefused(Exception):
    """SNS refused the publish; `code` and `message` are SNS's own (NotFound,
    AuthorizationError, InvalidParameter, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TopicPublisher(Protocol):
    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, tuple[str, str]] | None = None,  # name -> (DataType, value)
        principal: str | None,
        source_arn: str | None = None,
    ) -> str:
        """The message id once the message is stored for delivery (deliveries happen later,
        from a queue). Raises `PublishRefused` when the topic does not exist or its policy does
        not let the service `principal` from `source_arn` publish. With `principal` None the
        publisher is an identity of the topic's own account whose policies the caller has
        checked (Lambda destinations, sent as the function's execution role)."""
        ...
