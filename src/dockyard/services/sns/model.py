"""SNS's domain types: topics, subscriptions, and the deliveries waiting to be made."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope

TOPIC_KIND = "sns.topic"
SUBSCRIPTION_KIND = "sns.subscription"
DELIVERY_KIND = "sns.delivery"
SIGNING_KIND = "sns.signing-key"  # sealed: the RSA key that signs HTTP/S messages

PENDING = "PendingConfirmation"  # the SubscriptionArn of an unconfirmed subscription


class Protocol(enum.StrEnum):
    HTTP = "http"
    HTTPS = "https"
    SQS = "sqs"
    LAMBDA = "lambda"
    EMAIL = "email"
    EMAIL_JSON = "email-json"
    SMS = "sms"


# Protocols whose endpoint must confirm before it gets messages (AWS: http/s and email).
CONFIRMED_BY_ENDPOINT = {Protocol.HTTP, Protocol.HTTPS, Protocol.EMAIL, Protocol.EMAIL_JSON}


def topic_arn(scope: Scope, name: str) -> str:
    return arn("sns", scope.region, scope.account_id, name)


def default_policy(topic: str, account_id: str) -> str:
    """The access policy SNS gives a new topic: the owner's account may do everything."""
    return json.dumps({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish",
            ],
            "Resource": topic,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
        }],
    }, separators=(",", ":"))  # fmt: skip


@dataclass(slots=True)
class Topic:
    name: str
    account_id: str
    region: str
    created: float
    # Attributes as Get/SetTopicAttributes show them (Policy, DisplayName, DeliveryPolicy,
    # SignatureVersion, ...), those the user set or SNS defaults.
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def arn(self) -> str:
        return topic_arn(self.scope, self.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topic:
        return cls(**data)


@dataclass(slots=True)
class Subscription:
    arn: str
    topic_arn: str
    account_id: str
    region: str
    protocol: str
    endpoint: str
    owner: str
    created: float
    confirmed: bool = False
    token: str = ""  # the confirmation token sent to an http/s endpoint
    # Confirmed through the (signed) ConfirmSubscription API rather than the SubscribeURL;
    # with AuthenticateOnUnsubscribe, only a signed Unsubscribe may end it.
    authenticated: bool = False
    authenticate_on_unsubscribe: bool = False
    attributes: dict[str, str] = field(default_factory=dict)  # FilterPolicy, Raw..., ...

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def shown_arn(self) -> str:
        """What List* and Subscribe answer: the ARN, or PendingConfirmation."""
        return self.arn if self.confirmed else PENDING

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false").lower() == "true"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subscription:
        return cls(**data)


@dataclass(slots=True)
class Delivery:
    """One message waiting for one subscription (or a confirmation request for it); written
    before Publish answers, deleted once delivered or given up on."""

    id: str
    kind: str  # "Notification" | "SubscriptionConfirmation"
    subscription_arn: str
    topic_arn: str
    message_id: str
    message: str  # the text for this subscription's protocol (MessageStructure resolved)
    timestamp: float
    subject: str | None = None
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> Type, Value
    attempts: int = 0
    due: float = 0.0  # when the next attempt is made

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        return cls(**data)
