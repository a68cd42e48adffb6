"""An SNS topic as a rule's target: the event (or its Input/InputTransformer) is published
as `events.amazonaws.com` with the rule as aws:SourceArn, through the `TopicPublisher` port;
the topic's access policy must allow it, as in AWS."""

from __future__ import annotations

import logging

from dockyard.core.topics import PublishRefused, TopicPublisher

log = logging.getLogger(__name__)

PRINCIPAL = "events.amazonaws.com"


def is_topic(service: str, resource: str) -> bool:
    return service == "sns" and bool(resource) and "/" not in resource and ":" not in resource


def deliver(topics: TopicPublisher | None, topic_arn: str, rule_arn: str, body: str) -> str:
    """The delivery's outcome, as the rule's recent deliveries show it."""
    if topics is None:
        return "failed: SNS is not wired"
    try:
        message_id = topics.publish(topic_arn, body, principal=PRINCIPAL, source_arn=rule_arn)
    except PublishRefused as exc:
        log.warning("events: %s refused the event: %s", topic_arn, exc,
                    extra={"rule_arn": rule_arn})  # fmt: skip
        return f"failed: {exc.code}: {exc.message}"
    return f"published {message_id}"
