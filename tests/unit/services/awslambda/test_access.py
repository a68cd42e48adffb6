"""What IAM weighs for Lambda operations: the function (and qualifier) ARN, InvokeFunction,
and the role passed to Lambda."""

from __future__ import annotations

from typing import Any

from dockyard.api.access import AccessRequest
from dockyard.services.awslambda.access import access

BASE = "arn:aws:lambda:us-east-1:000000000000:function"


def pairs(operation: str, **params: Any) -> list[tuple[str, str]]:
    req = AccessRequest("000000000000", "us-east-1", operation, params)
    return [(a.action, a.resource) for a in access()(req)]


def test_invoke_is_invoke_function_on_the_qualified_arn() -> None:
    assert pairs("Invoke", FunctionName="fn") == [("lambda:InvokeFunction", f"{BASE}:fn")]
    assert pairs("Invoke", FunctionName="fn", Qualifier="live") == [
        ("lambda:InvokeFunction", f"{BASE}:fn:live")
    ]
    assert pairs("Invoke", FunctionName="fn:2") == [("lambda:InvokeFunction", f"{BASE}:fn:2")]
    assert pairs("GetFunction", FunctionName=f"{BASE}:fn") == [("lambda:GetFunction", f"{BASE}:fn")]


def test_create_passes_the_role_to_lambda() -> None:
    role = "arn:aws:iam::000000000000:role/fn"
    assert pairs("CreateFunction", FunctionName="fn", Role=role) == [
        ("lambda:CreateFunction", f"{BASE}:fn"),
        ("iam:PassRole", role),
    ]
    assert pairs("ListFunctions") == [("lambda:ListFunctions", "*")]
