"""What SNS operations act on, for IAM authorization: the topic (`arn:aws:sns:<region>:
<account>:<name>`), with its tags (aws:ResourceTag/*); a subscription's operations act on
its topic, as SNS's authorization does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, named, table, values
from dockyard.services.sns.topics import Topics


def _topic_of_subscription(req: AccessRequest) -> Iterable[str]:
    return [v.rsplit(":", 1)[0] for v in values(req.params, "SubscriptionArn") if ":" in v]


def _created(req: AccessRequest) -> Iterable[str]:
    return [req.arn("sns", v) for v in values(req.params, "Name")]


def _published(req: AccessRequest) -> Iterable[str]:
    return [*values(req.params, "TopicArn"), *values(req.params, "TargetArn")]


TOPIC = named("TopicArn", "sns", "{}")
RESOURCE = named("ResourceArn", "sns", "{}")
RESOURCES: dict[str, Resolver] = {
    "CreateTopic": _created,
    "DeleteTopic": TOPIC,
    "GetTopicAttributes": TOPIC,
    "SetTopicAttributes": TOPIC,
    "Subscribe": TOPIC,
    "ConfirmSubscription": TOPIC,
    "ListSubscriptionsByTopic": TOPIC,
    "Publish": _published,
    "PublishBatch": TOPIC,
    "Unsubscribe": _topic_of_subscription,
    "GetSubscriptionAttributes": _topic_of_subscription,
    "SetSubscriptionAttributes": _topic_of_subscription,
    "TagResource": RESOURCE,
    "UntagResource": RESOURCE,
    "ListTagsForResource": RESOURCE,
}


def access(topics: Topics) -> AccessFunction:
    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        topic = topics.topics.get(arn)
        return dict(topic.tags) if topic is not None else None

    return table("sns", RESOURCES, tags=tags)
