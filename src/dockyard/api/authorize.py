"""Authorization of a signed request: the caller's identity-based policies (from IAM,
through `PolicySource`) evaluated for each (action, resource) the operation acts on, with the
request's condition keys. The account root (the auth file's keys) is never limited by
identity-based policies. Denied answers AWS's error in the request's protocol."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.api.access import Access
from dockyard.core.errors import ServiceError
from dockyard.core.iampolicy import Decision, Policy, Request, evaluate
from dockyard.core.principals import Permissions, PolicySource, Principal, PrincipalKind

QUERY_PROTOCOLS = ("query", "ec2", "rest-xml")
# Services that moved off the query protocol but kept its error codes (CloudWatch now speaks
# CBOR and still answers AccessDenied).
QUERY_CODES = ("cloudwatch:",)


class AccessDenied(ServiceError):
    # AWS's common errors: AccessDeniedException, HTTP 403 (AccessDenied in query services).
    code = "AccessDeniedException"
    status = 403


def denied(principal: Principal, access: Access, decision: Decision, protocol: str) -> AccessDenied:
    """AWS's words: who, which action on which resource, and why."""
    head = (
        f"User: {principal.arn} is not authorized to perform: {access.action} on resource: "
        f"{access.resource}"
    )
    if decision.denied_in:
        article = "an" if decision.denied_in[0] in "aeiou" else "a"
        message = f"{head} with an explicit deny in {article} {decision.denied_in}"
    else:
        kind = decision.limited or "identity-based policy"
        message = f"{head} because no {kind} allows the {access.action} action"
    if protocol == "ec2":  # EC2's own code, and its sentence first
        return AccessDenied(
            f"You are not authorized to perform this operation. {message}",
            code="UnauthorizedOperation",
            status=403,
        )
    if protocol in QUERY_PROTOCOLS or access.action.startswith(QUERY_CODES):
        return AccessDenied(message, code="AccessDenied", status=403)
    return AccessDenied(message)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _request_tags(params: Mapping[str, Any]) -> dict[str, str]:
    """Tags a request asks to set (aws:RequestTag/*), from the usual shapes: a list of
    Key/Value (or key/value) pairs, or a map."""
    out: dict[str, str] = {}
    for name in ("Tags", "tags"):
        raw = params.get(name)
        if isinstance(raw, Mapping):
            out.update({str(k): str(v) for k, v in raw.items()})
        elif isinstance(raw, list):
            for item in raw:
                if isinstance(item, Mapping):
                    key = item.get("Key", item.get("key"))
                    if isinstance(key, str):
                        out[key] = str(item.get("Value", item.get("value", "")))
    return out


def base_context(
    principal: Principal,
    permissions: Permissions,
    *,
    source_ip: str | None,
    secure: bool,
    region: str,
    now: float,
    params: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """The global condition keys of a request (lower-cased names)."""
    ctx: dict[str, list[str]] = {
        "aws:currenttime": [_iso(now)],
        "aws:epochtime": [str(int(now))],
        "aws:securetransport": ["true" if secure else "false"],
        "aws:principalarn": [principal.role_arn or principal.arn],
        "aws:principalaccount": [principal.account_id],
        "aws:principaltype": [str(principal.kind)],
        "aws:userid": [principal.user_id],
        "aws:requestedregion": [region],
    }
    if source_ip:
        ctx["aws:sourceip"] = [source_ip]
    if principal.kind is PrincipalKind.USER:
        ctx["aws:username"] = [principal.name]
    for key, value in permissions.tags.items():
        ctx[f"aws:principaltag/{key.lower()}"] = [value]
    if params:
        tags = _request_tags(params)
        for key, value in tags.items():
            ctx[f"aws:requesttag/{key.lower()}"] = [value]
        if tags:
            ctx["aws:tagkeys"] = list(tags)
    return ctx


def caller_of(principal: Principal) -> dict[str, list[str]]:
    """The caller as a resource or trust policy's `Principal` element matches it."""
    aws = [principal.arn, f"arn:aws:iam::{principal.account_id}:root"]
    if principal.role_arn:
        aws.append(principal.role_arn)
    return {"AWS": aws}


class Authorizer:
    def __init__(self, policies: PolicySource) -> None:
        self.policies = policies

    def permissions(self, principal: Principal) -> Permissions:
        if principal.is_root:
            return Permissions()
        return self.policies.permissions(principal)

    def decide(
        self,
        principal: Principal,
        access: Access,
        context: Mapping[str, Sequence[str]],
        permissions: Permissions,
        resource_policy: Policy | None = None,
    ) -> Decision | None:
        """None: allowed without evaluation (the account root); else the decision."""
        ctx = dict(context)
        if access.tags:
            for key, value in access.tags.items():
                ctx[f"aws:resourcetag/{key.lower()}"] = [value]
        ctx.update(access.context)
        request = Request(access.action, access.resource, ctx, caller_of(principal))
        if resource_policy is None:
            resource_policy = access.policy
        if principal.is_root and resource_policy is None:
            return None
        policies = () if principal.is_root else permissions.policies
        decision = evaluate(
            request,
            policies,
            resource_policy,
            boundary=permissions.boundary,
            session=permissions.session,
        )
        if principal.is_root and not decision.denied_in:
            return None  # the root is only held back by an explicit deny of a resource policy
        return decision

    def check(
        self,
        principal: Principal,
        accesses: Sequence[Access],
        context: Mapping[str, Sequence[str]],
        protocol: str,
        permissions: Permissions | None = None,
        resource_policy: Policy | None = None,
    ) -> None:
        """Raise AWS's access-denied error for the first pair not allowed."""
        perms = permissions if permissions is not None else self.permissions(principal)
        for access in accesses:
            decision = self.decide(principal, access, context, perms, resource_policy)
            if decision is not None and not decision.allowed:
                raise denied(principal, access, decision, protocol)
