"""EC2 as the instance metadata service sees it (`core.hosts.InstanceMetadata`): the running
(or booting) instance behind a private address, its instance profile role's temporary credentials
(assumed through STS as `ec2.amazonaws.com`, renewed five minutes before they expire, as EC2
rotates them), and the signature of its identity document: an HMAC-SHA256 under a key of
this server's own, kept sealed in the store so a signature outlives a restart."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping

from dockyard.core.hosts import HttpTokens, InstanceView
from dockyard.core.rolecredentials import (
    RoleCredentialIssuer,
    RoleUnavailable,
    TemporaryCredentials,
)
from dockyard.core.timefmt import iso
from dockyard.services.ec2.instances.instances import private_dns
from dockyard.services.ec2.instances.model import Instance, InstanceState
from dockyard.services.ec2.network.model import SecurityGroup, Subnet, Vpc
from dockyard.services.ec2.service import Ec2

log = logging.getLogger(__name__)

KEY_KIND = "ec2.identity-key"  # sealed at rest
EC2_PRINCIPAL = "ec2.amazonaws.com"
RENEW_BEFORE = 300.0  # seconds before expiry that an instance's credentials are renewed


def _user_data(instance: Instance) -> bytes | None:
    if not instance.user_data:
        return None
    try:
        return base64.b64decode(instance.user_data, validate=True)
    except (binascii.Error, ValueError):
        return None


class Ec2Metadata:
    def __init__(self, ec2: Ec2, role_credentials: RoleCredentialIssuer | None = None) -> None:
        self.ec2 = ec2
        self.issuer = role_credentials
        self._key: bytes | None = None
        self._issued: dict[str, TemporaryCredentials] = {}  # instance id -> credentials

    # -- the identity key ------------------------------------------------------------------

    def key(self) -> bytes:
        if self._key is None:
            store = self.ec2.store
            saved = store.get(KEY_KIND, "hmac")
            if saved is None:
                saved = {"key": secrets.token_hex(32)}
                store.put(KEY_KIND, "hmac", saved)
            self._key = bytes.fromhex(str(saved["key"]))
        return self._key

    def identity_signature(self, document: bytes) -> str:
        digest = hmac.new(self.key(), document, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def verify_identity(self, document: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.identity_signature(document), signature.strip())

    def verify(self, document: bytes, signature: str) -> bool:
        """`core.hosts.IdentityVerifier`: signed by this server, of an instance that exists
        and is not terminated."""
        if not self.verify_identity(document, signature):
            return False
        try:
            parsed = json.loads(document)
        except ValueError:
            return False
        instance_id = parsed.get("instanceId") if isinstance(parsed, dict) else None
        found = self._instance(instance_id) if isinstance(instance_id, str) else None
        return found is not None and found.state != InstanceState.TERMINATED

    # -- instances -------------------------------------------------------------------------

    def _instance(self, instance_id: str) -> Instance | None:
        for scope in self.ec2.instances.scopes():
            found = self.ec2.records.find(scope, instance_id, Instance)
            if found is not None:
                return found
        return None

    def by_address(self, private_ip: str) -> InstanceView | None:
        instance = self.ec2.instances.by_address(private_ip)
        if instance is None:
            return None
        records, scope = self.ec2.records, instance.scope
        vpc = records.find(scope, instance.vpc_id, Vpc)
        subnet = records.find(scope, instance.subnet_id, Subnet)
        groups = [records.find(scope, g, SecurityGroup) for g in instance.group_ids]
        options = instance.metadata
        profile = None
        if instance.iam_profile and self.ec2.profiles is not None:
            profile = self.ec2.profiles.profile(instance.account_id, instance.iam_profile)
        return InstanceView(
            instance_id=instance.id,
            account_id=instance.account_id,
            region=instance.region,
            availability_zone=instance.zone,
            image_id=instance.image_id,
            instance_type=instance.instance_type,
            private_ip=instance.private_ip,
            mac=instance.mac,
            hostname=private_dns(instance.region, instance.private_ip),
            vpc_id=instance.vpc_id,
            subnet_id=instance.subnet_id,
            vpc_cidr=vpc.cidr if vpc else "",
            subnet_cidr=subnet.cidr if subnet else "",
            security_groups=tuple(g.name for g in groups if g is not None),
            security_group_ids=tuple(instance.group_ids),
            launch_time=instance.launch_time,
            user_data=_user_data(instance),
            http_tokens=HttpTokens(options.get("HttpTokens", "optional")),
            endpoint_enabled=options.get("HttpEndpoint", "enabled") == "enabled",
            hop_limit=int(options.get("HttpPutResponseHopLimit", 1)),
            tags=(
                dict(instance.tags)
                if options.get("InstanceMetadataTags", "disabled") == "enabled"
                else None
            ),
            role_name=profile.role_name if profile else None,
            instance_profile_arn=instance.iam_profile,
        )

    async def role_credentials(self, instance_id: str) -> Mapping[str, str] | None:
        instance = self._instance(instance_id)
        if instance is None or not instance.iam_profile:
            return None
        if self.ec2.profiles is None or self.issuer is None:
            return None
        profile = self.ec2.profiles.profile(instance.account_id, instance.iam_profile)
        if profile is None or profile.role_arn is None:
            self._issued.pop(instance_id, None)
            return None
        now = self.ec2.clock.now()
        held = self._issued.get(instance_id)
        if (
            held is None
            or held.role_arn != profile.role_arn
            or held.expiration - now < RENEW_BEFORE
        ):
            try:
                held = self.issuer.issue(
                    instance.account_id, profile.role_arn, instance.id, service=EC2_PRINCIPAL
                )
            except RoleUnavailable as exc:
                log.warning("instance %s: no credentials for its role: %s", instance_id, exc)
                return None
            self._issued[instance_id] = held
        return {
            "Code": "Success",
            "LastUpdated": iso(now, "s"),
            "Type": "AWS-HMAC",
            "AccessKeyId": held.access_key_id,
            "SecretAccessKey": held.secret_access_key,
            "Token": held.session_token,
            "Expiration": iso(held.expiration, "s"),
        }
