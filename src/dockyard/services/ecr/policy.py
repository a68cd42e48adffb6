"""Repository policies, evaluated for callers of another account (a repository's own
account reaches it through its own identity).

A statement applies when its `Principal` names the caller's account (`"*"`, the account
id, or `arn:aws:iam::<account>:root`) and its `Action` matches (`ecr:*`, wildcards). A
matching `Deny` wins over any `Allow`; no match is an implicit deny. Statements with a
`Condition`, a `NotPrincipal` or a `NotAction` are not understood here and never allow
(they still deny when they are Deny statements whose other parts match).
"""

from __future__ import annotations

import json
from typing import Any

from dockyard.core.wildcard import compile_wildcard

PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
PUSH = (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, account_id: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entry in _list(principal.get("AWS")):
        if not isinstance(entry, str):
            continue
        if entry in ("*", account_id, f"arn:aws:iam::{account_id}:root"):
            return True
    return False


def _action_matches(actions: Any, action: str) -> bool:
    for pattern in _list(actions):
        if isinstance(pattern, str) and compile_wildcard(pattern.lower(), single=True)(
            action.lower()
        ):
            return True
    return False


def allows(policy_text: str | None, account_id: str, action: str) -> bool:
    """Whether the policy lets `account_id` (another account) do `action`."""
    if not policy_text:
        return False
    try:
        doc = json.loads(policy_text)
    except ValueError:
        return False
    statements = _list(doc.get("Statement")) if isinstance(doc, dict) else []
    allowed = False
    for st in statements:
        if not isinstance(st, dict):
            continue
        if not _principal_matches(st.get("Principal"), account_id):
            continue
        if not _action_matches(st.get("Action"), action):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow" and not (
            "Condition" in st or "NotPrincipal" in st or "NotAction" in st
        ):
            allowed = True
    return allowed
