"""Policy documents: parsed and validated as IAM validates them.

IAM answers `MalformedPolicyDocument` with a short reason; `PolicyError` carries that reason.
A document is parsed once (at the API call that stores it, and again when loaded) into typed
statements; evaluation never re-reads the JSON. Sizes are checked before parsing (IAM does not
count whitespace), and the shape allows no nesting beyond what the grammar has, so no document
can make the parser or the evaluator work hard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

VERSIONS = ("2012-10-17", "2008-10-17")
MAX_ITEMS = 1000  # actions, resources, condition values, statements: far above IAM's sizes


class PolicyError(ValueError):
    """A document IAM would refuse; the message is IAM's reason."""


class PolicyKind(StrEnum):
    IDENTITY = "identity"  # managed and inline policies of users, groups, roles
    TRUST = "trust"  # a role's AssumeRolePolicyDocument
    RESOURCE = "resource"  # bucket policies and the like


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class Principals:
    """`Principal`/`NotPrincipal`: `*` (anyone) or values per kind (AWS, Service, Federated,
    CanonicalUser). AWS values are normalised: an account id becomes its root ARN."""

    anyone: bool = False
    by_kind: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConditionClause:
    operator: str  # as written: "StringLike", "ForAnyValue:StringEquals", "DateLessThanIfExists"
    key: str  # lower-cased: context keys are case-insensitive
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    effect: Effect
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: Principals | None = None
    not_principals: Principals | None = None
    conditions: tuple[ConditionClause, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str = "2008-10-17"
    source: str = ""  # who it is (a policy ARN, "user/alice/inline-name"): for simulation


STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}
PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


def policy_size(text: str) -> int:
    """The size IAM counts against its limits: the characters that are not whitespace."""
    return sum(1 for c in text if not c.isspace())


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError(f"Policy statement must contain {what}.")
    if len(items) > MAX_ITEMS:
        raise PolicyError("Syntax errors in policy.")
    for item in items:
        if not isinstance(item, str):
            raise PolicyError("Syntax errors in policy.")
    return tuple(items)


def _action(value: str) -> str:
    if value == "*":
        return value
    vendor, sep, name = value.partition(":")
    if not sep or not vendor or not name or ":" in name:
        raise PolicyError(
            f"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. "
            f"(Action: {value})"
        )
    return value


def _resource(value: str) -> str:
    if value == "*":
        return value
    if not value.startswith("arn:") or value.count(":") < 5:
        raise PolicyError(f'Resource {value} must be in ARN format or "*".')
    return value


def _principals(value: Any, kind: PolicyKind) -> Principals:
    if value == "*":
        return Principals(anyone=True)
    if not isinstance(value, dict) or not value:
        raise PolicyError("Invalid principal in policy.")
    by_kind: dict[str, tuple[str, ...]] = {}
    for name, raw in value.items():
        if name not in PRINCIPAL_KINDS:
            raise PolicyError(f'Invalid principal in policy: "{name}"')
        values = _strings(raw, "a principal")
        if name == "AWS":
            values = tuple(_aws_principal(v) for v in values)
        by_kind[name] = values
    return Principals(by_kind=by_kind)


def _aws_principal(value: str) -> str:
    if value == "*":
        return value
    if len(value) == 12 and value.isdigit():
        return f"arn:aws:iam::{value}:root"
    if value.startswith("arn:aws:iam::") or value.startswith("arn:aws:sts::"):
        return value
    raise PolicyError(f'Invalid principal in policy: "AWS":"{value}"')


def _conditions(value: Any) -> tuple[ConditionClause, ...]:
    from dockyard.core.iampolicy.conditions import check_operator

    if not isinstance(value, dict):
        raise PolicyError("Syntax errors in policy.")
    clauses: list[ConditionClause] = []
    for operator, block in value.items():
        check_operator(operator)
        if not isinstance(block, dict) or not block:
            raise PolicyError("Syntax errors in policy.")
        for key, raw in block.items():
            if ":" not in key:
                raise PolicyError(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. "
                    f"(Condition key: {key})"
                )
            items = raw if isinstance(raw, list) else [raw]
            if len(items) > MAX_ITEMS:
                raise PolicyError("Syntax errors in policy.")
            values: list[str] = []
            for item in items:
                if isinstance(item, bool):
                    values.append("true" if item else "false")
                elif isinstance(item, (str, int, float)):
                    values.append(str(item))
                else:
                    raise PolicyError("Syntax errors in policy.")
            clauses.append(ConditionClause(operator, key.lower(), tuple(values)))
    return tuple(clauses)


def _statement(raw: Any, kind: PolicyKind) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError("Syntax errors in policy.")
    unknown = set(raw) - STATEMENT_KEYS
    if unknown:
        raise PolicyError("Syntax errors in policy.")
    effect = raw.get("Effect")
    if effect is None:
        raise PolicyError("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"Invalid effect: {effect}")
    sid = raw.get("Sid")
    if sid is not None and not (isinstance(sid, str) and (sid == "" or sid.isalnum())):
        raise PolicyError("Statement IDs (SID) must be alpha-numeric.")
    if "Action" in raw and "NotAction" in raw:
        raise PolicyError("Syntax errors in policy.")
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError("Syntax errors in policy.")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError("Syntax errors in policy.")
    if "Action" not in raw and "NotAction" not in raw:
        raise PolicyError("Policy statement must contain actions.")
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if kind is PolicyKind.IDENTITY:
        if has_principal:
            raise PolicyError("Policy document should not specify a principal.")
        if "Resource" not in raw and "NotResource" not in raw:
            raise PolicyError("Policy statement must contain resources.")
    elif not has_principal:
        raise PolicyError("Missing required field Principal")
    if kind is PolicyKind.TRUST and ("Resource" in raw or "NotResource" in raw):
        raise PolicyError("Has prohibited field Resource")

    def opt(name: str, check: Any) -> tuple[str, ...] | None:
        if name not in raw:
            return None
        return tuple(check(v) for v in _strings(raw[name], name.lower().replace("not", "")))

    return Statement(
        effect=Effect(effect),
        sid=sid or None,
        actions=opt("Action", _action),
        not_actions=opt("NotAction", _action),
        resources=opt("Resource", _resource),
        not_resources=opt("NotResource", _resource),
        principals=_principals(raw["Principal"], kind) if "Principal" in raw else None,
        not_principals=_principals(raw["NotPrincipal"], kind) if "NotPrincipal" in raw else None,
        conditions=_conditions(raw["Condition"]) if "Condition" in raw else (),
    )


def parse_policy(
    text: str,
    kind: PolicyKind = PolicyKind.IDENTITY,
    *,
    max_size: int | None = None,
    source: str = "",
) -> Policy:
    """The document `text`, validated; raises `PolicyError` with IAM's reason."""
    if max_size is not None and policy_size(text) > max_size:
        raise PolicyError(f"Cannot exceed quota for PolicySize: {max_size}")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise PolicyError("This policy contains invalid Json") from None
    if not isinstance(doc, dict):
        raise PolicyError("Syntax errors in policy.")
    if set(doc) - {"Version", "Id", "Statement"}:
        raise PolicyError("Syntax errors in policy.")
    version = doc.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError("The policy must contain a valid version string")
    if "Statement" not in doc:
        raise PolicyError("Missing required field Statement")
    raw = doc["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_ITEMS:
        raise PolicyError("Syntax errors in policy.")
    statements = tuple(_statement(item, kind) for item in items)
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise PolicyError("Statement IDs (SID) in a single policy must be unique.")
    return Policy(statements, version=str(version), source=source)
