"""Topics and their subscriptions of every account and region: in memory, written through to
the store (kinds `sns.topic`, `sns.subscription`)."""

from __future__ import annotations

import json
import logging
import secrets

from dockyard.core.clock import Clock
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.sns import validation
from dockyard.services.sns.errors import subscription_not_found, topic_not_found
from dockyard.services.sns.model import (
    SUBSCRIPTION_KIND,
    TOPIC_KIND,
    Protocol,
    Subscription,
    Topic,
    default_policy,
    topic_arn,
)
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

# Confirmed without a handshake: a queue or function of the same account, an SMS number.
CONFIRMED_AT_ONCE = {Protocol.SQS, Protocol.LAMBDA, Protocol.SMS}
DEFAULT_HTTP_POLICY: dict[str, int | str] = {
    "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear",
}  # fmt: skip


def effective_delivery_policy(topic: Topic) -> str:
    own = json.loads(topic.attributes.get("DeliveryPolicy") or "{}")
    http = own.get("http") or {}
    return json.dumps({"http": {
        "defaultHealthyRetryPolicy": {**DEFAULT_HTTP_POLICY,
                                      **(http.get("defaultHealthyRetryPolicy") or {})},
        "disableSubscriptionOverrides": bool(http.get("disableSubscriptionOverrides", False)),
        **({"defaultThrottlePolicy": http["defaultThrottlePolicy"]}
           if "defaultThrottlePolicy" in http else {}),
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8",
                                 **(http.get("defaultRequestPolicy") or {})},
    }}, separators=(",", ":"))  # fmt: skip


