# ruff: noqa: E501
"""STS as the task roles' credential issuer and as a key directory: trust checked for the
service principal, credentials that sign as the assumed role until they expire."""

from __future__ import annotations

import json

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.principals import KeyRejected, PrincipalKind
from dockyard.core.rolecredentials import RoleUnavailable
from dockyard.services.iam import Iam
from dockyard.services.sts import Sts
from dockyard.store import SqliteStore

ACCOUNT = "111122223333"


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def iam(clock: ManualClock) -> Iam:
    iam = Iam(SqliteStore(":memory:"), clock)
    iam.identities.create_role(
        ACCOUNT, "task", "/", trust("ecs-tasks.amazonaws.com"), None, None, {}
    )
    iam.identities.create_role(
        ACCOUNT, "lambda", "/", trust("lambda.amazonaws.com"), None, None, {}
    )
    return iam


@pytest.fixture
def sts(iam: Iam, clock: ManualClock) -> Sts:
    return Sts(clock, b"k" * 32, roles=iam, policies=iam)


def test_issue_for_a_role_that_trusts_ecs_tasks(sts: Sts, clock: ManualClock) -> None:
    creds = sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/task", "task-1234")
    assert creds.access_key_id.startswith("ASIA")
    assert creds.expiration == clock.now() + 3600
    assert creds.role_arn == f"arn:aws:iam::{ACCOUNT}:role/task"
    key = sts.signing_key(creds.access_key_id, creds.session_token, clock.now())
    assert key is not None and key.secret == creds.secret_access_key
    assert key.principal.kind is PrincipalKind.ASSUMED_ROLE
    assert key.principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/task/task-1234"


def test_a_role_that_does_not_trust_the_service_is_unavailable(sts: Sts) -> None:
    with pytest.raises(RoleUnavailable, match=r"does not allow ecs-tasks\.amazonaws\.com"):
        sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/lambda", "t")
    with pytest.raises(RoleUnavailable, match="does not exist"):
        sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/nope", "t")
    with pytest.raises(RoleUnavailable):
        sts.issue("999999999999", f"arn:aws:iam::{ACCOUNT}:role/task", "t")


def test_credentials_expire_and_tokens_cannot_be_swapped(sts: Sts, clock: ManualClock) -> None:
    one = sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/task", "a")
    two = sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/task", "b")
    with pytest.raises(KeyRejected) as exc:
        sts.signing_key(one.access_key_id, two.session_token, clock.now())
    assert exc.value.reason == "invalid"
    with pytest.raises(KeyRejected):
        sts.signing_key(one.access_key_id, None, clock.now())
    assert sts.signing_key("AKIAEXAMPLE", None, clock.now()) is None
    clock.advance(3600)
    with pytest.raises(KeyRejected) as exc:
        sts.signing_key(one.access_key_id, one.session_token, clock.now())
    assert exc.value.reason == "expired"


def test_tokens_from_another_servers_key_are_invalid(
    iam: Iam, sts: Sts, clock: ManualClock
) -> None:
    creds = sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/task", "a")
    other = Sts(clock, b"o" * 32, roles=iam, policies=iam)
    with pytest.raises(KeyRejected):
        other.signing_key(creds.access_key_id, creds.session_token, clock.now())


def test_a_role_created_again_does_not_inherit_old_sessions(
    iam: Iam, sts: Sts, clock: ManualClock
) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]})  # fmt: skip
    iam.policies.put_inline(ACCOUNT, "role", "task", "p", policy)
    creds = sts.issue(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/task", "a")
    key = sts.signing_key(creds.access_key_id, creds.session_token, clock.now())
    assert key is not None
    assert len(iam.permissions(key.principal).policies) == 1
    iam.policies.delete_inline(ACCOUNT, "role", "task", "p")
    iam.identities.delete_role(ACCOUNT, "task")
    iam.identities.create_role(
        ACCOUNT, "task", "/", trust("ecs-tasks.amazonaws.com"), None, None, {}
    )
    iam.policies.put_inline(ACCOUNT, "role", "task", "p", policy)
    assert not iam.permissions(key.principal).policies
