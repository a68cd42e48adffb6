"""SNS with an auth file: IAM policies decide on topic ARNs; the SubscribeURL a subscriber
visits needs no credentials (its token is the secret), as in SNS."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam_support import (
    ACCOUNT,
    REGION,
    client,
    error_code,
    new_user,
    policy,
    start_auth_server,
)
from tests.support.subscriber import Subscriber
from tests.support.waiting import wait_for


def test_policies_decide_on_topic_arns_and_confirmation_needs_no_key(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_auth_server(tmp_path_factory, "snsiam")
    try:
        root = client("sns", server.endpoint)
        allowed = root.create_topic(Name="allowed")["TopicArn"]
        other = root.create_topic(Name="other")["TopicArn"]
        assert allowed == f"arn:aws:sns:{REGION}:{ACCOUNT}:allowed"
        key, secret = new_user(client("iam", server.endpoint), "publisher", policy(
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": allowed}))  # fmt: skip
        user = client("sns", server.endpoint, key, secret)
        assert user.publish(TopicArn=allowed, Message="ok")["MessageId"]
        with pytest.raises(ClientError) as err:
            user.publish(TopicArn=other, Message="no")
        assert error_code(err.value) in ("AccessDenied", "AuthorizationError")
        with pytest.raises(ClientError) as err:
            user.list_topics()
        assert error_code(err.value) in ("AccessDenied", "AuthorizationError")
        anonymous: Any = client("sns", server.endpoint, "AKIANOSUCHKEY0000000", "x")
        with pytest.raises(ClientError):
            anonymous.create_topic(Name="nope")
        with Subscriber() as hook:
            root.subscribe(TopicArn=allowed, Protocol="http", Endpoint=hook.url)
            request = wait_for(lambda: hook.of_type("SubscriptionConfirmation"),
                               what="the confirmation")[0]  # fmt: skip
            with urllib.request.urlopen(request.doc["SubscribeURL"], timeout=10) as resp:
                assert resp.status == 200
            subs = root.list_subscriptions_by_topic(TopicArn=allowed)["Subscriptions"]
            assert subs[0]["SubscriptionArn"].startswith(allowed + ":")
    finally:
        server.stop()
