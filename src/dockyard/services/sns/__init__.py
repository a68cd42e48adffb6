"""Amazon SNS: topics, subscriptions (http/s, sqs, lambda, email, email-json, sms) and
publishing, with deliveries made from a durable queue."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.sns import access, ops
from dockyard.services.sns.endpoint import PREFIX, SubscriberEndpoint
from dockyard.services.sns.envelope import Urls
from dockyard.services.sns.model import DELIVERY_KIND, SIGNING_KIND
from dockyard.services.sns.service import Sns

# Sealed at rest: the signing key, and messages waiting for delivery.
SEALED_KINDS = (SIGNING_KIND, DELIVERY_KIND)

__all__ = ["PREFIX", "SEALED_KINDS", "Sns", "SubscriberEndpoint", "Urls", "provider"]


def provider(sns: Sns) -> Provider:
    return Provider(
        service="sns",
        handlers=ops.handlers(sns),
        validation_error_code="InvalidParameter",
        reset=sns.reset,
        access=access.access(sns.topics),
    )
