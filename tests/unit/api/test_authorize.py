"""The authorizer: the account root is never limited by identity-based policies (only by an
explicit deny of a resource policy), users by their policies and a resource policy, with
AWS's words when denied."""

from __future__ import annotations

import json

import pytest

from dockyard.api.access import Access
from dockyard.api.authorize import AccessDenied, Authorizer
from dockyard.core.iampolicy import Policy, PolicyKind, parse_policy
from dockyard.core.principals import Permissions, Principal, PrincipalKind, root_principal

ACCOUNT = "111122223333"
ALICE = Principal(
    ACCOUNT, PrincipalKind.USER, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDA1", "alice"
)
BUCKET = "arn:aws:s3:::media/photo.png"


def doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Policies:
    def __init__(self, *policies: Policy) -> None:
        self.policies = policies

    def permissions(self, principal: Principal) -> Permissions:
        return Permissions(self.policies)


def bucket_policy(effect: str, principal: str) -> Policy:
    return parse_policy(
        doc({"Effect": effect, "Principal": {"AWS": principal}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::media/*"}),
        PolicyKind.RESOURCE,
    )  # fmt: skip


def test_root_is_not_limited_by_identity_policies() -> None:
    auth = Authorizer(Policies())
    auth.check(root_principal(ACCOUNT), [Access("ssm:DeleteParameter", "*")], {}, "json")


def test_root_is_held_back_by_an_explicit_deny_of_a_resource_policy() -> None:
    auth = Authorizer(Policies())
    deny = bucket_policy("Deny", "*")
    with pytest.raises(AccessDenied) as exc:
        auth.check(root_principal(ACCOUNT), [Access("s3:GetObject", BUCKET)], {}, "rest-xml",
                   resource_policy=deny)  # fmt: skip
    assert exc.value.code == "AccessDenied"
    assert "with an explicit deny in a resource-based policy" in exc.value.message


def test_a_resource_policy_naming_the_user_allows_without_identity_policy() -> None:
    auth = Authorizer(Policies())
    allow = bucket_policy("Allow", ALICE.arn)
    auth.check(ALICE, [Access("s3:GetObject", BUCKET)], {}, "rest-xml", resource_policy=allow)
    with pytest.raises(AccessDenied):
        auth.check(ALICE, [Access("s3:PutObject", BUCKET)], {}, "rest-xml", resource_policy=allow)


def test_denied_messages_as_aws_writes_them() -> None:
    resource = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/x"
    auth = Authorizer(Policies())
    with pytest.raises(AccessDenied) as exc:
        auth.check(ALICE, [Access("ssm:GetParameter", resource)], {}, "json")
    assert exc.value.code == "AccessDeniedException" and exc.value.status == 403
    assert exc.value.message == (
        f"User: {ALICE.arn} is not authorized to perform: ssm:GetParameter on resource: "
        f"{resource} because no identity-based policy allows the ssm:GetParameter action"
    )
    denying = Authorizer(Policies(parse_policy(doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}))))  # fmt: skip
    with pytest.raises(AccessDenied) as exc:
        denying.check(ALICE, [Access("ssm:GetParameter", resource)], {}, "query")
    assert exc.value.code == "AccessDenied" and exc.value.status == 403
    assert exc.value.message.endswith("with an explicit deny in an identity-based policy")


def test_ec2_denies_with_unauthorized_operation() -> None:
    resource = f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-0123456789abcdef0"
    with pytest.raises(AccessDenied) as exc:
        Authorizer(Policies()).check(ALICE, [Access("ec2:DeleteVpc", resource)], {}, "ec2")
    assert (exc.value.code, exc.value.status) == ("UnauthorizedOperation", 403)
    assert exc.value.message.startswith("You are not authorized to perform this operation. ")
    assert f"ec2:DeleteVpc on resource: {resource}" in exc.value.message


def test_every_pair_must_be_allowed() -> None:
    only_ecs = Authorizer(Policies(parse_policy(doc(
        {"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}))))  # fmt: skip
    role = f"arn:aws:iam::{ACCOUNT}:role/app"
    pairs = [Access("ecs:RegisterTaskDefinition", "*"), Access("iam:PassRole", role)]
    with pytest.raises(AccessDenied) as exc:
        only_ecs.check(ALICE, pairs, {}, "json")
    assert f"iam:PassRole on resource: {role}" in exc.value.message
