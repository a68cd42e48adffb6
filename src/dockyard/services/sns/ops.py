"""SNS operations: request in, domain call, output out."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from typing import TypeVar

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.sns import validation
from dockyard.services.sns.errors import NotFoundException, UnsupportedFeature, topic_not_found
from dockyard.services.sns.model import PENDING, Subscription, Topic
from dockyard.services.sns.publishing import Message, topic_of
from dockyard.services.sns.service import Sns
from dockyard.services.sns.topics import effective_delivery_policy

T = TypeVar("T")
PAGE = 100


def paged(items: Sequence[T], key: Callable[[T], str], p: Params) -> tuple[list[T], str | None]:
    try:
        return page(items, key, p.get("NextToken"), None, PAGE)
    except InvalidToken as exc:
        raise validation.invalid("NextToken") from exc


def topic_attributes(sns: Sns, topic: Topic) -> dict[str, str]:
    confirmed, pending = sns.topics.counts(topic)
    out = {
        "TopicArn": topic.arn,
        "Owner": topic.account_id,
        "SubscriptionsConfirmed": str(confirmed),
        "SubscriptionsPending": str(pending),
        "SubscriptionsDeleted": "0",
        "EffectiveDeliveryPolicy": effective_delivery_policy(topic),
        "DisplayName": "",
        "SignatureVersion": "1",
        "TracingConfig": "PassThrough",
    }
    out.update(topic.attributes)
    return out


def subscription_attributes(sns: Sns, sub: Subscription) -> dict[str, str]:
    topic = sns.topics.topics.get(sub.topic_arn)
    out = {
        "SubscriptionArn": sub.arn,
        "TopicArn": sub.topic_arn,
        "Owner": sub.owner,
        "Protocol": sub.protocol,
        "Endpoint": shown_endpoint(sub.endpoint),
        "ConfirmationWasAuthenticated": "true" if sub.authenticated else "false",
        "PendingConfirmation": "false" if sub.confirmed else "true",
        "RawMessageDelivery": "false",
        "SubscriptionPrincipal": f"arn:aws:iam::{sub.account_id}:root",
    }
    if sub.protocol in ("http", "https") and topic is not None:
        out["EffectiveDeliveryPolicy"] = effective_delivery_policy(topic)
    out.update(sub.attributes)
    if "FilterPolicy" in out:
        out.setdefault("FilterPolicyScope", "MessageAttributes")
    return out


def shown_endpoint(endpoint: str) -> str:
    """An HTTP/S endpoint's password is never shown back (SNS masks it as ****)."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.password is None:
        return endpoint
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def subscription_to_wire(sub: Subscription) -> Result:
    return {"SubscriptionArn": sub.shown_arn, "Owner": sub.owner, "Protocol": sub.protocol,
            "Endpoint": shown_endpoint(sub.endpoint), "TopicArn": sub.topic_arn}  # fmt: skip


def _flag(value: object) -> bool:
    return str(value).lower() == "true" if value is not None else False


def tags_of(raw: list[dict[str, str]] | None) -> dict[str, str]:
    return validation.tags(raw)