class Topics:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.topics: dict[str, Topic] = {}  # by ARN
        self.subscriptions: dict[str, Subscription] = {}  # by ARN

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(TOPIC_KIND):
            self.topics[key] = Topic.from_dict(body)
        for key, body in self.store.load(SUBSCRIPTION_KIND):
            self.subscriptions[key] = Subscription.from_dict(body)

    def reset(self) -> None:
        self.topics.clear()
        self.subscriptions.clear()

    # -- topics ---------------------------------------------------------------------------

    def save(self, topic: Topic) -> None:
        put_record(self.store, TOPIC_KIND, topic.arn, topic, Topic.from_dict)
        self.topics[topic.arn] = topic

    def all(self, scope: Scope) -> list[Topic]:
        return sorted((t for t in self.topics.values() if t.scope == scope), key=lambda t: t.arn)

    def get(self, scope: Scope, arn: str) -> Topic:
        topic = self.topics.get(arn)
        if topic is None or topic.scope != scope:
            raise topic_not_found()
        return topic

    def create(
        self, scope: Scope, name: str, attributes: dict[str, str], tags: dict[str, str]
    ) -> Topic:
        validation.topic_name(name, attributes)
        for key, value in attributes.items():
            validation.topic_attribute(key, value, creating=True)
        attributes = {k: v for k, v in attributes.items() if k != "FifoTopic"}
        arn = topic_arn(scope, name)
        existing = self.topics.get(arn)
        if existing is not None:  # idempotent, as long as it asks for the same topic
            for key, value in attributes.items():
                if existing.attributes.get(key) != value:
                    raise validation.invalid(
                        "Attributes", "Topic already exists with different attributes"
                    )
            for key, value in tags.items():
                if existing.tags.get(key) != value:
                    raise validation.invalid("Tags", "Topic already exists with different tags")
            return existing
        topic = Topic(name, scope.account_id, scope.region, self.clock.now(),
                      {"Policy": default_policy(arn, scope.account_id), **attributes},
                      dict(tags))  # fmt: skip
        self.save(topic)
        log.info("sns: created topic %s", name, extra={"topic_arn": arn})
        return topic

    def set_attribute(self, topic: Topic, name: str, value: str) -> None:
        validation.topic_attribute(name, value)
        if name == "Policy" and not value:
            value = default_policy(topic.arn, topic.account_id)
        if value == "" and name != "Policy":
            topic.attributes.pop(name, None)
        else:
            topic.attributes[name] = value
        self.save(topic)

    def delete(self, scope: Scope, arn: str) -> None:
        """Deleting a topic that does not exist is not an error (as in SNS)."""
        topic = self.topics.get(arn)
        if topic is None or topic.scope != scope:
            return
        gone = [s for s in self.subscriptions.values() if s.topic_arn == arn]
        self.store.write(deletes=[(TOPIC_KIND, arn), *((SUBSCRIPTION_KIND, s.arn) for s in gone)])
        self.topics.pop(arn, None)
        for sub in gone:
            self.subscriptions.pop(sub.arn, None)
        log.info("sns: deleted topic %s", topic.name, extra={"topic_arn": arn})

    def counts(self, topic: Topic) -> tuple[int, int]:
        subs = [s for s in self.subscriptions.values() if s.topic_arn == topic.arn]
        confirmed = sum(1 for s in subs if s.confirmed)
        return confirmed, len(subs) - confirmed

    # -- subscriptions --------------------------------------------------------------------

    def save_subscription(self, sub: Subscription) -> None:
        put_record(self.store, SUBSCRIPTION_KIND, sub.arn, sub, Subscription.from_dict)
        self.subscriptions[sub.arn] = sub

    def of_topic(self, topic_arn: str) -> list[Subscription]:
        return sorted(
            (s for s in self.subscriptions.values() if s.topic_arn == topic_arn),
            key=lambda s: (s.created, s.arn),
        )

    def of_scope(self, scope: Scope) -> list[Subscription]:
        return sorted(
            (s for s in self.subscriptions.values() if s.scope == scope),
            key=lambda s: (s.created, s.arn),
        )

    def subscription(self, scope: Scope, arn: str) -> Subscription:
        sub = self.subscriptions.get(arn)
        if sub is None or sub.scope != scope:
            raise subscription_not_found()
        return sub

    def subscribe(
        self, topic: Topic, protocol: str, endpoint: str | None, attributes: dict[str, str]
    ) -> tuple[Subscription, bool]:
        """The subscription (an existing one for the same endpoint), and whether it is new."""
        kind = validation.protocol(protocol)
        target = validation.endpoint(kind, endpoint)
        scope_value = attributes.get("FilterPolicyScope", "MessageAttributes")
        for key, value in attributes.items():
            validation.subscription_attribute(key, value, kind, scope_value)
        for sub in self.of_topic(topic.arn):
            if sub.protocol == kind and sub.endpoint == target:
                if any(sub.attributes.get(k, "") != v for k, v in attributes.items()):
                    raise validation.invalid(
                        "Attributes", "Subscription already exists with different attributes"
                    )
                return sub, False
        sub = Subscription(
            arn=f"{topic.arn}:{new_uuid()}",
            topic_arn=topic.arn,
            account_id=topic.account_id,
            region=topic.region,
            protocol=kind,
            endpoint=target,
            owner=topic.account_id,
            created=self.clock.now(),
            confirmed=kind in CONFIRMED_AT_ONCE,
            token="" if kind in CONFIRMED_AT_ONCE else secrets.token_hex(64),
            attributes={k: v for k, v in attributes.items() if v != ""},
        )
        self.save_subscription(sub)
        log.info("sns: %s subscribed %s %s", topic.name, kind, target,
                 extra={"subscription_arn": sub.arn})  # fmt: skip
        return sub, True

    def set_subscription_attribute(self, sub: Subscription, name: str, value: str) -> None:
        scope_value = (
            value if name == "FilterPolicyScope"
            else sub.attributes.get("FilterPolicyScope", "MessageAttributes")
        )  # fmt: skip
        validation.subscription_attribute(name, value, Protocol(sub.protocol), scope_value)
        if name == "FilterPolicyScope" and sub.attributes.get("FilterPolicy"):
            validation.subscription_attribute(
                "FilterPolicy", sub.attributes["FilterPolicy"], Protocol(sub.protocol), value
            )
        if value == "":
            sub.attributes.pop(name, None)
        else:
            sub.attributes[name] = value
        self.save_subscription(sub)

    def confirm(
        self,
        topic_arn: str,
        token: str,
        *,
        authenticated: bool = False,
        authenticate_on_unsubscribe: bool = False,
    ) -> Subscription:
        """Confirm the subscription `token` was sent to (an unknown token: InvalidParameter).
        Through the API (`authenticated`), AuthenticateOnUnsubscribe may be asked for."""
        topic = self.topics.get(topic_arn)
        if topic is None:
            raise topic_not_found()
        for sub in self.of_topic(topic_arn):
            if sub.token and secrets.compare_digest(sub.token, token):
                if not sub.confirmed or (authenticated and authenticate_on_unsubscribe):
                    sub.confirmed = True
                    sub.authenticated = sub.authenticated or authenticated
                    if authenticated and authenticate_on_unsubscribe:
                        sub.authenticate_on_unsubscribe = True
                    self.save_subscription(sub)
                    log.info("sns: subscription %s confirmed", sub.arn,
                             extra={"subscription_arn": sub.arn})  # fmt: skip
                return sub
        raise validation.invalid("Token")

    def unsubscribe(self, arn: str) -> Subscription:
        sub = self.subscriptions.get(arn)
        if sub is None:
            raise subscription_not_found()
        self.store.delete(SUBSCRIPTION_KIND, arn)
        self.subscriptions.pop(arn, None)
        log.info("sns: unsubscribed %s", arn, extra={"subscription_arn": arn})
        return sub
