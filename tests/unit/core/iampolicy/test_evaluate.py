# ruff: noqa: E501
"""The evaluator against AWS's documented policy evaluation logic, one table per concern."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.core.iampolicy import (
    Outcome,
    PolicyError,
    PolicyKind,
    Request,
    evaluate,
    parse_policy,
)
from dockyard.core.iampolicy.conditions import holds
from dockyard.core.iampolicy.variables import substitute

ARN = "arn:aws:ssm:us-east-1:111122223333:parameter/app/x"


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def decide(statements: list[dict[str, Any]], action: str = "ssm:GetParameter",
           resource: str = ARN, **context: list[str]) -> Outcome:  # fmt: skip
    policies = [parse_policy(doc(*statements))] if statements else []
    return evaluate(Request(action, resource, context), policies).outcome


A = {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}
D = {"Effect": "Deny", "Action": "ssm:GetParameter", "Resource": "*"}


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([], Outcome.IMPLICIT_DENY),
        ([A], Outcome.ALLOWED),
        ([D], Outcome.EXPLICIT_DENY),
        ([A, D], Outcome.EXPLICIT_DENY),
        ([D, A], Outcome.EXPLICIT_DENY),
        ([{**A, "Action": "ssm:Put*"}], Outcome.IMPLICIT_DENY),
        ([{**A, "Action": "*"}], Outcome.ALLOWED),
        ([{**A, "Action": "ssm:get*"}], Outcome.ALLOWED),
        ([{"Effect": "Allow", "NotAction": "ssm:Put*", "Resource": "*"}], Outcome.ALLOWED),
        ([{"Effect": "Allow", "NotAction": "ssm:Get*", "Resource": "*"}], Outcome.IMPLICIT_DENY),
        ([{**A, "Resource": "arn:aws:ssm:*:*:parameter/app/*"}], Outcome.ALLOWED),
        ([{**A, "Resource": "arn:aws:ssm:*:*:parameter/ap?/x"}], Outcome.ALLOWED),
        ([{**A, "Resource": "arn:aws:ssm:*:*:parameter/APP/*"}], Outcome.IMPLICIT_DENY),
        ([{**A, "Resource": "arn:aws:ssm:eu-*:*:parameter/app/*"}], Outcome.IMPLICIT_DENY),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "ssm:*",
                    "NotResource": "arn:aws:ssm:*:*:parameter/app/*",
                }
            ],
            Outcome.IMPLICIT_DENY,
        ),
        ([A, {"Effect": "Deny", "Action": "*", "NotResource": ARN}], Outcome.ALLOWED),
    ],
)
def test_actions_resources_and_deny_precedence(
    statements: list[dict[str, Any]], expected: Outcome
) -> None:
    assert decide(statements) is expected


@pytest.mark.parametrize(
    ("operator", "actual", "wanted", "expected"),
    [
        ("StringEquals", ["a"], ["a"], True),
        ("StringEquals", ["a"], ["b", "a"], True),
        ("StringEquals", None, ["a"], False),
        ("StringNotEquals", ["a"], ["a"], False),
        ("StringNotEquals", None, ["a"], True),
        ("StringEqualsIfExists", None, ["a"], True),
        ("StringEqualsIfExists", ["b"], ["a"], False),
        ("StringLike", ["app-prod"], ["app-*"], True),
        ("StringNotLike", ["app-prod"], ["app-*"], False),
        ("StringEqualsIgnoreCase", ["ABC"], ["abc"], True),
        ("NumericLessThan", ["5"], ["10"], True),
        ("NumericGreaterThanEquals", ["10"], ["10"], True),
        ("NumericEquals", ["x"], ["10"], False),
        ("DateLessThan", ["2020-01-01T00:00:00Z"], ["2021-01-01T00:00:00Z"], True),
        ("DateGreaterThan", ["1700000000"], ["2020-01-01T00:00:00Z"], True),
        ("Bool", ["true"], ["true"], True),
        ("Bool", ["false"], ["true"], False),
        ("IpAddress", ["10.1.2.3"], ["10.0.0.0/8"], True),
        ("IpAddress", ["192.168.1.1"], ["10.0.0.0/8"], False),
        ("IpAddress", ["2001:db8::1"], ["2001:db8::/32"], True),
        ("NotIpAddress", ["10.1.2.3"], ["10.0.0.0/8"], False),
        ("ArnLike", ["arn:aws:iam::1:role/app"], ["arn:aws:iam::*:role/*"], True),
        ("ArnNotLike", ["arn:aws:iam::1:role/app"], ["arn:aws:iam::*:user/*"], True),
        ("Null", None, ["true"], True),
        ("Null", ["x"], ["true"], False),
        ("Null", ["x"], ["false"], True),
        ("ForAnyValue:StringEquals", ["a", "b"], ["b"], True),
        ("ForAnyValue:StringEquals", None, ["b"], False),
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "b", "c"], True),
        ("ForAllValues:StringEquals", ["a", "z"], ["a", "b"], False),
        ("ForAllValues:StringEquals", None, ["a"], True),
        ("ForAnyValue:StringNotEquals", ["a", "z"], ["a"], True),
    ],
)
def test_condition_operators(operator: str, actual: list[str] | None, wanted: list[str],
                             expected: bool) -> None:  # fmt: skip
    assert holds(operator, actual, wanted) is expected


def test_policy_variables() -> None:
    ctx = {"aws:username": ["alice"], "aws:principaltag/team": ["blue"]}
    assert substitute("parameter/home/${aws:username}/*", ctx) == "parameter/home/alice/*"
    assert substitute("x/${aws:PrincipalTag/team}", ctx) == "x/blue"
    assert substitute("x/${aws:missing}", ctx) is None
    assert substitute("x/${aws:missing, 'none'}", ctx) == "x/none"
    assert substitute("${*}${?}${$}", ctx) == "*?$"
    allow = {"Effect": "Allow", "Action": "ssm:*",
             "Resource": "arn:aws:ssm:*:*:parameter/home/${aws:username}/*"}  # fmt: skip
    home = "arn:aws:ssm:us-east-1:1:parameter/home/alice/k"
    assert decide([allow], resource=home, **{"aws:username": ["alice"]}) is Outcome.ALLOWED
    assert decide([allow], resource=home, **{"aws:username": ["bob"]}) is Outcome.IMPLICIT_DENY
    # Version 2008-10-17 has no policy variables: `${...}` is literal text.
    old = parse_policy(doc(allow, version="2008-10-17"))
    request = Request("ssm:GetParameter", home, {"aws:username": ["alice"]})
    assert evaluate(request, [old]).outcome is Outcome.IMPLICIT_DENY


def test_session_policy_limits_identity_permissions() -> None:
    identity = parse_policy(doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}))
    session = parse_policy(doc(A))
    get = Request("ssm:GetParameter", ARN)
    put = Request("ssm:PutParameter", ARN)
    assert evaluate(get, [identity], boundary=[session]).allowed
    assert not evaluate(put, [identity], boundary=[session]).allowed


def test_trust_policy_principals() -> None:
    trust = parse_policy(
        doc({"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": "111122223333", "Service": ["ecs-tasks.amazonaws.com"]}}),
        PolicyKind.TRUST,
    )  # fmt: skip
    ask = Request("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
    by_service = Request(
        ask.action, ask.resource, principal={"Service": ["ecs-tasks.amazonaws.com"]}
    )
    by_root = Request(ask.action, ask.resource,
                      principal={"AWS": ["arn:aws:iam::111122223333:root"]})  # fmt: skip
    by_other = Request(ask.action, ask.resource, principal={"AWS": ["arn:aws:iam::999:root"]})
    assert evaluate(by_service, [], trust).allowed
    assert evaluate(by_root, [], trust).allowed
    assert not evaluate(by_other, [], trust).allowed


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("[]", PolicyKind.IDENTITY, "Syntax errors"),
        ("{", PolicyKind.IDENTITY, "invalid Json"),
        ("[" * 100_000, PolicyKind.IDENTITY, "invalid Json"),
        (doc({"Effect": "Maybe", "Action": "a:b", "Resource": "*"}), PolicyKind.IDENTITY, "effect"),
        (doc({"Effect": "Allow", "Resource": "*"}), PolicyKind.IDENTITY, "actions"),
        (doc({"Effect": "Allow", "Action": "a:b"}), PolicyKind.IDENTITY, "resources"),
        (doc({"Effect": "Allow", "Action": "a:b", "Resource": "*", "Extra": 1}), PolicyKind.IDENTITY, "Syntax"),
        (doc({"Effect": "Allow", "Action": "a:b", "Resource": {"x": 1}}), PolicyKind.IDENTITY, "Syntax"),
        (doc({"Effect": "Allow", "Action": "a:b", "Resource": "*",
              "Condition": {"StringEquals": {"aws:x": [{"deep": 1}]}}}), PolicyKind.IDENTITY, "Syntax"),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), PolicyKind.TRUST, "Principal"),
        (doc({"Sid": "a b", "Effect": "Allow", "Action": "a:b", "Resource": "*"}), PolicyKind.IDENTITY, "SID"),
        (json.dumps({"Version": "2020-01-01", "Statement": []}), PolicyKind.IDENTITY, "version"),
    ],
)  # fmt: skip
def test_malformed_documents(text: str, kind: PolicyKind, reason: str) -> None:
    with pytest.raises(PolicyError) as exc:
        parse_policy(text, kind)
    assert reason.lower() in str(exc.value).lower()


def test_size_counts_no_whitespace() -> None:
    text = doc(A)
    padded = text.replace(",", ",       ")
    parse_policy(padded, max_size=len(text))
    with pytest.raises(PolicyError):
        parse_policy(text, max_size=len(text) - 20)
