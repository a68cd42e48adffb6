"""Registry tokens carry the principal they were issued to (a user, a role session)."""

from __future__ import annotations

from dockyard.core.principals import Principal, PrincipalKind, root_principal
from dockyard.services.ecr.tokens import Caller, Tokens


def test_a_role_session_round_trips_with_its_session_policy() -> None:
    tokens = Tokens(b"k" * 32)
    who = Principal(
        account_id="123456789012",
        kind=PrincipalKind.ASSUMED_ROLE,
        arn="arn:aws:sts::123456789012:assumed-role/exec/task-1",
        user_id="AROAEXAMPLE:task-1",
        name="exec",
        role_arn="arn:aws:iam::123456789012:role/exec",
        session_name="task-1",
        session_policy='{"Version":"2012-10-17","Statement":[]}',
    )
    caller = tokens.check(tokens.issue(Caller("123456789012", "us-east-1", "ASIA1", 10.0, who)), 0)
    assert caller is not None and caller.who() == Principal(**{
        **{f: getattr(who, f) for f in who.__slots__}, "access_key_id": "ASIA1",
    })  # fmt: skip


def test_a_root_token_names_the_account_root() -> None:
    tokens = Tokens(b"k" * 32)
    root = root_principal("123456789012", "AKID")
    caller = tokens.check(tokens.issue(Caller("123456789012", "us-east-1", "AKID", 10.0, root)), 0)
    assert caller is not None and caller.principal is None
    assert caller.who() == root
