"""What subscribers receive: the JSON documents SNS POSTs to HTTP/S endpoints and puts on
SQS queues (Notification, SubscriptionConfirmation), the event Lambda functions get
(Records[].Sns), and the HTTP headers SNS sends with them."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.core import timefmt
from dockyard.services.sns.model import Delivery, Subscription
from dockyard.services.sns.signing import Signer

USER_AGENT = "Amazon Simple Notification Service Agent"
CONTENT_TYPE = "text/plain; charset=UTF-8"
PATH = "/_dockyard/sns/"


@dataclass(frozen=True, slots=True)
class Urls:
    """Where subscribers reach this server (SubscribeURL, UnsubscribeURL, SigningCertURL)."""

    base: str  # e.g. http://127.0.0.1:4566

    def cert(self, signer: Signer) -> str:
        return f"{self.base}{PATH}{signer.cert_name}"

    def subscribe(self, topic_arn: str, token: str) -> str:
        query = urllib.parse.urlencode(
            {"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": token}
        )
        return f"{self.base}{PATH}?{query}"

    def unsubscribe(self, subscription_arn: str) -> str:
        query = urllib.parse.urlencode(
            {"Action": "Unsubscribe", "SubscriptionArn": subscription_arn}
        )
        return f"{self.base}{PATH}?{query}"


def timestamp(ts: float) -> str:
    return timefmt.iso(ts, "ms")


def _attributes(delivery: Delivery) -> dict[str, dict[str, str]]:
    return {k: {"Type": v["Type"], "Value": v["Value"]} for k, v in delivery.attributes.items()}


def notification(
    delivery: Delivery, subscription: Subscription, signer: Signer, urls: Urls, version: str
) -> dict[str, Any]:
    """The signed Notification document (HTTP/S body, SQS body without raw delivery)."""
    doc: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": delivery.message_id,
        "TopicArn": delivery.topic_arn,
    }
    if delivery.subject is not None:
        doc["Subject"] = delivery.subject
    doc["Message"] = delivery.message
    doc["Timestamp"] = timestamp(delivery.timestamp)
    doc["SignatureVersion"] = version
    doc["Signature"] = signer.sign(doc, version)
    doc["SigningCertURL"] = urls.cert(signer)
    doc["UnsubscribeURL"] = urls.unsubscribe(subscription.arn)
    if delivery.attributes:
        doc["MessageAttributes"] = _attributes(delivery)
    return doc


def confirmation(
    delivery: Delivery, subscription: Subscription, signer: Signer, urls: Urls, version: str
) -> dict[str, Any]:
    """The signed SubscriptionConfirmation document with its SubscribeURL and Token."""
    doc: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": delivery.message_id,
        "Token": subscription.token,
        "TopicArn": delivery.topic_arn,
        "Message": delivery.message,
        "SubscribeURL": urls.subscribe(delivery.topic_arn, subscription.token),
        "Timestamp": timestamp(delivery.timestamp),
        "SignatureVersion": version,
    }
    doc["Signature"] = signer.sign(doc, version)
    doc["SigningCertURL"] = urls.cert(signer)
    return doc


def confirmation_text(topic_arn: str) -> str:
    return (
        f"You have chosen to subscribe to the topic {topic_arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )


def headers(delivery: Delivery, subscription: Subscription, raw: bool) -> dict[str, str]:
    out = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "x-amz-sns-message-type": delivery.kind,
        "x-amz-sns-message-id": delivery.message_id,
        "x-amz-sns-topic-arn": delivery.topic_arn,
    }
    if delivery.kind == "Notification":
        out["x-amz-sns-subscription-arn"] = subscription.arn
    if raw:
        out["x-amz-sns-rawdelivery"] = "true"
    return out


def lambda_event(
    delivery: Delivery, subscription: Subscription, signer: Signer, urls: Urls, version: str
) -> bytes:
    """The event a Lambda function subscribed to a topic is invoked with."""
    doc = notification(delivery, subscription, signer, urls, version)
    sns = {
        "Type": "Notification",
        "MessageId": doc["MessageId"],
        "TopicArn": doc["TopicArn"],
        "Subject": doc.get("Subject"),
        "Message": doc["Message"],
        "Timestamp": doc["Timestamp"],
        "SignatureVersion": doc["SignatureVersion"],
        "Signature": doc["Signature"],
        "SigningCertUrl": doc["SigningCertURL"],
        "UnsubscribeUrl": doc["UnsubscribeURL"],
        "MessageAttributes": doc.get("MessageAttributes", {}),
    }
    event = {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription.arn,
        "Sns": sns,
    }]}  # fmt: skip
    return json.dumps(event).encode()


def as_text(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2)
