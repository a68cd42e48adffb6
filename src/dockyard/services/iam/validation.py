"""IAM's checks on names, paths and policy documents."""

from __future__ import annotations

import re

from dockyard.core.iampolicy import Policy, PolicyError, PolicyKind, parse_policy
from dockyard.services.iam.errors import LimitExceeded, MalformedPolicyDocument, ValidationError

NAME = re.compile(r"[\w+=,.@-]+")
PATH = re.compile(r"/([\x21-\x7e]*/)?")
MAX_TAGS = 50

# IAM's quotas on document sizes (characters, whitespace not counted).
MANAGED_MAX = 6144
USER_INLINE_MAX = 2048
GROUP_INLINE_MAX = 5120
ROLE_INLINE_MAX = 10240
TRUST_MAX = 2048


def name(value: str, field: str = "userName") -> str:
    if not NAME.fullmatch(value):
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )
    return value


def path(value: str | None) -> str:
    if value is None:
        return "/"
    if not PATH.fullmatch(value):
        raise ValidationError(
            "The specified value for path is invalid. It must begin and end with / and "
            f"contain only alphanumeric characters and/or / characters. (Path: {value})"
        )
    return value


def document(text: str, kind: PolicyKind, max_size: int, source: str = "") -> Policy:
    try:
        return parse_policy(text, kind, max_size=max_size, source=source)
    except PolicyError as err:
        if str(err).startswith("Cannot exceed quota"):
            raise LimitExceeded(str(err)) from None
        raise MalformedPolicyDocument(str(err)) from None


def tags(raw: list[dict[str, str]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in raw or []:
        out[item["Key"]] = item.get("Value", "")
    if len(out) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return out