def handlers(sns: Sns) -> dict[str, Handler]:
    topics = sns.topics

    def tagged(ctx: RequestContext, arn: str) -> Topic:
        topic = topics.topics.get(arn)
        if topic is None or topic.scope != scope_of(ctx):
            raise NotFoundException("Resource does not exist", code="ResourceNotFound")
        return topic

    def create_topic(ctx: RequestContext, p: Params) -> Result:
        if p.get("DataProtectionPolicy"):
            raise UnsupportedFeature("Dockyard does not serve message data protection "
                                     "(DataProtectionPolicy).")  # fmt: skip
        topic = topics.create(
            scope_of(ctx), p["Name"], dict(p.get("Attributes") or {}), tags_of(p.get("Tags"))
        )
        return {"TopicArn": topic.arn}

    def delete_topic(ctx: RequestContext, p: Params) -> Result:
        topics.delete(scope_of(ctx), p["TopicArn"])
        return {}

    def list_topics(ctx: RequestContext, p: Params) -> Result:
        chunk, token = paged(topics.all(scope_of(ctx)), lambda t: t.arn, p)
        out: Result = {"Topics": [{"TopicArn": t.arn} for t in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def get_topic_attributes(ctx: RequestContext, p: Params) -> Result:
        topic = topics.get(scope_of(ctx), p["TopicArn"])
        return {"Attributes": topic_attributes(sns, topic)}

    def set_topic_attributes(ctx: RequestContext, p: Params) -> Result:
        topic = topics.get(scope_of(ctx), p["TopicArn"])
        topics.set_attribute(topic, p["AttributeName"], p.get("AttributeValue") or "")
        return {}

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        topic = tagged(ctx, p["ResourceArn"])
        topic.tags = validation.tags(p["Tags"], topic.tags)
        topics.save(topic)
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        topic = tagged(ctx, p["ResourceArn"])
        for key in p["TagKeys"]:
            topic.tags.pop(key, None)
        topics.save(topic)
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        topic = tagged(ctx, p["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(topic.tags.items())]}

    def subscribe(ctx: RequestContext, p: Params) -> Result:
        topic = topics.get(scope_of(ctx), p["TopicArn"])
        sub, new = topics.subscribe(
            topic, p["Protocol"], p.get("Endpoint"), dict(p.get("Attributes") or {})
        )
        if new or not sub.confirmed:
            sns.ask_to_confirm(sub)
        # Subscribe says "pending confirmation" where List* say PendingConfirmation (as SNS).
        pending = not sub.confirmed and not p.get("ReturnSubscriptionArn")
        return {"SubscriptionArn": "pending confirmation" if pending else sub.arn}

    def confirm_subscription(ctx: RequestContext, p: Params) -> Result:
        topic = topics.get(scope_of(ctx), p["TopicArn"])
        strict = _flag(p.get("AuthenticateOnUnsubscribe"))
        sub = topics.confirm(
            topic.arn, p["Token"], authenticated=True, authenticate_on_unsubscribe=strict
        )
        return {"SubscriptionArn": sub.arn}

    def unsubscribe(ctx: RequestContext, p: Params) -> Result:
        arn = p["SubscriptionArn"]
        if arn == PENDING:
            raise validation.invalid("SubscriptionArn")
        topics.subscription(scope_of(ctx), arn)
        topics.unsubscribe(arn)
        return {}

    def list_subscriptions(ctx: RequestContext, p: Params) -> Result:
        subs = sorted(topics.of_scope(scope_of(ctx)), key=lambda s: s.arn)
        chunk, token = paged(subs, lambda s: s.arn, p)
        out: Result = {"Subscriptions": [subscription_to_wire(s) for s in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def list_subscriptions_by_topic(ctx: RequestContext, p: Params) -> Result:
        topic = topics.get(scope_of(ctx), p["TopicArn"])
        subs = sorted(topics.of_topic(topic.arn), key=lambda s: s.arn)
        chunk, token = paged(subs, lambda s: s.arn, p)
        out: Result = {"Subscriptions": [subscription_to_wire(s) for s in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def get_subscription_attributes(ctx: RequestContext, p: Params) -> Result:
        sub = topics.subscription(scope_of(ctx), p["SubscriptionArn"])
        return {"Attributes": subscription_attributes(sns, sub)}

    def set_subscription_attributes(ctx: RequestContext, p: Params) -> Result:
        sub = topics.subscription(scope_of(ctx), p["SubscriptionArn"])
        topics.set_subscription_attribute(sub, p["AttributeName"], p.get("AttributeValue") or "")
        return {}

    def publish(ctx: RequestContext, p: Params) -> Result:
        if p.get("PhoneNumber"):
            raise UnsupportedFeature(
                "Dockyard does not send SMS messages to phone numbers directly (PhoneNumber); "
                "subscribe the number to a topic."
            )
        arn = topic_of(scope_of(ctx), p.get("TopicArn"), p.get("TargetArn"))
        if arn not in topics.topics:
            raise topic_not_found()
        message_id = sns.publishing.publish(scope_of(ctx), arn, Message(
            message=p.get("Message", ""), subject=p.get("Subject"),
            structure=p.get("MessageStructure"), attributes=p.get("MessageAttributes"),
            group_id=p.get("MessageGroupId"), deduplication_id=p.get("MessageDeduplicationId"),
        ))  # fmt: skip
        return {"MessageId": message_id}

    def publish_batch(ctx: RequestContext, p: Params) -> Result:
        successful, failed = sns.publishing.publish_batch(
            scope_of(ctx), p["TopicArn"], list(p.get("PublishBatchRequestEntries") or [])
        )
        return {"Successful": successful, "Failed": failed}

    return {
        "CreateTopic": create_topic,
        "DeleteTopic": delete_topic,
        "ListTopics": list_topics,
        "GetTopicAttributes": get_topic_attributes,
        "SetTopicAttributes": set_topic_attributes,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
        "Subscribe": subscribe,
        "ConfirmSubscription": confirm_subscription,
        "Unsubscribe": unsubscribe,
        "ListSubscriptions": list_subscriptions,
        "ListSubscriptionsByTopic": list_subscriptions_by_topic,
        "GetSubscriptionAttributes": get_subscription_attributes,
        "SetSubscriptionAttributes": set_subscription_attributes,
        "Publish": publish,
        "PublishBatch": publish_batch,
    }
