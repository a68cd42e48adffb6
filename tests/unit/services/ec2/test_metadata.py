"""EC2 as the metadata service's InstanceMetadata: the running instance behind an address,
its metadata options and tags, its instance profile role's credentials (assumed as
ec2.amazonaws.com, kept until shortly before they expire), and identity signatures that
verify after a restart on the same store; and launches check the instance profile."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.hosts import HttpTokens
from dockyard.core.images import plain_image
from dockyard.core.rolecredentials import RoleUnavailable, TemporaryCredentials
from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2, Ec2Metadata
from dockyard.services.ec2.instances.profiles import Profile
from dockyard.store import SqliteStore
from tests.unit.services.ec2.conftest import ACCOUNT, REGION, Call, error_of, make_call

SCOPE = Scope(ACCOUNT, REGION)
IMAGE = plain_image(REGION).image_id
PROFILE_ARN = f"arn:aws:iam::{ACCOUNT}:instance-profile/web"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-role"


@dataclass
class Profiles:
    role: str | None = ROLE_ARN

    def profile(self, account_id: str, name_or_arn: str) -> Profile | None:
        if account_id == ACCOUNT and name_or_arn in ("web", PROFILE_ARN):
            name = self.role.rsplit("/", 1)[-1] if self.role else None
            return Profile(PROFILE_ARN, "AIPAEXAMPLE", self.role, name)
        return None


@dataclass
class Issuer:
    clock: ManualClock
    calls: list[tuple[str, str, str, str]] = field(default_factory=list)
    refuse: bool = False

    def issue(self, account_id: str, role_arn: str, session_name: str, *,
              service: str = "ecs-tasks.amazonaws.com") -> TemporaryCredentials:  # fmt: skip
        if self.refuse:
            raise RoleUnavailable("no trust")
        self.calls.append((account_id, role_arn, session_name, service))
        n = len(self.calls)
        return TemporaryCredentials(f"ASIA{n}", f"secret{n}", f"token{n}",
                                    self.clock.now() + 3600, role_arn)  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def store() -> SqliteStore:
    return SqliteStore(":memory:")


@pytest.fixture
def served(store: SqliteStore, clock: ManualClock) -> Ec2:
    service = Ec2(store, clock, no_runtime=None)
    service.profiles = Profiles()
    service.load()
    return service


@pytest.fixture
def call(served: Ec2) -> Call:
    return make_call(served)


def running(served: Ec2, call: Call, **params: object) -> dict[str, object]:
    out = call("RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1, **params)
    instance: dict[str, object] = out["Instances"][0]
    served.instances.booted(served.instances.get(SCOPE, str(instance["InstanceId"])))
    return instance


def test_launches_check_the_instance_profile(served: Ec2, call: Call) -> None:
    err = error_of(call, "RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1,
                   IamInstanceProfile={"Name": "nope"})  # fmt: skip
    assert err.code == "InvalidParameterValue"
    assert "iamInstanceProfile.name" in err.message and "nope" in err.message
    err = error_of(call, "RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1,
                   IamInstanceProfile={"Arn": PROFILE_ARN + "x"})  # fmt: skip
    assert "iamInstanceProfile.arn" in err.message
    by_name = running(served, call, IamInstanceProfile={"Name": "web"})
    assert by_name["IamInstanceProfile"] == {"Arn": PROFILE_ARN, "Id": "AIPAEXAMPLE"}
    running(served, call)  # no profile: no association
    (association,) = call("DescribeIamInstanceProfileAssociations")[
        "IamInstanceProfileAssociations"
    ]
    assert association["InstanceId"] == by_name["InstanceId"]
    assert association["State"] == "associated"
    assert association["IamInstanceProfile"] == {"Arn": PROFILE_ARN, "Id": "AIPAEXAMPLE"}
    again = call("DescribeIamInstanceProfileAssociations",
                 AssociationIds=[association["AssociationId"]],
                 Filters=[{"Name": "instance-id", "Values": [by_name["InstanceId"]]}])  # fmt: skip
    assert again["IamInstanceProfileAssociations"] == [association]
    err = error_of(call, "DescribeIamInstanceProfileAssociations",
                   AssociationIds=["iip-assoc-0123456789abcdef0"])  # fmt: skip
    assert err.code == "InvalidAssociationID.NotFound"


def test_the_running_instance_behind_an_address(served: Ec2, call: Call) -> None:
    metadata = Ec2Metadata(served)
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    launched = running(
        served, call, UserData=user_data, IamInstanceProfile={"Arn": PROFILE_ARN},
        MetadataOptions={"HttpTokens": "required", "InstanceMetadataTags": "enabled"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "a"}]}],
    )  # fmt: skip
    view = metadata.by_address(str(launched["PrivateIpAddress"]))
    assert view is not None
    assert view.instance_id == launched["InstanceId"]
    assert (view.account_id, view.region, view.image_id) == (ACCOUNT, REGION, IMAGE)
    assert view.user_data == b"#!/bin/sh\necho hi\n"
    assert view.http_tokens is HttpTokens.REQUIRED and view.endpoint_enabled
    assert view.tags == {"Name": "a"}
    assert view.role_name == "web-role" and view.instance_profile_arn == PROFILE_ARN
    assert view.vpc_cidr == "172.31.0.0/16" and view.security_groups == ("default",)
    assert view.hostname.startswith("ip-") and view.mac.startswith("02:")
    plain = running(served, call)
    other = metadata.by_address(str(plain["PrivateIpAddress"]))
    assert other is not None and other.tags is None and other.role_name is None
    call("StopInstances", InstanceIds=[plain["InstanceId"]])
    assert metadata.by_address(str(plain["PrivateIpAddress"])) is None
    assert metadata.by_address("10.9.9.9") is None
    # Pending: its host is booting, and its boot program may already ask.
    booting = call("RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1)["Instances"][0]
    view = metadata.by_address(str(booting["PrivateIpAddress"]))
    assert view is not None and view.instance_id == booting["InstanceId"]


def test_role_credentials_as_imds_shows_them(served: Ec2, call: Call, clock: ManualClock) -> None:
    issuer = Issuer(clock)
    metadata = Ec2Metadata(served, issuer)
    iid = str(running(served, call, IamInstanceProfile={"Name": "web"})["InstanceId"])
    first = asyncio.run(metadata.role_credentials(iid))
    assert first is not None
    assert first["AccessKeyId"] == "ASIA1" and first["Token"] == "token1"
    assert first["Code"] == "Success" and first["Type"] == "AWS-HMAC"
    assert first["Expiration"] == "2023-11-14T23:13:20Z"
    assert issuer.calls == [(ACCOUNT, ROLE_ARN, iid, "ec2.amazonaws.com")]
    clock.advance(600)
    again = asyncio.run(metadata.role_credentials(iid))
    assert again is not None and again["AccessKeyId"] == "ASIA1"  # still valid a while
    clock.advance(2800)  # five minutes before they expire: new ones
    renewed = asyncio.run(metadata.role_credentials(iid))
    assert renewed is not None and renewed["AccessKeyId"] == "ASIA2"
    plain = str(running(served, call)["InstanceId"])
    assert asyncio.run(metadata.role_credentials(plain)) is None
    assert isinstance(served.profiles, Profiles)
    served.profiles.role = None  # the role was taken off the profile
    assert asyncio.run(metadata.role_credentials(iid)) is None
    served.profiles.role = ROLE_ARN
    issuer.refuse = True
    assert asyncio.run(metadata.role_credentials(iid)) is None


def test_identity_signatures_survive_a_restart(
    served: Ec2, store: SqliteStore, clock: ManualClock
) -> None:
    document = b'{"instanceId": "i-0123456789abcdef0", "accountId": "123456789012"}'
    signature = Ec2Metadata(served).identity_signature(document)
    assert Ec2Metadata(served).verify_identity(document, signature)
    again = Ec2(store, clock, no_runtime=None)
    again.load()
    restarted = Ec2Metadata(again)
    assert restarted.verify_identity(document, signature)
    assert not restarted.verify_identity(document.replace(b"0123", b"9999"), signature)
    assert not restarted.verify_identity(document, "AAAA" + signature[4:])
    other = Ec2(SqliteStore(":memory:"), clock, no_runtime=None)
    assert not Ec2Metadata(other).verify_identity(document, signature)
