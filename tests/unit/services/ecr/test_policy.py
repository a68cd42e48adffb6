"""Repository policies for callers of another account."""

from __future__ import annotations

import json
from typing import Any

from dockyard.services.ecr.policy import allows

B = "222222222222"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any, action: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


def test_principals_and_actions() -> None:
    assert allows(doc(allow("*", "ecr:*")), B, "ecr:BatchGetImage")
    assert allows(doc(allow({"AWS": B}, "ecr:BatchGetImage")), B, "ecr:BatchGetImage")
    assert allows(doc(allow({"AWS": [f"arn:aws:iam::{B}:root"]}, ["ecr:Batch*"])), B,
                  "ecr:BatchGetImage")  # fmt: skip
    assert not allows(doc(allow({"AWS": "333333333333"}, "ecr:*")), B, "ecr:BatchGetImage")
    assert not allows(doc(allow("*", "ecr:PutImage")), B, "ecr:BatchGetImage")
    assert not allows(None, B, "ecr:BatchGetImage")
    assert not allows("not json", B, "ecr:BatchGetImage")


def test_deny_wins_and_conditions_never_allow() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}
    assert not allows(doc(allow("*", "ecr:*"), deny), B, "ecr:BatchGetImage")
    assert allows(doc(allow("*", "ecr:*"), deny), B, "ecr:GetDownloadUrlForLayer")
    conditional = allow("*", "ecr:*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o"}})
    assert not allows(doc(conditional), B, "ecr:BatchGetImage")
