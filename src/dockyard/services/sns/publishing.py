"""Publish and PublishBatch: validate, choose the subscriptions whose filter policies let the
message through, commit one delivery record for each, then answer. Deliveries are made by
the delivery queue afterwards, never here. Also `TopicPublisher` (core/topics.py) for
CloudWatch alarms and EventBridge, weighed against the topic's access policy."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.iampolicy import PolicyError, Request, evaluate
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.core.topics import PublishRefused
from dockyard.services.sns import envelope, filterpolicy, validation
from dockyard.services.sns.delivery import Deliveries
from dockyard.services.sns.errors import (
    BatchEntryIdsNotDistinctException,
    BatchRequestTooLongException,
    EmptyBatchRequestException,
    InvalidBatchEntryIdException,
    TooManyEntriesInBatchRequestException,
)
from dockyard.services.sns.model import Delivery, Subscription, Topic
from dockyard.services.sns.topics import Topics

log = logging.getLogger(__name__)

MAX_BATCH = 10
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass(slots=True)
class Message:
    message: str
    subject: str | None = None
    structure: str | None = None  # "json": one message per protocol
    attributes: Mapping[str, Any] | None = None  # as Publish takes them
    group_id: str | None = None
    deduplication_id: str | None = None


@dataclass(slots=True)
class Prepared:
    message_id: str
    deliveries: list[Delivery]


def topic_of(scope: Scope, topic_arn: str | None, target_arn: str | None) -> str:
    if topic_arn and target_arn:
        raise validation.invalid("TopicArn or TargetArn Reason: Only one of these may be set")
    arn = topic_arn or target_arn
    if not arn:
        raise validation.invalid("TopicArn or TargetArn Reason: no value for required parameter")
    if ":endpoint/" in arn:
        raise validation.invalid("TargetArn", "Dockyard has no mobile push endpoints")
    return arn


@functools.lru_cache(maxsize=1024)
def _parsed(text: str, scope: str) -> filterpolicy.Policy | None:
    """A subscription's filter policy, parsed once per text (it was checked at Subscribe).
    Callers only read it."""
    try:
        return filterpolicy.parse(text, scope)
    except filterpolicy.FilterPolicyError:
        return None


class Publisher:
    def __init__(self, topics: Topics, deliveries: Deliveries, clock: Clock) -> None:
        self.topics = topics
        self.deliveries = deliveries
        self.clock = clock

    def prepare(self, topic: Topic, msg: Message) -> Prepared:
        """Validate the message, and its deliveries (not yet written)."""
        if msg.group_id is not None:
            raise validation.invalid("MessageGroupId", "The request includes MessageGroupId "
                                     "parameter that is not valid for this topic type")  # fmt: skip
        if msg.deduplication_id is not None:
            raise validation.invalid("MessageDeduplicationId", "The request includes "
                                     "MessageDeduplicationId parameter that is not valid for "
                                     "this topic type")  # fmt: skip
        if not msg.message:
            raise validation.invalid("Empty message")
        subject = validation.subject(msg.subject)
        attributes = validation.message_attributes(msg.attributes)
        validation.message_size(msg.message, attributes)
        per_protocol: dict[str, str] | None = None
        if msg.structure is not None:
            if msg.structure != "json":
                raise validation.invalid("MessageStructure", "must be json")
            per_protocol = validation.structured(msg.message)
        message_id = new_uuid()
        now = self.clock.now()
        plain = {k: (v["Type"], v["Value"]) for k, v in attributes.items()}
        out: list[Delivery] = []
        for sub in self.topics.of_topic(topic.arn):
            if not sub.confirmed:
                continue
            text = (
                per_protocol.get(sub.protocol, per_protocol["default"])
                if per_protocol is not None else msg.message
            )  # fmt: skip
            if not self._passes(sub, plain, text):
                continue
            out.append(Delivery(
                id=new_uuid(), kind="Notification", subscription_arn=sub.arn,
                topic_arn=topic.arn, message_id=message_id, message=text, timestamp=now,
                subject=subject, attributes=attributes, due=now,
            ))  # fmt: skip
        return Prepared(message_id, out)

    @staticmethod
    def _passes(sub: Subscription, attributes: Mapping[str, tuple[str, str]], body: str) -> bool:
        text = sub.attributes.get("FilterPolicy")
        if not text:
            return True
        scope = sub.attributes.get("FilterPolicyScope", filterpolicy.ATTRIBUTES)
        policy = _parsed(text, scope)
        return policy is not None and filterpolicy.matches(policy, scope, attributes, body)

    def publish(self, scope: Scope, topic_arn: str, msg: Message) -> str:
        topic = self.topics.get(scope, topic_arn)
        prepared = self.prepare(topic, msg)
        self.deliveries.commit(prepared.deliveries)
        log.info("sns: published %s to %s (%d deliveries)", prepared.message_id, topic.name,
                 len(prepared.deliveries), extra={"topic_arn": topic.arn})  # fmt: skip
        return prepared.message_id

    def publish_batch(
        self, scope: Scope, topic_arn: str, entries: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        topic = self.topics.get(scope, topic_arn)
        if not entries:
            raise EmptyBatchRequestException("The batch request doesn't contain any entries.")
        if len(entries) > MAX_BATCH:
            raise TooManyEntriesInBatchRequestException(
                f"The batch request contains more entries than permissible ({MAX_BATCH})."
            )
        ids = [str(e.get("Id", "")) for e in entries]
        for entry_id in ids:
            if not BATCH_ID.match(entry_id):
                raise InvalidBatchEntryIdException(
                    f"A batch entry id can only contain alphanumeric characters, hyphens and "
                    f"underscores. It can be at most 80 letters long (Id: {entry_id})."
                )
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinctException("Two or more batch entries in the request "
                                                    "have the same Id.")  # fmt: skip
        total = sum(len(str(e.get("Message", "")).encode()) for e in entries)
        if total > validation.MAX_MESSAGE:
            raise BatchRequestTooLongException("The length of all the messages put together "
                                               "is more than the limit.")  # fmt: skip
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        ready: list[Delivery] = []
        for entry in entries:
            msg = Message(
                message=entry.get("Message", ""), subject=entry.get("Subject"),
                structure=entry.get("MessageStructure"),
                attributes=entry.get("MessageAttributes"),
                group_id=entry.get("MessageGroupId"),
                deduplication_id=entry.get("MessageDeduplicationId"),
            )  # fmt: skip
            try:
                prepared = self.prepare(topic, msg)
            except ServiceError as exc:
                failed.append({"Id": entry["Id"], "Code": exc.code, "Message": exc.message,
                               "SenderFault": True})  # fmt: skip
                continue
            ready.extend(prepared.deliveries)
            successful.append({"Id": entry["Id"], "MessageId": prepared.message_id})
        self.deliveries.commit(ready)
        return successful, failed

    def confirmation(self, sub: Subscription) -> None:
        """Queue the SubscriptionConfirmation (http/s) or its record (email)."""
        now = self.clock.now()
        self.deliveries.commit([Delivery(
            id=new_uuid(), kind="SubscriptionConfirmation", subscription_arn=sub.arn,
            topic_arn=sub.topic_arn, message_id=new_uuid(),
            message=envelope.confirmation_text(sub.topic_arn), timestamp=now, due=now,
        )])  # fmt: skip


def _allowed(topic: Topic, principal: str, source_arn: str | None) -> bool:
    """Whether the topic's access policy lets the service `principal` publish. CloudWatch
    publishes on behalf of the topic's own account (AWS:SourceOwner), as the default policy
    expects; other services (EventBridge) need a statement naming them."""
    text = topic.attributes.get("Policy")
    if not text:
        return False
    try:
        policy = validation.topic_policy(text, topic.arn)
    except PolicyError:
        return False
    caller: dict[str, list[str]] = {"Service": [principal]}
    context: dict[str, list[str]] = {"aws:sourceaccount": [topic.account_id]}
    if source_arn:
        context["aws:sourcearn"] = [source_arn]
    if principal == "cloudwatch.amazonaws.com":
        caller["AWS"] = [f"arn:aws:iam::{topic.account_id}:root"]
        context["aws:sourceowner"] = [topic.account_id]
    request = Request("sns:Publish", topic.arn, context, caller)
    return evaluate(request, [], policy).allowed


class ServedTopics:
    """`core.topics.TopicPublisher` over this service."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, tuple[str, str]] | None = None,
        principal: str | None,
        source_arn: str | None = None,
    ) -> str:
        topic = self.publisher.topics.topics.get(topic_arn)
        if topic is None:
            raise PublishRefused("NotFound", f"Topic does not exist ({topic_arn})")
        if principal is not None and not _allowed(topic, principal, source_arn):
            raise PublishRefused(
                "AuthorizationError",
                f"The access policy of {topic_arn} does not let {principal} publish "
                f"(aws:SourceArn {source_arn}).",
            )
        wire = {k: {"DataType": t, "StringValue": v} for k, (t, v) in (attributes or {}).items()}
        try:
            return self.publisher.publish(
                topic.scope, topic_arn, Message(message, subject, attributes=wire)
            )
        except ServiceError as exc:
            raise PublishRefused(exc.code, exc.message) from exc


__all__ = ["Message", "Publisher", "ServedTopics"]
