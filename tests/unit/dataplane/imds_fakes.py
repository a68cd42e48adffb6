"""A fake EC2 side for the metadata service: one instance at 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping

from dockyard.core.hosts import HttpTokens, InstanceView

KEY = b"test-signing-key"

VIEW = InstanceView(
    instance_id="i-0123456789abcdef0",
    account_id="123456789012",
    region="us-east-1",
    availability_zone="us-east-1b",
    image_id="ami-0abcdef1234567890",
    instance_type="t3.micro",
    private_ip="127.0.0.1",
    mac="0e:11:22:33:44:55",
    hostname="ip-10-0-1-5.ec2.internal",
    vpc_id="vpc-0aaa",
    subnet_id="subnet-0bbb",
    vpc_cidr="10.0.0.0/16",
    subnet_cidr="10.0.1.0/24",
    security_groups=("web", "default"),
    security_group_ids=("sg-01", "sg-02"),
    launch_time=1_700_000_000.0,
    user_data=b"#!/bin/sh\necho hello\n",
    tags={"Name": "web-1", "team": "blue"},
    role_name="app-role",
    instance_profile_arn="arn:aws:iam::123456789012:instance-profile/app",
)

CREDENTIALS = {
    "AccessKeyId": "ASIAEXAMPLE",
    "SecretAccessKey": "secret",
    "Token": "session-token",
    "Expiration": "2026-12-07T18:00:00Z",
}


def sign(document: bytes) -> str:
    return hmac.new(KEY, document, hashlib.sha256).hexdigest()


class FakeMetadata:
    def __init__(self, view: InstanceView = VIEW) -> None:
        self.views = {view.private_ip: view}
        self.credential_calls: list[str] = []

    def set(self, **changes: object) -> None:
        view = self.views["127.0.0.1"]
        self.views["127.0.0.1"] = dataclasses.replace(view, **changes)  # type: ignore[arg-type]

    def by_address(self, private_ip: str) -> InstanceView | None:
        return self.views.get(private_ip)

    async def role_credentials(self, instance_id: str) -> Mapping[str, str] | None:
        self.credential_calls.append(instance_id)
        return CREDENTIALS if self.views["127.0.0.1"].role_name else None

    def identity_signature(self, document: bytes) -> str:
        return sign(document)


class FakeVerifier:
    def verify(self, document: bytes, signature: str) -> bool:
        return hmac.compare_digest(sign(document), signature)


REQUIRED = HttpTokens.REQUIRED
