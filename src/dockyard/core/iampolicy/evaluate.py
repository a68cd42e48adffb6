"""AWS's policy evaluation logic within one account: an explicit Deny in any applicable
policy wins; otherwise an Allow in an identity-based or resource-based policy allows;
otherwise the request is implicitly denied. Session policies and permissions boundaries,
when given, must also allow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dockyard.core.iampolicy.arns import action_like, arn_like
from dockyard.core.iampolicy.conditions import VARIABLE_OPERATORS, holds, split_operator
from dockyard.core.iampolicy.document import Effect, Policy, Principals, Statement
from dockyard.core.iampolicy.variables import substitute


class Outcome(StrEnum):
    # The names SimulatePrincipalPolicy answers in EvalDecision.
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True, slots=True)
class Request:
    action: str  # "ssm:GetParameter"
    resource: str  # an ARN, or "*"
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)  # lower-cased keys
    # Who calls, as the Principal element of a resource or trust policy sees it:
    # {"AWS": [caller ARN, role ARN, account root ARN], "Service": [...]}.
    principal: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    source: str  # the policy's source (its ARN or name)
    index: int  # the statement's position in it
    effect: Effect


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    # When denied explicitly: "identity-based policy", "resource-based policy", ...
    denied_in: str = ""
    matches: tuple[Match, ...] = ()
    # Implicitly denied because a limiting policy ("permissions boundary", "session policy")
    # does not allow what the identity-based policies do.
    limited: str = ""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


def _principal_matches(principals: Principals, caller: Mapping[str, Sequence[str]]) -> bool:
    if principals.anyone:
        return True
    for kind, values in principals.by_kind.items():
        have = caller.get(kind, ())
        for wanted in values:
            if wanted == "*" and have:
                return True
            if any(arn_like(h, wanted) if kind == "AWS" else h == wanted for h in have):
                return True
    return False


def _values(policy: Policy, values: Sequence[str], request: Request) -> list[str]:
    if policy.version != "2012-10-17":
        return list(values)
    out: list[str] = []
    for value in values:
        replaced = substitute(value, request.context)
        if replaced is not None:
            out.append(replaced)
    return out


def _conditions_hold(policy: Policy, statement: Statement, request: Request) -> bool:
    for clause in statement.conditions:
        wanted: Sequence[str] = clause.values
        _, base, _ = split_operator(clause.operator)
        if base.startswith(VARIABLE_OPERATORS):
            wanted = _values(policy, clause.values, request)
        if not holds(clause.operator, request.context.get(clause.key), wanted):
            return False
    return True


def statement_applies(policy: Policy, statement: Statement, request: Request) -> bool:
    if statement.actions is not None:
        if not any(action_like(request.action, a) for a in statement.actions):
            return False
    elif statement.not_actions is not None and any(
        action_like(request.action, a) for a in statement.not_actions
    ):
        return False
    if statement.resources is not None:
        patterns = _values(policy, statement.resources, request)
        if not any(arn_like(request.resource, r) for r in patterns):
            return False
    elif statement.not_resources is not None:
        patterns = _values(policy, statement.not_resources, request)
        if any(arn_like(request.resource, r) for r in patterns):
            return False
    if statement.principals is not None and not _principal_matches(
        statement.principals, request.principal
    ):
        return False
    if statement.not_principals is not None and _principal_matches(
        statement.not_principals, request.principal
    ):
        return False
    return _conditions_hold(policy, statement, request)


def _scan(policies: Sequence[Policy], request: Request) -> list[Match]:
    found: list[Match] = []
    for policy in policies:
        for index, statement in enumerate(policy.statements):
            if statement_applies(policy, statement, request):
                found.append(Match(policy.source, index, statement.effect))
    return found


def evaluate(
    request: Request,
    identity_policies: Sequence[Policy],
    resource_policy: Policy | None = None,
    *,
    boundary: Sequence[Policy] | None = None,
    session: Sequence[Policy] | None = None,
) -> Decision:
    """The decision for `request` given the caller's identity-based policies, the target's
    resource-based policy (if any), and the policies that limit the identity-based ones (a
    permissions boundary, a session policy: each must allow too), within one account."""
    identity = _scan(identity_policies, request)
    resource = _scan([resource_policy], request) if resource_policy is not None else []
    limits = [
        (name, _scan(policies, request))
        for name, policies in (("permissions boundary", boundary), ("session policy", session))
        if policies is not None
    ]
    for where, matches in (
        ("identity-based policy", identity),
        ("resource-based policy", resource),
        *limits,
    ):
        denies = tuple(m for m in matches if m.effect is Effect.DENY)
        if denies:
            return Decision(Outcome.EXPLICIT_DENY, where, denies)
    allows = tuple(m for m in identity if m.effect is Effect.ALLOW)
    limited = ""
    for name, matches in limits:
        if allows and not any(m.effect is Effect.ALLOW for m in matches):
            limited, allows = name, ()
    # A resource-based policy naming the principal allows whatever limits the identity.
    allows += tuple(m for m in resource if m.effect is Effect.ALLOW)
    if allows:
        return Decision(Outcome.ALLOWED, "", allows)
    return Decision(Outcome.IMPLICIT_DENY, limited=limited)
